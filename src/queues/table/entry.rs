//! One monitored queue's entry, holding its values, from which every queue series is rendered
//! at scrape time, and the queue families.
//!
//! A queue's user gauges exist once written (events carry them one by one); a media type's
//! series only once the queue has had something of it (a non-zero observation, or
//! conversations counted), and then until the queue leaves, so a series never flaps between
//! absent and zero. Under `stale_gauges: remove` a stale queue's observation gauges are left
//! out until a resync rewrites them all. Which series exist and what
//! they read is decided here, once, by [`QueueEntry::samples`]; `text.rs` writes them fast and
//! `reference.rs` through the `prometheus` crate, and a test holds the two equal.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::metrics::counted::CounterGroup;
use crate::metrics::table::{Entry, Freshness};
use crate::metrics::text::{self, Kind};
use crate::vocabulary::counters::ConversationCounter;
use crate::vocabulary::labels::{
    Direction, InteractionState, LabelValue, MediaType, RoutingStatus, UserCount,
};
use crate::vocabulary::presence::Presence;
use crate::vocabulary::queue::QueueLabels;

/// The queue series families, in exposition order. `Conversations(i)` is the i-th counter of
/// the configured metric set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Info,
    Interactions,
    Users,
    Presences,
    Members,
    OnQueueUsers,
    ActiveUsers,
    OldestWaiting,
    ObservationTimestamp,
    Conversations(usize),
    ServiceLevelTarget,
    Stale,
}

impl Family {
    /// Every family for a metric set of `counters` counters.
    pub(super) fn all(counters: usize) -> impl Iterator<Item = Family> {
        use Family::*;
        let gauges = [
            Info,
            Interactions,
            Users,
            Presences,
            Members,
            OnQueueUsers,
            ActiveUsers,
            OldestWaiting,
            ObservationTimestamp,
        ];
        gauges
            .into_iter()
            .chain((0..counters).map(Conversations))
            .chain([ServiceLevelTarget, Stale])
    }

    pub(super) fn name(self, counters: &[ConversationCounter]) -> &'static str {
        match self {
            Self::Info => "genesys_queue_info",
            Self::Interactions => "genesys_queue_interactions",
            Self::Users => "genesys_queue_users",
            Self::Presences => "genesys_queue_presence_users",
            Self::Members => "genesys_queue_members",
            Self::OnQueueUsers => "genesys_queue_on_queue_users",
            Self::ActiveUsers => "genesys_queue_active_users",
            Self::OldestWaiting => "genesys_queue_oldest_waiting_seconds",
            Self::ObservationTimestamp => "genesys_queue_observation_timestamp_seconds",
            Self::Conversations(i) => counters[i].name(),
            Self::ServiceLevelTarget => "genesys_queue_service_level_target",
            Self::Stale => "genesys_exporter_queue_stale",
        }
    }

    pub(super) fn help(self, counters: &[ConversationCounter]) -> String {
        match self {
            Self::Info => "A monitored queue; always 1.",
            Self::Interactions => {
                "Interactions in the queue now, by state and media type (oWaiting, oInteracting, oAlerting)."
            }
            Self::Users => "Queue members by routing status (oUserRoutingStatuses).",
            Self::Presences => {
                "Queue members by presence: the org's presence definition's label and its system presence (oUserPresences)."
            }
            Self::Members => "Users who are members of the queue (oMemberUsers).",
            Self::OnQueueUsers => "Members on queue (oOnQueueUsers, all routing statuses).",
            Self::ActiveUsers => "Members with the queue active (oActiveUsers).",
            Self::OldestWaiting => {
                "Age of the oldest waiting interaction at scrape time; 0 when nothing waits."
            }
            Self::ObservationTimestamp => {
                "Unix time when the queue's observations were last known fresh."
            }
            Self::Conversations(i) => return counters[i].help(),
            Self::ServiceLevelTarget => {
                "The queue's own service-level target as a ratio (oServiceLevel target)."
            }
            Self::Stale => {
                "1 while the queue's observations cannot be refreshed (stream down and resync failing)."
            }
        }
        .to_owned()
    }

    pub(super) fn kind(self) -> Kind {
        match self {
            Self::Conversations(_) => Kind::Counter,
            _ => Kind::Gauge,
        }
    }

    /// The most samples one queue has in the family, with `media_types` media types and
    /// `directions` directions (0 when counters are not split by direction).
    pub(super) fn most_samples_per_queue(self, media_types: usize, directions: usize) -> usize {
        match self {
            Self::Interactions => media_types * InteractionState::ALL.len(),
            Self::Users => RoutingStatus::COUNT,
            // NB: the ten system presences and a few of the org's own, as a rule.
            Self::Presences => 12,
            Self::Conversations(_) => media_types * directions.max(1),
            Self::OldestWaiting | Self::ServiceLevelTarget => media_types,
            _ => 1,
        }
    }

    /// The labels besides `queue_id` and `queue`, sorted by name, in the order
    /// [`QueueEntry::samples`] gives their values; `by_direction`: conversation counters are
    /// split by direction.
    pub(super) fn extra_labels(self, by_direction: bool) -> &'static [&'static str] {
        match self {
            Self::Info => &["division"],
            Self::Conversations(_) if by_direction => &["direction", "media_type"],
            Self::Interactions => &["media_type", "state"],
            Self::Users => &["routing_status"],
            Self::Presences => &["presence", "system_presence"],
            Self::OldestWaiting | Self::Conversations(_) | Self::ServiceLevelTarget => {
                &["media_type"]
            }
            Self::Members
            | Self::OnQueueUsers
            | Self::ActiveUsers
            | Self::ObservationTimestamp
            | Self::Stale => &[],
        }
    }
}

