//! The Genesys analytics metrics the exporter asks for and reads, by name
//! (docs/genesys-api.md#analytics-metrics). Upstream names are parsed once, where a response or a
//! notification is read (`genesys::model::MetricName`); everything after matches on this enum.

/// A Genesys analytics metric we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GenesysMetric {
    OWaiting,
    OInteracting,
    OAlerting,
    OLongestWaiting,
    OLongestInteracting,
    OOnQueueUsers,
    OOffQueueUsers,
    OActiveUsers,
    OMemberUsers,
    OUserRoutingStatuses,
    OUserPresences,
    NOffered,
    NConnected,
    NTransferred,
    TAbandon,
    TAnswered,
    THandle,
    TWait,
    TTalk,
    THeld,
    TAcw,
    NOverSla,
    OServiceLevel,
    NError,
    NStateTransitionError,
    TAgentRoutingStatus,
    TSystemPresence,
    TOrganizationPresence,
    NFlow,
    TFlow,
    TFlowExit,
    TFlowDisconnect,
    NFlowOutcome,
    NFlowMilestone,
    OFlow,
    TTotalExecution,
}

impl GenesysMetric {
    /// The queue observation metrics we ask for (docs/genesys-api.md#queue-observations-query).
    pub const OBSERVATIONS: &'static [Self] = &[
        Self::OWaiting,
        Self::OInteracting,
        Self::OAlerting,
        Self::OLongestWaiting,
        Self::OLongestInteracting,
        Self::OOnQueueUsers,
        Self::OOffQueueUsers,
        Self::OActiveUsers,
        Self::OMemberUsers,
        Self::OUserRoutingStatuses,
        Self::OUserPresences,
    ];

    /// The conversation aggregate metrics we can ask for; `aggregates.metrics` picks
    /// (docs/genesys-api.md#conversation-aggregates-query).
    pub const AGGREGATES: &'static [Self] = &[
        Self::NOffered,
        Self::NConnected,
        Self::NTransferred,
        Self::TAbandon,
        Self::TAnswered,
        Self::THandle,
        Self::TWait,
        Self::TTalk,
        Self::THeld,
        Self::TAcw,
        Self::NOverSla,
        Self::OServiceLevel,
        Self::NError,
        Self::NStateTransitionError,
    ];

    /// The users aggregates' time-in-status metrics: milliseconds per routing status, system
    /// presence and org presence (docs/genesys-api.md#users-aggregates-query).
    pub const TIME_IN_STATUS: &'static [Self] = &[
        Self::TAgentRoutingStatus,
        Self::TSystemPresence,
        Self::TOrganizationPresence,
    ];

    /// The flow aggregates metrics the flows source reads (docs/genesys-api.md#ivr-flows).
    pub const FLOWS: &'static [Self] = &[
        Self::NFlow,
        Self::TFlow,
        Self::TFlowExit,
        Self::TFlowDisconnect,
        Self::NFlowOutcome,
        Self::NFlowMilestone,
        Self::OFlow,
    ];

    /// The data action aggregates metric (docs/genesys-api.md#data-actions).
    pub const ACTIONS: &'static [Self] = &[Self::TTotalExecution];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OWaiting => "oWaiting",
            Self::OInteracting => "oInteracting",
            Self::OAlerting => "oAlerting",
            Self::OLongestWaiting => "oLongestWaiting",
            Self::OLongestInteracting => "oLongestInteracting",
            Self::OOnQueueUsers => "oOnQueueUsers",
            Self::OOffQueueUsers => "oOffQueueUsers",
            Self::OActiveUsers => "oActiveUsers",
            Self::OMemberUsers => "oMemberUsers",
            Self::OUserRoutingStatuses => "oUserRoutingStatuses",
            Self::OUserPresences => "oUserPresences",
            Self::NOffered => "nOffered",
            Self::NConnected => "nConnected",
            Self::NTransferred => "nTransferred",
            Self::TAbandon => "tAbandon",
            Self::TAnswered => "tAnswered",
            Self::THandle => "tHandle",
            Self::TWait => "tWait",
            Self::TTalk => "tTalk",
            Self::THeld => "tHeld",
            Self::TAcw => "tAcw",
            Self::NOverSla => "nOverSla",
            Self::OServiceLevel => "oServiceLevel",
            Self::NError => "nError",
            Self::NStateTransitionError => "nStateTransitionError",
            Self::TAgentRoutingStatus => "tAgentRoutingStatus",
            Self::TSystemPresence => "tSystemPresence",
            Self::TOrganizationPresence => "tOrganizationPresence",
            Self::NFlow => "nFlow",
            Self::TFlow => "tFlow",
            Self::TFlowExit => "tFlowExit",
            Self::TFlowDisconnect => "tFlowDisconnect",
            Self::NFlowOutcome => "nFlowOutcome",
            Self::NFlowMilestone => "nFlowMilestone",
            Self::OFlow => "oFlow",
            Self::TTotalExecution => "tTotalExecution",
        }
    }

    /// The metric named `name`, if we know it.
    pub fn parse(name: &str) -> Option<Self> {
        (Self::OBSERVATIONS.iter().chain(Self::AGGREGATES))
            .chain(Self::TIME_IN_STATUS)
            .chain(Self::FLOWS)
            .chain(Self::ACTIONS)
            .copied()
            .find(|metric| metric.as_str() == name)
    }
}

#[cfg(test)]
mod tests;
