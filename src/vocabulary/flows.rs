//! IVR flows' words (docs/genesys-api.md#ivr-flows): the flow types, as Genesys spells them.

/// Every flow type Genesys has.
pub const FLOW_TYPES: [&str; 20] = [
    "BOT",
    "COMMONMODULE",
    "DIGITALBOT",
    "EMAILSEND",
    "INBOUNDCALL",
    "INBOUNDCHAT",
    "INBOUNDEMAIL",
    "INBOUNDSHORTMESSAGE",
    "INQUEUECALL",
    "INQUEUEEMAIL",
    "INQUEUESHORTMESSAGE",
    "OUTBOUNDCALL",
    "SECURECALL",
    "SPEECH",
    "SURVEYINVITE",
    "VOICE",
    "VOICEMAIL",
    "VOICESURVEY",
    "WORKFLOW",
    "WORKITEM",
];

/// The flows a customer meets first, which the flows source watches by default.
pub const INBOUND_FLOW_TYPES: [&str; 4] = [
    "INBOUNDCALL",
    "INBOUNDCHAT",
    "INBOUNDEMAIL",
    "INBOUNDSHORTMESSAGE",
];