/// A full resync of one queue, applied at once by [`super::QueueTable::apply_snapshot`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueSnapshot {
    /// By media type, as the resync reported them: the store shows every allow-listed media
    /// type, one missing here at 0, and none outside its allow-list.
    pub media: HashMap<String, MediaSnapshot>,
    /// By routing status, in the order of `RoutingStatus::ALL`.
    pub users: [i64; RoutingStatus::COUNT],
    /// By [`UserCount`], in the order of `UserCount::ALL`.
    pub user_counts: [i64; UserCount::ALL.len()],
    /// Members by presence definition id, as the resync reported them.
    pub presences: Vec<(String, i64)>,
}

/// One media type of a [`QueueSnapshot`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MediaSnapshot {
    /// By [`InteractionState`], in the order of `InteractionState::ALL`.
    pub interactions: [i64; 3],
    pub waiting_since_ms: Option<i64>,
}

/// What rendering needs beyond the entry itself.
pub(super) struct RenderContext<'a> {
    pub(super) media_types: &'a [MediaType],
    /// The `direction` label's values, in counter slot order; empty: no such label.
    pub(super) directions: &'a [Direction],
    pub(super) now_ms: i64,
    /// Whether the observation gauges of a stale queue are left out (`stale_gauges: remove`).
    pub(super) hide_stale_gauges: bool,
    /// The org's presences by id: the allow-list of the `presence` label.
    pub(super) presences: Arc<HashMap<String, Presence>>,
    /// This render's number: counter groups created after it started are left to later
    /// renders (`metrics/counted.rs`).
    pub(super) render: u64,
}

/// One media type of a queue, present once the queue has had something of it.
#[derive(Debug, Clone, Default)]
pub(super) struct MediaGroup {
    pub(super) interactions: [i64; 3],
    /// When the oldest waiting interaction began waiting (epoch ms); `None` when nothing waits.
    pub(super) waiting_since_ms: Option<i64>,
    /// By direction slot (one slot when counters are not split by direction), `None` until
    /// that direction has had conversations.
    pub(super) counters: Vec<Option<CounterGroup>>,
    pub(super) service_level_target: Option<f64>,
}

/// One monitored queue: its labels, freshness and values.
#[derive(Debug, Clone)]
pub(super) struct QueueEntry {
    pub(super) labels: QueueLabels,
    /// `queue="…",queue_id="…"`, escaped once per name (see `text.rs`).
    queue_labels: Box<str>,
    pub(super) freshness: Freshness,
    /// By routing status; each series exists once written, as the queue's user metrics come
    /// one by one in events.
    pub(super) users: [Option<i64>; RoutingStatus::COUNT],
    /// By presence definition id; a presence's series exists once the queue had it reported.
    pub(super) presences: BTreeMap<Box<str>, i64>,
    pub(super) user_counts: [Option<i64>; UserCount::ALL.len()],
    /// By allow-listed media type's position, `None` (or absent) until the queue has had it.
    pub(super) media: Vec<Option<MediaGroup>>,
}

impl Entry for QueueEntry {
    type Labels = QueueLabels;

    fn new(labels: &QueueLabels, now_seconds: f64) -> Self {
        Self {
            queue_labels: queue_labels(labels),
            labels: labels.clone(),
            freshness: Freshness::joined(now_seconds),
            users: [None; RoutingStatus::COUNT],
            presences: BTreeMap::new(),
            user_counts: [None; UserCount::ALL.len()],
            media: Vec::new(),
        }
    }

    fn id(labels: &QueueLabels) -> &str {
        &labels.id
    }

    /// A new name changes every series' labels; the values stay.
    fn relabel(&mut self, labels: &QueueLabels) -> bool {
        let renamed = labels.name != self.labels.name;
        if renamed {
            self.queue_labels = queue_labels(labels);
        }
        self.labels = labels.clone();
        renamed
    }

    fn freshness(&mut self) -> &mut Freshness {
        &mut self.freshness
    }

    fn name(&self) -> &str {
        &self.labels.name
    }
}

