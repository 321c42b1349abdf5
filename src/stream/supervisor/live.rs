//! The live half of a channel's lifecycle: streaming a socket (with the resync that starts it,
//! queue-set changes and stale retries while it runs) and rotating it make-before-break.

use std::collections::HashSet;

use futures_util::future::OptionFuture;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{
    Driver, Live, MIN_FALLBACK_POLL, Phase, Progress, Step, StreamError, Update, Upstream,
};
use crate::stream::connection::{SessionEnd, WsStream, run_session};
use crate::stream::upstream::ChannelState;
use crate::vocabulary::labels::LabelValue;

/// How long a replaced socket gets to close politely.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Why an update runs while streaming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UpdateKind {
    /// Resubscribe and resync the whole new queue set.
    QueueChange,
    /// Resync only the queues left stale.
    StaleRetry,
}

impl<U: Upstream> Driver<U> {
    /// Resyncs the whole queue set (events were missed during the gap), then applies events
    /// until the session ends.
    pub(super) async fn stream(
        &self,
        live: Live,
        progress: &mut Progress,
        cancel: &CancellationToken,
    ) -> Step {
        let Live { state, socket } = live;
        self.stream_connected(true);
        info!(channel = self.label, id = state.channel.id, "streaming");
        let ids = progress.ids.borrow().clone();
        progress.last_resync = Some(Instant::now());
        let resynced = tokio::select! {
            _ = cancel.cancelled() => None,
            _ = self.resync(&ids, &ids) => Some(()),
        };
        if resynced.is_none() {
            close(socket).await;
            return Ok(Phase::Stopped);
        }
        let started = Instant::now();
        let (end, socket, channel_gone) = self.read(socket, &state, progress, cancel).await?;
        if end == SessionEnd::Cancelled {
            close(socket).await;
            return Ok(Phase::Stopped);
        }
        self.ctx.telemetry.reconnected(end);
        (self.ctx.metrics.status()).channel(&self.label, |c| c.reconnects += 1);
        if started.elapsed() >= self.settings.heartbeat_timeout {
            progress.backoff.reset();
        }
        if end.is_rotation() {
            return Ok(Phase::Rotating(Live { state, socket }));
        }
        warn!(
            channel = self.label,
            id = state.channel.id,
            reason = end.as_str(),
            "stream ended, reconnecting"
        );
        close(socket).await;
        self.stream_connected(false);
        Ok(Phase::Reconnecting((!channel_gone).then_some(state)))
    }

