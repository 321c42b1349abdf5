//! Liveness and readiness, as `/healthz` and `/readyz` report them.
//!
//! Ready means Genesys accepted our credentials, the queue set is known and every notification
//! channel has finished its first observation resync: one healthy channel must not hide a
//! failing one, so readiness is per channel and `/readyz` names the first that is missing.
//! Alive means no long-running task has died; a dead one is named by `/healthz`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct Health {
    token_obtained: AtomicBool,
    queues_resolved: AtomicBool,
    /// Sources watched besides the queues (`agents`, `trunks and Edges`, `flows`) but not yet
    /// found and placed on channels, in the order they place: each on what those before it
    /// leave of the channel budget.
    pending: Mutex<Vec<&'static str>>,
    /// Per channel label: whether its first observation resync succeeded.
    channels: Mutex<BTreeMap<String, bool>>,
    /// The first long-running task that ended unexpectedly; `/healthz` then fails so the
    /// orchestrator restarts the process.
    failed_task: Mutex<Option<String>>,
}

impl Health {
    pub(crate) fn token_obtained(&self) {
        self.token_obtained.store(true, Ordering::Relaxed);
    }

    pub(crate) fn queues_resolved(&self) {
        self.queues_resolved.store(true, Ordering::Relaxed);
    }

    /// Readiness waits for `source` too (its entities are found after the queues, and placed
    /// after the sources expected before it).
    pub(crate) fn expect(&self, source: &'static str) {
        let mut pending = crate::sync::lock(&self.pending);
        if !pending.contains(&source) {
            pending.push(source);
        }
    }

    /// `source`'s entities are found and their channels started (or it gave up trying for
    /// now, and says so in its log).
    pub(crate) fn placed(&self, source: &'static str) {
        crate::sync::lock(&self.pending).retain(|s| *s != source);
    }

    /// Whether the queues and every source expected before `source` are placed (every
    /// source, for one not expected).
    pub(crate) fn placed_before(&self, source: &str) -> bool {
        let pending = crate::sync::lock(&self.pending);
        let earlier = pending.iter().take_while(|s| **s != source).count();
        self.queues_resolved.load(Ordering::Relaxed) && earlier == 0
    }

    fn lock_channels(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, bool>> {
        // NB: every change is a single insert, so a panicked holder leaves no half state.
        crate::sync::lock(&self.channels)
    }

    /// A channel exists and must finish a first resync before the exporter is ready.
    pub(crate) fn channel_started(&self, channel: &str) {
        self.lock_channels()
            .entry(channel.to_owned())
            .or_insert(false);
    }

    /// The channel's queues hold real values (a resync succeeded).
    pub(crate) fn channel_resynced(&self, channel: &str) {
        self.lock_channels().insert(channel.to_owned(), true);
    }

    /// Records the first task that died; later failures keep the first name.
    pub(crate) fn task_failed(&self, task: &str) {
        let mut failed = crate::sync::lock(&self.failed_task);
        failed.get_or_insert_with(|| task.to_owned());
    }

    /// `Err` names the task that died.
    pub(crate) fn liveness(&self) -> Result<(), String> {
        let failed = crate::sync::lock(&self.failed_task);
        match failed.as_deref() {
            None => Ok(()),
            Some(task) => Err(format!("task {task} stopped unexpectedly")),
        }
    }

    #[cfg(test)]
    pub(crate) fn is_alive(&self) -> bool {
        self.liveness().is_ok()
    }

    /// `Err` names what readiness is still waiting for.
    pub(crate) fn readiness(&self) -> Result<(), String> {
        if !self.token_obtained.load(Ordering::Relaxed) {
            return Err("no OAuth token obtained yet".to_owned());
        }
        if !self.queues_resolved.load(Ordering::Relaxed) {
            return Err("the queue set is not resolved yet".to_owned());
        }
        if let Some(source) = crate::sync::lock(&self.pending).first() {
            return Err(format!("the {source} are not found yet"));
        }
        let channels = self.lock_channels();
        if channels.is_empty() {
            return Err("no notification channel started yet".to_owned());
        }
        match channels.iter().find(|(_, resynced)| !**resynced) {
            Some((channel, _)) => Err(format!(
                "channel {channel}: first observation resync not done yet"
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