/// `queue="…",queue_id="…"`, escaped: the part every series of the queue shares.
fn queue_labels(labels: &QueueLabels) -> Box<str> {
    text::label_set(&[("queue", &labels.name), ("queue_id", &labels.id)])
}

impl QueueEntry {
    /// Counter groups of this queue holding totals back for the next render.
    pub(super) fn pending_counter_groups(&self) -> usize {
        let groups = self
            .media
            .iter()
            .flatten()
            .flat_map(|media| &media.counters);
        groups.flatten().filter(|group| group.is_pending()).count()
    }

    /// The media group at `index`, created if `create` and missing.
    pub(super) fn media_group(&mut self, index: usize, create: bool) -> Option<&mut MediaGroup> {
        if self.media.len() <= index && create {
            self.media.resize(index + 1, None);
        }
        let slot = self.media.get_mut(index)?;
        if slot.is_none() && create {
            *slot = Some(MediaGroup::default());
        }
        slot.as_mut()
    }

    /// Calls `emit(extra label values, value)` for each of the queue's samples in `family`.
    pub(super) fn samples(
        &self,
        family: Family,
        ctx: &RenderContext<'_>,
        mut emit: impl FnMut(&[&str], f64),
    ) {
        let shown = !(ctx.hide_stale_gauges && self.freshness.is_stale());
        let groups = ctx
            .media_types
            .iter()
            .zip(&self.media)
            .filter_map(|(media, group)| Some((media.as_str(), group.as_ref()?)));
        match family {
            Family::Info => emit(&[&self.labels.division], 1.0),
            Family::Interactions if shown => {
                for (media, group) in groups {
                    for (state, n) in InteractionState::ALL.iter().zip(group.interactions) {
                        emit(&[media, state.as_str()], n as f64);
                    }
                }
            }
            Family::Users if shown => {
                for (status, n) in RoutingStatus::ALL.iter().zip(self.users) {
                    if let Some(n) = n {
                        emit(&[status.as_str()], n as f64);
                    }
                }
            }
            Family::Presences if shown => {
                // NB: two definitions may share a label and system presence; one series each.
                let mut by_label: BTreeMap<(&str, &str), i64> = BTreeMap::new();
                for (id, n) in &self.presences {
                    if let Some(presence) = ctx.presences.get(&**id) {
                        let key = (presence.label.as_str(), presence.system.as_str());
                        *by_label.entry(key).or_default() += n;
                    }
                }
                for ((label, system), n) in by_label {
                    emit(&[label, system], n as f64);
                }
            }
            Family::Members if shown => self.user_count(UserCount::Members, emit),
            Family::OnQueueUsers if shown => self.user_count(UserCount::OnQueue, emit),
            Family::ActiveUsers if shown => self.user_count(UserCount::Active, emit),
            Family::OldestWaiting if shown => {
                for (media, group) in groups {
                    let age_ms = group
                        .waiting_since_ms
                        .map_or(0, |since| (ctx.now_ms - since).max(0));
                    emit(&[media], age_ms as f64 / 1000.0);
                }
            }
            Family::ObservationTimestamp => {
                if let Some(fresh_at) = self.freshness.fresh_at() {
                    emit(&[], fresh_at);
                }
            }
            Family::Conversations(i) => {
                for (media, group) in groups {
                    for (slot, counters) in group.counters.iter().enumerate() {
                        let Some(counters) = counters.as_ref().filter(|c| c.shown_by(ctx.render))
                        else {
                            continue;
                        };
                        match ctx.directions.get(slot) {
                            Some(direction) => {
                                emit(&[direction.as_str(), media], counters.values[i]);
                            }
                            None => emit(&[media], counters.values[i]),
                        }
                    }
                }
            }
            Family::ServiceLevelTarget => {
                for (media, group) in groups {
                    if let Some(target) = group.service_level_target {
                        emit(&[media], target);
                    }
                }
            }
            Family::Stale => emit(&[], f64::from(u8::from(self.freshness.is_stale()))),
            _ => {}
        }
    }

    fn user_count(&self, which: UserCount, mut emit: impl FnMut(&[&str], f64)) {
        if let Some(n) = self.user_counts[which as usize] {
            emit(&[], n as f64);
        }
    }

    /// Writes the queue's samples in `family` as exposition text.
    pub(super) fn render(
        &self,
        family: Family,
        name: &str,
        ctx: &RenderContext<'_>,
        out: &mut Vec<u8>,
    ) {
        let labels = family.extra_labels(!ctx.directions.is_empty());
        // NB: label names are sorted; those before `queue` go first.
        let split = labels.iter().take_while(|label| **label < "queue").count();
        self.samples(family, ctx, |values, value| {
            let mut pairs: [(&str, &str); 2] = [("", ""); 2];
            for (pair, (label, value)) in pairs.iter_mut().zip(labels.iter().zip(values)) {
                *pair = (label, value);
            }
            let (before, after) = pairs[..values.len()].split_at(split);
            text::sample(out, name, &self.queue_labels, before, after, value);
        });
    }
}
