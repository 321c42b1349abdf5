//! The queues as a source: the routing listing, the analytics queries over them, a queue's
//! observable state and the `/sim/queues…` endpoints.

pub(crate) mod analytics;
pub(crate) mod control;
pub(crate) mod routing;
pub(crate) mod view;
