//! Label values from fixed sets. Each set is known before any upstream data arrives, so every
//! series can exist from the start and nothing upstream becomes a new label value: an unknown
//! string parses to `None` and is counted, never exported.

/// A label whose values are a fixed set, written by [`LabelValue::as_str`].
pub trait LabelValue: Copy + Eq + Sized + 'static {
    /// Every value, in the order the exporter writes them.
    const ALL: &'static [Self];

    fn as_str(self) -> &'static str;

    /// The value spelt `text`, if the set has it.
    fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|value| value.as_str() == text)
    }
}

/// Which conversations an interactions gauge counts (`oWaiting`, `oInteracting`, `oAlerting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InteractionState {
    Waiting,
    Interacting,
    Alerting,
}

impl LabelValue for InteractionState {
    const ALL: &'static [Self] = &[Self::Waiting, Self::Interacting, Self::Alerting];

    fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Interacting => "interacting",
            Self::Alerting => "alerting",
        }
    }
}

/// A conversation's media type, as Genesys Cloud spells it: the set `media_types` picks the
/// `media_type` label's allow-list from, so a typo fails at start rather than matching nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaType {
    Voice,
    Chat,
    Email,
    Callback,
    Message,
    Cobrowse,
    Video,
    Screenshare,
}

impl LabelValue for MediaType {
    const ALL: &'static [Self] = &[
        Self::Voice,
        Self::Chat,
        Self::Email,
        Self::Callback,
        Self::Message,
        Self::Cobrowse,
        Self::Video,
        Self::Screenshare,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Voice => "voice",
            Self::Chat => "chat",
            Self::Email => "email",
            Self::Callback => "callback",
            Self::Message => "message",
            Self::Cobrowse => "cobrowse",
            Self::Video => "video",
            Self::Screenshare => "screenshare",
        }
    }
}

/// A conversation's direction: the set `directions` picks the `direction` label's values from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl LabelValue for Direction {
    const ALL: &'static [Self] = &[Self::Inbound, Self::Outbound];

    fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }
}

/// The texts of `values`, in order: how the wire and the state file, which speak strings, take
/// a configured set.
pub(crate) fn names<L: LabelValue>(values: &[L]) -> Vec<String> {
    values
        .iter()
        .map(|value| value.as_str().to_owned())
        .collect()
}

/// Per-queue user counts without further labels (`oMemberUsers`, `oOnQueueUsers`,
/// `oActiveUsers`); each is a family of its own, so it has no label text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserCount {
    Members,
    OnQueue,
    Active,
}

impl UserCount {
    pub const ALL: [UserCount; 3] = [Self::Members, Self::OnQueue, Self::Active];
}

/// A queue member's routing status, as Genesys reports it in the `qualifier` of `oUserRoutingStatuses`:
/// the allow-list of the `routing_status` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoutingStatus {
    Idle,
    Interacting,
    Communicating,
    NotResponding,
    OffQueue,
}

impl RoutingStatus {
    /// How many there are: the length of per-status arrays.
    pub const COUNT: usize = 5;
}

impl LabelValue for RoutingStatus {
    const ALL: &'static [Self] = &[
        Self::Idle,
        Self::Interacting,
        Self::Communicating,
        Self::NotResponding,
        Self::OffQueue,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "IDLE",
            Self::Interacting => "INTERACTING",
            Self::Communicating => "COMMUNICATING",
            Self::NotResponding => "NOT_RESPONDING",
            Self::OffQueue => "OFF_QUEUE",
        }
    }
}

/// A presence's system presence (docs/genesys-api.md#status-values): every org presence definition
/// maps to one. The label is upper snake case; upstream spells it either way (`OnQueue` in
/// definitions, `ON_QUEUE` in events), so [`SystemPresence::parse_any_case`] reads both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SystemPresence {
    Available,
    Away,
    Busy,
    Offline,
    Idle,
    OnQueue,
    Meal,
    Training,
    Meeting,
    Break,
}

impl LabelValue for SystemPresence {
    const ALL: &'static [Self] = &[
        Self::Available,
        Self::Away,
        Self::Busy,
        Self::Offline,
        Self::Idle,
        Self::OnQueue,
        Self::Meal,
        Self::Training,
        Self::Meeting,
        Self::Break,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::Away => "AWAY",
            Self::Busy => "BUSY",
            Self::Offline => "OFFLINE",
            Self::Idle => "IDLE",
            Self::OnQueue => "ON_QUEUE",
            Self::Meal => "MEAL",
            Self::Training => "TRAINING",
            Self::Meeting => "MEETING",
            Self::Break => "BREAK",
        }
    }
}

impl SystemPresence {
    /// `text` compared case-insensitively and ignoring `_`: `OnQueue`, `ON_QUEUE`, `onqueue`.
    pub fn parse_any_case(text: &str) -> Option<Self> {
        // NB: every event carries one, so no allocation: bytes compared past underscores.
        Self::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == text || folded(p.as_str()).eq(folded(text)))
    }
}

/// `text`'s bytes past underscores, lower case: how system presences compare.
fn folded(text: &str) -> impl Iterator<Item = u8> + '_ {
    (text.bytes())
        .filter(|b| *b != b'_')
        .map(|b| b.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
