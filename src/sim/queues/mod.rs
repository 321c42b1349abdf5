//! The queues as a source: the routing listing, the observations and conversation aggregates
//! queries, a queue's state rendered three ways, its part of each publish round and its
//! `/sim/queues…` endpoints.

pub(crate) mod analytics;
pub(crate) mod control;
pub(crate) mod events;
pub(crate) mod routing;
mod view;
