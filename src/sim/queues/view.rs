//! The observable state of a queue, derived from the live model on demand, and its three
//! renderings: the REST observations query (docs/genesys-api.md#queue-observations-query), the
//! stream's observation events (docs/genesys-api.md#queue-events) and the ground truth. Deriving
//! all three from one snapshot is what keeps them consistent with each other at every moment.

use crate::genesys::model::{AggregateMetricData, ObservationDetail, ObservationMetricData, Stats};
use crate::genesys::time::{format_instant, from_epoch_millis};
use crate::vocabulary::labels::{LabelValue, RoutingStatus};

use crate::sim::model::traffic::{Model, OFFLINE, PRESENCES, Phase, Status};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MediaView {
    pub waiting: u64,
    pub interacting: u64,
    pub alerting: u64,
    /// (queue entry ms, conversation id) of waiting interactions, oldest first.
    pub waiting_since: Vec<(i64, String)>,
    pub longest_interacting: Option<i64>,
}

impl MediaView {
    pub(crate) fn longest_waiting(&self) -> Option<i64> {
        self.waiting_since.first().map(|(at, _)| *at)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UserView {
    /// Per routing status, in `RoutingStatus::ALL` order (oUserRoutingStatuses).
    pub statuses: [u64; 5],
    /// Per routing status of users on queue (oOnQueueUsers); OFF_QUEUE is always 0.
    pub on_queue: [u64; 5],
    pub members: u64,
    pub active: u64,
    pub off_queue: u64,
    /// Per entry of `PRESENCES`.
    pub presences: Vec<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueueView {
    pub media: Vec<MediaView>,
    pub users: UserView,
}

pub(crate) fn queue_view(model: &Model, queue: usize) -> QueueView {
    let state = &model.queues[queue];
    let mut media = vec![MediaView::default(); model.media_types.len()];
    for interaction in &state.interactions {
        let view = &mut media[interaction.media];
        match interaction.phase {
            Phase::Waiting => {
                view.waiting += 1;
                view.waiting_since
                    .push((interaction.entered, interaction.conversation_id.clone()));
            }
            Phase::Alerting { .. } => view.alerting += 1,
            Phase::Connected { answered, .. } => {
                view.interacting += 1;
                view.longest_interacting = Some(
                    view.longest_interacting
                        .map_or(answered, |at| at.min(answered)),
                );
            }
            Phase::Acw { .. } => {}
        }
    }
    for view in &mut media {
        view.waiting_since.sort();
    }
    let mut users = UserView {
        presences: vec![0; PRESENCES.len()],
        members: state.agents.len() as u64,
        ..UserView::default()
    };
    for agent in &state.agents {
        users.statuses[agent.status as usize] += 1;
        users.presences[agent.presence] += 1;
        if agent.presence != OFFLINE {
            users.active += 1;
        }
        if agent.status == Status::OffQueue {
            if agent.presence != OFFLINE {
                users.off_queue += 1;
            }
        } else {
            users.on_queue[agent.status as usize] += 1;
        }
    }
    QueueView { media, users }
}

fn count(n: u64) -> Stats {
    Stats {
        count: Some(n),
        ..Stats::default()
    }
}

fn instant(ms: i64) -> Stats {
    Stats {
        calculated_metric_value: Some(ms),
        ..Stats::default()
    }
}

/// One metric of an observation: (name, qualifier, stats).
type Observed = (&'static str, Option<String>, Stats);

/// The o* metrics of one media group; `oLongest*` only when something waits / interacts.
fn media_metrics(view: &MediaView) -> Vec<Observed> {
    let mut out = vec![
        ("oWaiting", None, count(view.waiting)),
        ("oInteracting", None, count(view.interacting)),
        ("oAlerting", None, count(view.alerting)),
    ];
    if let Some(at) = view.longest_waiting() {
        out.push(("oLongestWaiting", None, instant(at)));
    }
    if let Some(at) = view.longest_interacting {
        out.push(("oLongestInteracting", None, instant(at)));
    }
    out
}

/// The user metrics of a queue, every qualifier included even when zero.
fn user_metrics(view: &UserView, presence_ids: &[String]) -> Vec<Observed> {
    let mut out = vec![
        ("oMemberUsers", None, count(view.members)),
        ("oActiveUsers", None, count(view.active)),
        ("oOffQueueUsers", None, count(view.off_queue)),
    ];
    for (i, status) in RoutingStatus::ALL.iter().enumerate() {
        out.push((
            "oOnQueueUsers",
            Some(status.as_str().to_owned()),
            count(view.on_queue[i]),
        ));
    }
    for (i, status) in RoutingStatus::ALL.iter().enumerate() {
        out.push((
            "oUserRoutingStatuses",
            Some(status.as_str().to_owned()),
            count(view.statuses[i]),
        ));
    }
    for (id, n) in presence_ids.iter().zip(&view.presences) {
        out.push(("oUserPresences", Some(id.clone()), count(*n)));
    }
    out
}

/// Observation details list at most this many interactions: the oldest and newest halves.
const DETAIL_LIMIT: usize = 100;

/// REST `data` of a media group, restricted to the requested metrics.
pub(crate) fn rest_media_data(
    view: &MediaView,
    wanted: &[String],
    details: &[String],
) -> Vec<ObservationMetricData> {
    media_metrics(view)
        .into_iter()
        .filter(|(name, _, _)| wanted.iter().any(|w| w == name))
        .map(|(metric, qualifier, stats)| {
            let detailed = metric == "oWaiting" && details.iter().any(|d| d == metric);
            let (truncated, observations) = if detailed {
                let (truncated, list) = waiting_details(view);
                (Some(truncated), Some(list))
            } else {
                (None, None)
            };
            ObservationMetricData {
                metric: metric.into(),
                qualifier,
                stats,
                truncated: truncated.or(Some(false)),
                observations,
            }
        })
        .collect()
}

fn waiting_details(view: &MediaView) -> (bool, Vec<ObservationDetail>) {
    let all = &view.waiting_since;
    let truncated = all.len() > DETAIL_LIMIT;
    let picked: Vec<&(i64, String)> = if truncated {
        let half = DETAIL_LIMIT / 2;
        all[..half].iter().chain(&all[all.len() - half..]).collect()
    } else {
        all.iter().collect()
    };
    let list = picked
        .into_iter()
        .map(|(at, conversation)| ObservationDetail {
            observation_date: from_epoch_millis(*at)
                .map(format_instant)
                .unwrap_or_default(),
            conversation_id: Some(conversation.clone()),
            session_id: Some(conversation.clone()),
            routing_priority: Some(0),
        })
        .collect();
    (truncated, list)
}

/// REST `data` of a user group, restricted to the requested metrics.
pub(crate) fn rest_user_data(
    view: &UserView,
    presence_ids: &[String],
    wanted: &[String],
) -> Vec<ObservationMetricData> {
    user_metrics(view, presence_ids)
        .into_iter()
        .filter(|(name, _, _)| wanted.iter().any(|w| w == name))
        .map(|(metric, qualifier, stats)| ObservationMetricData {
            metric: metric.into(),
            qualifier,
            stats,
            truncated: Some(false),
            observations: None,
        })
        .collect()
}

fn event_metrics(observed: Vec<Observed>) -> Vec<AggregateMetricData> {
    observed
        .into_iter()
        .map(|(metric, qualifier, stats)| AggregateMetricData {
            metric: metric.into(),
            qualifier,
            stats,
        })
        .collect()
}

/// Stream event metrics of a media group: the group's full current values, zeros included.
pub(crate) fn event_media_metrics(view: &MediaView) -> Vec<AggregateMetricData> {
    event_metrics(media_metrics(view))
}

pub(crate) fn event_user_metrics(
    view: &UserView,
    presence_ids: &[String],
) -> Vec<AggregateMetricData> {
    event_metrics(user_metrics(view, presence_ids))
}

#[cfg(test)]
mod tests;
