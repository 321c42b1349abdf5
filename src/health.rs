//! Liveness and readiness, as `/healthz` and `/readyz` report them.
//!
//! Ready means Genesys accepted our credentials and the gauges hold real values (the first
//! observation resync finished); until then `/readyz` says which of the two is missing.

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct Health {
    token_obtained: AtomicBool,
    first_resync_done: AtomicBool,
    /// Set when a long-running task ended unexpectedly; `/healthz` then fails so the
    /// orchestrator restarts the process.
    task_failed: AtomicBool,
}

impl Health {
    pub fn token_obtained(&self) {
        self.token_obtained.store(true, Ordering::Relaxed);
    }

    pub fn resync_done(&self) {
        self.first_resync_done.store(true, Ordering::Relaxed);
    }

    pub fn task_failed(&self) {
        self.task_failed.store(true, Ordering::Relaxed);
    }

    pub fn is_alive(&self) -> bool {
        !self.task_failed.load(Ordering::Relaxed)
    }

    /// `Err` names what readiness is still waiting for.
    pub fn readiness(&self) -> Result<(), &'static str> {
        if !self.token_obtained.load(Ordering::Relaxed) {
            Err("no OAuth token obtained yet")
        } else if !self.first_resync_done.load(Ordering::Relaxed) {
            Err("first observation resync not done yet")
        } else {
            Ok(())
        }
    }
}
