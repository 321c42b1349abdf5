//! The monitored queue set and each queue's freshness (DESIGN.md §4).
//!
//! `genesys_queue_observation_timestamp_seconds` is the instant up to which the queue's values
//! are known current. A successful resync sets it; so do an event and a heartbeat on a healthy
//! socket, but only once the queue has been resynced at least once (before that its values are
//! not known to be complete) and only while it is not stale. A queue is stale from a failed
//! resync, or from the moment its freshness is older than the staleness bound, until the next
//! successful resync of it. Under [`StaleGauges::Remove`] a stale queue's observation gauges are
//! removed instead of left frozen, and writes to them wait for that resync.

use super::{InteractionState, Metrics, QueueLabels, ROUTING_STATUSES};

/// What happens to the observation gauges of a stale queue (`stream.stale_gauges`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StaleGauges {
    /// They keep their last values; `genesys_exporter_queue_stale` says not to trust them.
    #[default]
    Keep,
    /// They disappear until a resync refreshes them, so nothing frozen can be graphed.
    Remove,
}

impl<'de> serde::Deserialize<'de> for StaleGauges {
    /// By hand, so a wrong value gets an error that lists the right ones.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        match value.as_str() {
            "keep" => Ok(Self::Keep),
            "remove" => Ok(Self::Remove),
            other => Err(serde::de::Error::custom(format!(
                "`{other}` is neither keep nor remove"
            ))),
        }
    }
}

/// How freshness turns into staleness.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StalePolicy {
    /// A queue whose values are older than this is stale; `None` disables the bound (only a
    /// failed resync then marks a queue stale).
    pub bound_seconds: Option<f64>,
    pub gauges: StaleGauges,
}

/// One monitored queue.
#[derive(Debug, Clone)]
pub(super) struct QueueEntry {
    pub(super) labels: QueueLabels,
    /// Whether a resync has ever refreshed it; until then nothing else moves its freshness.
    resynced: bool,
    stale: bool,
    /// Unix seconds up to which its values are known current; before the first resync, when
    /// it joined the set (so a queue that can never be resynced turns stale too).
    fresh_at: f64,
    /// Unix seconds of its last successful resync.
    resynced_at: Option<f64>,
}

/// One monitored queue as the status page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStatus {
    pub labels: QueueLabels,
    pub stale: bool,
    /// Unix seconds up to which its values are known current; `None` before the first resync.
    pub fresh_at: Option<f64>,
    pub resynced_at: Option<f64>,
}

fn unix_now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

impl Metrics {
    /// Replaces the monitored set. Series of queues that left are removed on purpose; a queue
    /// whose division changed keeps its series (only `genesys_queue_info` moves); a renamed
    /// queue's counters move to the new name with their values (no reset) and its gauges are
    /// dropped until the next resync writes them under the new name. Returns whether any
    /// queue was renamed, so the caller can resync.
    pub fn set_queues(&self, queues: &[QueueLabels]) -> bool {
        let mut known = self.queues.write().unwrap_or_else(|e| e.into_inner());
        let mut renamed = false;
        let old: Vec<QueueLabels> = known.values().map(|e| e.labels.clone()).collect();
        for old in &old {
            match queues.iter().find(|q| q.id == old.id) {
                None => {
                    self.remove_queue_series(old);
                    known.remove(&old.id);
                }
                Some(new) if new.name != old.name => {
                    self.remove_observation_gauges(old);
                    self.remove_freshness_series(old);
                    self.rename_conversation_series(old, &new.name);
                    let _ =
                        self.queue_info
                            .remove_label_values(&[&old.id, &old.name, &old.division]);
                    renamed = true;
                }
                Some(new) if new.division != old.division => {
                    let _ =
                        self.queue_info
                            .remove_label_values(&[&old.id, &old.name, &old.division]);
                }
                Some(_) => {}
            }
        }
        let now = unix_now();
        for queue in queues {
            self.queue_info
                .with_label_values(&[&queue.id, &queue.name, &queue.division])
                .set(1);
            let entry = known.entry(queue.id.clone()).or_insert_with(|| {
                let entry = QueueEntry {
                    labels: queue.clone(),
                    resynced: false,
                    stale: false,
                    fresh_at: now,
                    resynced_at: None,
                };
                self.write_freshness(&entry, &queue.name);
                entry
            });
            if entry.labels.name != queue.name {
                self.write_freshness(entry, &queue.name);
            }
            entry.labels = queue.clone();
        }
        self.monitored_queues.set(known.len() as i64);
        renamed
    }

