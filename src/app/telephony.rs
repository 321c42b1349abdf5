//! Watching the trunks and Edges (`telephony.enabled`, docs/operations.md#trunks-and-edges):
//! found once the queues and the agents hold their channels, placed on what those leave of the
//! client's 20, the rest polled over REST; their listings read again every
//! `queue_refresh_interval`.

use std::sync::Arc;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Parts, wait_until};
use crate::genesys::egress::log_unless_reported;
use crate::stream::carried::Carried;
use crate::stream::placement::{Channels, room_beside};
use crate::telephony::{Listed, Telephony};

/// The source's name where readiness and the channel budget name it.
pub(super) const TRUNKS_AND_EDGES: &str = "trunks and Edges";

/// The trunks' and the Edges' channels.
struct TelephonyChannels {
    trunks: Channels,
    edges: Channels,
}

impl Parts {
    /// Waits for the queues and the agents to take their channels (an interval at most), then
    /// lists the trunks and Edges and places them, retrying every `fallback_poll_interval`
    /// until a listing succeeds; from then on lists them every `queue_refresh_interval` and
    /// polls those without a channel every `fallback_poll_interval`.
    pub(super) async fn watch_telephony(
        self,
        telephony: Arc<Telephony>,
        cancel: CancellationToken,
    ) {
        let refresh_every = self.settings.queue_refresh_interval;
        let placed_before = || self.health.placed_before(TRUNKS_AND_EDGES);
        if wait_until(placed_before, refresh_every, &cancel)
            .await
            .is_none()
        {
            return;
        }
        let mut channels = TelephonyChannels {
            trunks: Channels::new(Carried::Trunks(telephony.clone()), |i| {
                format!("trunks-{i}")
            }),
            edges: Channels::new(Carried::Edges(telephony.clone()), |i| format!("edges-{i}")),
        };
        let mut polled = Listed::default();
        let mut ticks = tokio::time::interval(self.settings.stream.fallback_poll_interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut listed_at: Option<Instant> = None;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if listed_at.is_none_or(|at| at.elapsed() >= refresh_every) {
                let listed = tokio::select! {
                    () = cancel.cancelled() => return,
                    listed = telephony.refresh(&self.client) => listed,
                };
                match listed {
                    Ok(listed) => {
                        listed_at = Some(Instant::now());
                        polled = self.place_telephony(listed, &mut channels, &polled, &cancel);
                    }
                    Err(e) => log_unless_reported!(
                        warn,
                        e.kind(),
                        error = %e,
                        kind = e.kind(),
                        "trunks and Edges not listed (permission telephony:plugin:all); keeping the last listing"
                    ),
                }
                // NB: a source that cannot be listed does not hold readiness back; its log
                // says why, and its series, once it has any, turn stale.
                self.health.placed(TRUNKS_AND_EDGES);
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = poll(&telephony, &polled, &self.client) => {}
            }
        }
    }

    /// Places the Edges, then the trunks, on the channels the other kinds leave; returns the
    /// ids without room, which are polled, and says so when they change.
    fn place_telephony(
        &self,
        listed: Listed,
        channels: &mut TelephonyChannels,
        polled_before: &Listed,
        cancel: &CancellationToken,
    ) -> Listed {
        let beside = self.budget.taken_besides(TRUNKS_AND_EDGES);
        let room = room_beside(
            beside + channels.trunks.count(),
            channels.edges.ids_per_channel(),
        );
        let (edges, polled_edges) = fit(listed.edges, room);
        self.start_channels(channels.edges.place(&edges, false), cancel);
        let room = room_beside(
            beside + channels.edges.count(),
            channels.trunks.ids_per_channel(),
        );
        let (trunks, polled_trunks) = fit(listed.trunks, room);
        self.start_channels(channels.trunks.place(&trunks, false), cancel);
        let taken = channels.trunks.count() + channels.edges.count();
        self.budget.claim(TRUNKS_AND_EDGES, taken);
        let polled = Listed {
            trunks: polled_trunks,
            edges: polled_edges,
        };
        let streamed = (trunks.len(), edges.len());
        info!(
            trunks = streamed.0,
            edges = streamed.1,
            channels = taken,
            "watching trunks and Edges"
        );
        if polled != *polled_before && !(polled.trunks.is_empty() && polled.edges.is_empty()) {
            warn!(
                trunks = polled.trunks.len(),
                edges = polled.edges.len(),
                every = ?self.settings.stream.fallback_poll_interval,
                "the notification channels the queues and agents leave cannot carry every trunk and Edge; the rest (the last by id) are polled over REST instead"
            );
        }
        polled
    }
}

/// The first `room` of `ids`, and the rest.
pub(super) fn fit(mut ids: Vec<String>, room: usize) -> (Vec<String>, Vec<String>) {
    let rest = ids.split_off(room.min(ids.len()));
    (ids, rest)
}

/// Resyncs the trunks and Edges that have no channel; a failure marks them stale and is
/// logged by the resync.
async fn poll(telephony: &Telephony, polled: &Listed, client: &crate::genesys::GenesysClient) {
    if !polled.trunks.is_empty() {
        let _ = telephony.resync_trunks(&polled.trunks, client).await;
    }
    if !polled.edges.is_empty() {
        let _ = telephony.resync_edges(&polled.edges, client).await;
    }
}
