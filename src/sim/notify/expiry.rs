//! Channel expiry enforced as Genesys enforces it: once a channel's `expires` has passed (its
//! `SimConfig::channel_ttl` after creation or the last subscription PUT, or sooner after
//! `shorten_channels`), its socket is closed without a `socket_closing` notice and the channel is
//! gone.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::sim::Sim;
use crate::sync::lock;

/// How often expired channels are swept, in real time: a socket outlives its channel by at most
/// this much (on a scaled clock, by this much real time).
const EXPIRY_SWEEP: Duration = Duration::from_millis(20);

/// Enforces channel expiry: every `EXPIRY_SWEEP` the channels past it are closed and removed.
///
/// NB: sweeping and attaching both decide under the registry lock with the now read there, and
/// `attach` refuses an expired channel, so a socket can never attach to a channel the sweep has
/// passed over.
pub(crate) async fn expiry_loop(sim: Arc<Sim>, cancel: CancellationToken) {
    let mut sweeps = tokio::time::interval(EXPIRY_SWEEP);
    sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            _ = sweeps.tick() => {}
        }
        let expired = lock(&sim.channels).expire_due(sim.now_ms());
        for id in expired {
            tracing::info!(channel_id = %id, "simulator channel expired");
        }
    }
}

#[cfg(test)]
mod tests;
