//! genesys-exporter: Genesys Cloud queues as Prometheus metrics.
//!
//! Data flows one way (see ARCHITECTURE.md#layers):
//!
//! - [`genesys`] authenticates ([`genesys::auth`]) and executes REST calls
//!   ([`genesys::client`]) with retries and self-metrics; [`genesys::model`] holds the wire types.
//! - [`queues`] and [`agents`] are the sources, one folder each: what is watched, its topics'
//!   events, its REST resync ([`queues::observations`]: live gauges, resynced over REST after
//!   every gap), its table in the store, its counters.
//! - [`stream`] keeps Notifications API channels (1,000 topics each) and their WebSockets
//!   alive and feeds parsed events to each source's parts and running interval totals to
//!   [`aggregates`].
//! - [`aggregates`] polls conversation aggregates and folds them through the bucket ledger into
//!   monotonic counters.
//! - [`metrics`] is the store: the self-metrics registry, the table each source registers
//!   (its series rendered by hand) and the scrape; [`server`] serves `/metrics`, `/healthz`
//!   and `/readyz`; [`app`] wires the tasks under one cancellation token, and `tasks` watches
//!   them: a task that dies stops the exporter (`failpoint` injects such deaths in tests).
//! - [`sim`] is an embedded Genesys Cloud simulator speaking the same API, for the demo and
//!   for tests.
#![forbid(unsafe_code)]
// NB: no unwrap or expect outside tests (clippy.toml lets tests): upstream and HTTP input must
// never reach a panic. The few startup-only exceptions say why where they are.
#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod actions;
pub mod agents;
pub mod aggregates;
pub mod app;
pub mod backoff;
pub mod build_info;
pub mod config;
mod failpoint;
#[doc(hidden)]
pub mod flows;
pub mod fuzzing;
pub mod genesys;
pub mod health;
pub mod logfmt;
pub mod metrics;
pub mod queues;
pub mod secret;
pub mod server;
pub mod shard;
pub mod sim;
pub mod status;
pub mod stream;
pub(crate) mod sync;
mod tasks;
pub mod telephony;
pub mod vocabulary;
