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

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<L: LabelValue + std::fmt::Debug>() {
        for value in L::ALL {
            assert_eq!(L::parse(value.as_str()), Some(*value));
        }
        assert_eq!(L::parse("not a value"), None);
    }

    #[test]
    fn every_value_parses_back_from_its_text_and_nothing_else_does() {
        round_trips::<InteractionState>();
        round_trips::<RoutingStatus>();
        assert_eq!(RoutingStatus::ALL.len(), RoutingStatus::COUNT);
    }
}