    /// Reads the socket until its session ends; returns why, the socket, and whether upstream
    /// lost the channel. Meanwhile a queue-set change resubscribes and resyncs, and stale
    /// queues are resynced every `fallback_poll_interval` until they are fresh. Events keep
    /// being applied during either resync, which replays them over its snapshot
    /// (`Observations::resync_with`). A queue-set change supersedes a stale retry in flight
    /// (which can take minutes of REST retries): it resyncs the stale queues too. It waits for an
    /// earlier queue change instead, so repeated changes cannot keep restarting one.
    async fn read(
        &self,
        socket: WsStream,
        state: &ChannelState,
        progress: &mut Progress,
        cancel: &CancellationToken,
    ) -> Result<(SessionEnd, WsStream, bool), StreamError> {
        let every = self.settings.fallback_poll_interval.max(MIN_FALLBACK_POLL);
        let session_cancel = cancel.child_token();
        let session = run_session(socket, &self.ctx, Some(state.rotate_at), &session_cancel);
        tokio::pin!(session);
        let mut stale_check = self.fallback_due(progress);
        let mut update: Option<(UpdateKind, Update<'_>)> = None;
        let mut watching = true;
        let mut failed_update: Option<bool> = None;
        loop {
            let changing = matches!(update, Some((UpdateKind::QueueChange, _)));
            tokio::select! {
                (end, socket) = &mut session => {
                    let forced = end == SessionEnd::Cancelled && !cancel.is_cancelled();
                    let end = if forced { SessionEnd::Error } else { end };
                    return Ok((end, socket, failed_update.unwrap_or(false)));
                }
                // NB: replacing a stale retry drops it; dropping a resync discards its record.
                changed = progress.ids.changed(), if watching && !changing => {
                    if changed.is_err() {
                        watching = false;
                        continue;
                    }
                    let ids = progress.ids.borrow_and_update().clone();
                    progress.last_resync = Some(Instant::now());
                    stale_check = Instant::now() + every;
                    update = Some((UpdateKind::QueueChange, Box::pin(self.change_queues(state, ids))));
                }
                _ = sleep_until(stale_check), if update.is_none() => {
                    stale_check = Instant::now() + every;
                    let now = self.ctx.clock.now_seconds();
                    self.ctx.metrics.sweep_stale(now);
                    let channel_ids = progress.ids.borrow().clone();
                    let mut stale = self.stale(&channel_ids);
                    // NB: what a rejected topic would carry is polled at the same pace.
                    for id in self.ctx.rejected() {
                        if !stale.contains(&id) {
                            stale.push(id);
                        }
                    }
                    if stale.is_empty() {
                        continue;
                    }
                    debug!(channel = self.label, ids = stale.len(), "resyncing stale and unsubscribed ids while streaming");
                    progress.last_resync = Some(Instant::now());
                    update = Some((UpdateKind::StaleRetry, Box::pin(async move {
                        self.resync(&stale, &channel_ids).await;
                        Ok(())
                    })));
                }
                Some(result) = OptionFuture::from(update.as_mut().map(|(_, f)| f)), if update.is_some() => {
                    update = None;
                    match result {
                        Ok(()) => {}
                        Err(error @ StreamError::TooManyTopics { .. }) => return Err(error),
                        Err(error) => {
                            warn!(channel = self.label, kind = error.kind(), error = %error, "resubscribing after a queue change failed");
                            failed_update = Some(error.channel_is_gone());
                            session_cancel.cancel();
                        }
                    }
                }
            }
        }
    }

    /// Resubscribes to `ids` and resyncs the queues new to the channel and the stale
    /// ones (a stale retry this change superseded): the others' events kept flowing on the
    /// socket throughout. The same set again is a forced resync (after a rename), of every
    /// queue.
    async fn change_queues(
        &self,
        state: &ChannelState,
        ids: Vec<String>,
    ) -> Result<(), StreamError> {
        let before: HashSet<String> = self.ctx.subscribed().into_iter().collect();
        self.replace_subscriptions(state, &ids).await?;
        let unchanged = before.len() == ids.len() && ids.iter().all(|id| before.contains(id));
        let new: Vec<String> = if unchanged {
            ids.clone()
        } else {
            let stale: HashSet<String> = self.stale(&ids).into_iter().collect();
            let new = ids
                .iter()
                .filter(|id| !before.contains(*id) || stale.contains(*id));
            new.cloned().collect()
        };
        if !new.is_empty() {
            self.resync(&new, &ids).await;
        }
        Ok(())
    }

    /// Builds a new channel and socket while the old socket keeps being read, then drops the
    /// old one.
    pub(super) async fn rotate(
        &self,
        old: Live,
        progress: &mut Progress,
        cancel: &CancellationToken,
    ) -> Step {
        info!(
            channel = self.label,
            id = old.state.channel.id,
            "rotating channel, make-before-break"
        );
        let ids = progress.ids.borrow_and_update().clone();
        let drain_cancel = cancel.child_token();
        let drain = run_session(old.socket, &self.ctx, None, &drain_cancel);
        let replacement = self.establish(&ids);
        tokio::pin!(drain, replacement);
        let mut drained: Option<WsStream> = None;
        let result = loop {
            tokio::select! {
                _ = cancel.cancelled() => break None,
                result = &mut replacement => break Some(result),
                (end, socket) = &mut drain, if drained.is_none() => {
                    debug!(channel = self.label, reason = end.as_str(), "old socket ended during rotation");
                    drained = Some(socket);
                }
            }
        };
        drain_cancel.cancel();
        let old = match drained {
            Some(socket) => socket,
            None => drain.await.1,
        };
        close(old).await;
        match result {
            None => Ok(Phase::Stopped),
            Some(Ok(fresh)) => Ok(Phase::Streaming(fresh)),
            Some(Err(error @ StreamError::TooManyTopics { .. })) => Err(error),
            Some(Err(error)) => Ok(self.failed(error, None)),
        }
    }

    /// A new channel, subscribed and connected, in one go: while rotating the old socket
    /// covers the time it takes.
    async fn establish(&self, ids: &[String]) -> Result<Live, StreamError> {
        let state = self.open_channel().await?;
        self.replace_subscriptions(&state, ids).await?;
        let socket = self.open_socket(&state).await?;
        Ok(Live { state, socket })
    }
}

/// Closes a socket we are done with, politely but within a bound.
async fn close(mut socket: WsStream) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.close(None)).await;
}
