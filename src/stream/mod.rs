//! The Notifications API stream (docs/genesys-api.md#notification-channels,
//! docs/genesys-api.md#the-notification-websocket), and what a gap costs
//! (docs/operations.md#fresh-and-stale).
//!
//! - [`message`] parses one text frame into a typed message.
//! - [`connection`] opens one WebSocket and runs a session over it: heartbeat watchdog, frame
//!   counting, each event to the parts its channel's [`carried::Carried`] holds.
//! - [`supervisor`] keeps one channel alive: create, subscribe, connect, resync after every
//!   gap, reconnect with backoff, rotate make-before-break, fall back to REST polling.
//! - [`carried`] says what a channel's topics are about, and where their events go.
//! - [`placement`] puts ids on channels within the client's channel budget.
//! - `upstream` is the REST side the supervisor needs, as a trait its tests can script.

pub mod carried;
pub mod connection;
pub(crate) mod message;
pub(crate) mod placement;
pub(crate) mod supervisor;
pub(crate) mod telemetry;
mod upstream;