    fn remove_queue_series(&self, q: &QueueLabels) {
        let (id, name) = (q.id.as_str(), q.name.as_str());
        let _ = self
            .queue_info
            .remove_label_values(&[id, name, &q.division]);
        self.remove_observation_gauges(q);
        self.remove_freshness_series(q);
        for media in &self.media_types {
            for counter in self.conversations.values() {
                let _ = counter.remove_label_values(&[id, name, media]);
            }
            let _ = self
                .service_level_target
                .remove_label_values(&[id, name, media]);
        }
        self.lock_conversation_series().forget_queue(id);
    }

    fn remove_freshness_series(&self, q: &QueueLabels) {
        let labels = [q.id.as_str(), q.name.as_str()];
        let _ = self.queue_stale.remove_label_values(&labels);
        let _ = self.observation_timestamp.remove_label_values(&labels);
    }

    /// Removes the gauges that come from observations (not the info, freshness or counters).
    fn remove_observation_gauges(&self, q: &QueueLabels) {
        let (id, name) = (q.id.as_str(), q.name.as_str());
        for vec in [&self.members, &self.on_queue_users, &self.active_users] {
            let _ = vec.remove_label_values(&[id, name]);
        }
        for status in ROUTING_STATUSES {
            let _ = self.users.remove_label_values(&[id, name, status]);
        }
        for media in &self.media_types {
            let _ = self.oldest_waiting.remove_label_values(&[id, name, media]);
            for state in InteractionState::ALL {
                let _ = self
                    .interactions
                    .remove_label_values(&[id, name, media, state.as_str()]);
            }
        }
        self.longest_waiting_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(queue_id, _), _| queue_id != id);
    }

    /// Runs `write` with the queue's name while the queue set stays read-locked, so a
    /// concurrent `set_queues` cannot remove the queue between lookup and write and leave a
    /// resurrected series behind. Unmonitored queues are ignored. NB: lock order everywhere is
    /// `queues`, then `longest_waiting_since`.
    pub(super) fn with_queue(&self, queue_id: &str, write: impl FnOnce(&str)) {
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        if let Some(queue) = queues.get(queue_id) {
            write(&queue.labels.name);
        }
    }

    /// Like [`Metrics::with_queue`] for observation gauges: skipped while the queue is stale
    /// and stale gauges are removed, so a stray event cannot bring back part of them.
    pub(super) fn with_live_queue(&self, queue_id: &str, write: impl FnOnce(&str)) {
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        match queues.get(queue_id) {
            Some(q) if q.stale && self.stale_policy.gauges == StaleGauges::Remove => {}
            Some(q) => write(&q.labels.name),
            None => {}
        }
    }

    pub fn is_monitored(&self, queue_id: &str) -> bool {
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        queues.contains_key(queue_id)
    }

    fn write_freshness(&self, entry: &QueueEntry, name: &str) {
        let labels = [entry.labels.id.as_str(), name];
        self.queue_stale
            .with_label_values(&labels)
            .set(i64::from(entry.stale));
        if entry.resynced {
            self.observation_timestamp
                .with_label_values(&labels)
                .set(entry.fresh_at);
        }
    }

    /// Runs `change` on the entries of `queue_ids` under the write lock, then exports their
    /// freshness.
    fn update_freshness<'a>(
        &self,
        queue_ids: impl IntoIterator<Item = &'a str>,
        mut change: impl FnMut(&mut QueueEntry),
    ) {
        let mut queues = self.queues.write().unwrap_or_else(|e| e.into_inner());
        for id in queue_ids {
            if let Some(entry) = queues.get_mut(id) {
                change(entry);
                self.write_freshness(entry, &entry.labels.name);
            }
        }
    }

    /// The stream showed the queue current as of `at_unix_seconds` (an event, or a heartbeat
    /// on its healthy socket). Only a full resync makes a stale or never-resynced queue fresh.
    pub fn queue_observed(&self, queue_id: &str, at_unix_seconds: f64) {
        self.queues_observed([queue_id], at_unix_seconds);
    }

    /// [`Metrics::queue_observed`] for every queue of a channel, as one heartbeat means.
    pub fn queues_observed<'a>(
        &self,
        queue_ids: impl IntoIterator<Item = &'a str>,
        at_unix_seconds: f64,
    ) {
        self.update_freshness(queue_ids, |entry| {
            if entry.resynced && !entry.stale {
                entry.fresh_at = entry.fresh_at.max(at_unix_seconds);
            }
        });
    }

    /// A full snapshot of the queue was applied: every value is fresh as of `at_unix_seconds`.
    /// Call it before writing the snapshot, so a removed stale queue's gauges are written.
    pub fn queue_resynced(&self, queue_id: &str, at_unix_seconds: f64) {
        self.update_freshness([queue_id], |entry| {
            entry.resynced = true;
            entry.stale = false;
            entry.fresh_at = at_unix_seconds;
            entry.resynced_at = Some(at_unix_seconds);
        });
    }

    /// The queue's values could not be refreshed; cleared by [`Metrics::queue_resynced`].
    pub fn set_queue_stale(&self, queue_id: &str) {
        self.mark_stale(|entry| entry.labels.id == queue_id);
    }

    /// Marks stale every queue whose values are older than the staleness bound at
    /// `now_unix_seconds`; returns how many turned stale.
    pub fn sweep_stale(&self, now_unix_seconds: f64) -> usize {
        let Some(bound) = self.stale_policy.bound_seconds else {
            return 0;
        };
        self.mark_stale(|entry| now_unix_seconds - entry.fresh_at > bound)
    }

    fn mark_stale(&self, select: impl Fn(&QueueEntry) -> bool) -> usize {
        let mut queues = self.queues.write().unwrap_or_else(|e| e.into_inner());
        let mut turned = 0;
        for entry in queues.values_mut().filter(|e| !e.stale && select(e)) {
            entry.stale = true;
            turned += 1;
            self.write_freshness(entry, &entry.labels.name);
            if self.stale_policy.gauges == StaleGauges::Remove {
                self.remove_observation_gauges(&entry.labels);
            }
        }
        turned
    }

    /// Every monitored queue's freshness, stale ones first, then by name.
    pub fn queue_statuses(&self) -> Vec<QueueStatus> {
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        let mut statuses: Vec<QueueStatus> = queues
            .values()
            .map(|e| QueueStatus {
                labels: e.labels.clone(),
                stale: e.stale,
                fresh_at: e.resynced.then_some(e.fresh_at),
                resynced_at: e.resynced_at,
            })
            .collect();
        statuses.sort_by(|a, b| {
            (!a.stale, &a.labels.name, &a.labels.id).cmp(&(!b.stale, &b.labels.name, &b.labels.id))
        });
        statuses
    }

    /// Whether any monitored queue among `queue_ids` is marked stale.
    pub fn any_queue_stale(&self, queue_ids: &[String]) -> bool {
        !self.queues_stale(queue_ids).is_empty()
    }

    /// The monitored queues among `queue_ids` that are marked stale.
    pub fn queues_stale(&self, queue_ids: &[String]) -> Vec<String> {
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        queue_ids
            .iter()
            .filter(|id| queues.get(*id).is_some_and(|e| e.stale))
            .cloned()
            .collect()
    }
}
