//! The conversation counters: which Genesys aggregate statistic feeds each, its series name and
//! help, and the group (media type, direction) a conversation counts in.

use crate::vocabulary::metric::GenesysMetric;

/// The monotonic conversation counters, each fed by one statistic of one aggregate metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationCounter {
    Offered,
    Connected,
    Transferred,
    OverSla,
    Abandoned,
    AbandonSeconds,
    Answered,
    AnswerSeconds,
    Handled,
    HandleSeconds,
    Waited,
    WaitSeconds,
    Talked,
    TalkSeconds,
    Held,
    HoldSeconds,
    AfterCallWork,
    AfterCallWorkSeconds,
    ServiceLevelNumerator,
    ServiceLevelDenominator,
    Errors,
    StateTransitionErrors,
}

/// Which statistic of an aggregate metric feeds a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Statistic {
    Count,
    /// Sum in milliseconds upstream; the counter is in seconds.
    SumMillis,
    /// `oServiceLevel`'s numerator and denominator: additive over buckets, unlike its ratio.
    Numerator,
    Denominator,
}

impl Statistic {
    pub const ALL: [Statistic; 4] = [
        Self::Count,
        Self::SumMillis,
        Self::Numerator,
        Self::Denominator,
    ];
}

impl ConversationCounter {
    pub const ALL: [ConversationCounter; 22] = [
        Self::Offered,
        Self::Connected,
        Self::Transferred,
        Self::OverSla,
        Self::Abandoned,
        Self::AbandonSeconds,
        Self::Answered,
        Self::AnswerSeconds,
        Self::Handled,
        Self::HandleSeconds,
        Self::Waited,
        Self::WaitSeconds,
        Self::Talked,
        Self::TalkSeconds,
        Self::Held,
        Self::HoldSeconds,
        Self::AfterCallWork,
        Self::AfterCallWorkSeconds,
        Self::ServiceLevelNumerator,
        Self::ServiceLevelDenominator,
        Self::Errors,
        Self::StateTransitionErrors,
    ];

    /// The aggregate metric and statistic that feed this counter.
    pub fn source(self) -> (GenesysMetric, Statistic) {
        use GenesysMetric::*;
        use Statistic::{Count, Denominator, Numerator, SumMillis};
        match self {
            Self::Offered => (NOffered, Count),
            Self::Connected => (NConnected, Count),
            Self::Transferred => (NTransferred, Count),
            Self::OverSla => (NOverSla, Count),
            Self::Abandoned => (TAbandon, Count),
            Self::AbandonSeconds => (TAbandon, SumMillis),
            Self::Answered => (TAnswered, Count),
            Self::AnswerSeconds => (TAnswered, SumMillis),
            Self::Handled => (THandle, Count),
            Self::HandleSeconds => (THandle, SumMillis),
            Self::Waited => (TWait, Count),
            Self::WaitSeconds => (TWait, SumMillis),
            Self::Talked => (TTalk, Count),
            Self::TalkSeconds => (TTalk, SumMillis),
            Self::Held => (THeld, Count),
            Self::HoldSeconds => (THeld, SumMillis),
            Self::AfterCallWork => (TAcw, Count),
            Self::AfterCallWorkSeconds => (TAcw, SumMillis),
            Self::ServiceLevelNumerator => (OServiceLevel, Numerator),
            Self::ServiceLevelDenominator => (OServiceLevel, Denominator),
            Self::Errors => (NError, Count),
            Self::StateTransitionErrors => (NStateTransitionError, Count),
        }
    }

    /// The counters fed by the Genesys aggregate `metrics`.
    pub fn for_metrics(metrics: &[GenesysMetric]) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|counter| metrics.contains(&counter.source().0))
            .collect()
    }

    /// The counter fed by `metric`'s `statistic`, if we export it.
    pub fn for_source(metric: GenesysMetric, statistic: Statistic) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|counter| counter.source() == (metric, statistic))
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Offered => "genesys_conversations_offered_total",
            Self::Connected => "genesys_conversations_connected_total",
            Self::Transferred => "genesys_conversations_transferred_total",
            Self::OverSla => "genesys_conversations_over_sla_total",
            Self::Abandoned => "genesys_conversations_abandoned_total",
            Self::AbandonSeconds => "genesys_conversation_abandon_seconds_total",
            Self::Answered => "genesys_conversations_answered_total",
            Self::AnswerSeconds => "genesys_conversation_answer_seconds_total",
            Self::Handled => "genesys_conversations_handled_total",
            Self::HandleSeconds => "genesys_conversation_handle_seconds_total",
            Self::Waited => "genesys_conversations_waited_total",
            Self::WaitSeconds => "genesys_conversation_wait_seconds_total",
            Self::Talked => "genesys_conversations_talked_total",
            Self::TalkSeconds => "genesys_conversation_talk_seconds_total",
            Self::Held => "genesys_conversations_held_total",
            Self::HoldSeconds => "genesys_conversation_hold_seconds_total",
            Self::AfterCallWork => "genesys_conversations_after_call_work_total",
            Self::AfterCallWorkSeconds => "genesys_conversation_after_call_work_seconds_total",
            Self::ServiceLevelNumerator => "genesys_conversations_service_level_numerator_total",
            Self::ServiceLevelDenominator => {
                "genesys_conversations_service_level_denominator_total"
            }
            Self::Errors => "genesys_conversation_errors_total",
            Self::StateTransitionErrors => "genesys_conversation_state_transition_errors_total",
        }
    }

    pub fn help(self) -> String {
        match self {
            Self::Errors => {
                return "Errors in conversations, as Genesys counts them (nError), per queue \
                    and media type."
                    .to_owned();
            }
            Self::StateTransitionErrors => {
                return "Conversations that failed to move to their next state, such as an \
                    agent's alert that could not be placed (nStateTransitionError), per queue \
                    and media type."
                    .to_owned();
            }
            _ => {}
        }
        let (metric, statistic) = self.source();
        let metric = metric.as_str();
        match statistic {
            Statistic::Count => {
                format!("Conversations counted by {metric} (count), per queue and media type.")
            }
            Statistic::SumMillis => {
                format!("Total time of {metric} in seconds, per queue and media type.")
            }
            Statistic::Numerator => "Conversations that met the queue's service level \
                (oServiceLevel numerator), per queue and media type."
                .to_owned(),
            Statistic::Denominator => "Conversations counted toward the queue's service level \
                (oServiceLevel denominator), per queue and media type."
                .to_owned(),
        }
    }
}

/// Which counter series of a queue a conversation belongs to: its media type and, when
/// `directions` are configured, its direction. A bare media type is the group without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationGroup<'a> {
    pub media_type: &'a str,
    pub direction: Option<&'a str>,
}

impl<'a> From<&'a str> for ConversationGroup<'a> {
    fn from(media_type: &'a str) -> Self {
        Self {
            media_type,
            direction: None,
        }
    }
}
