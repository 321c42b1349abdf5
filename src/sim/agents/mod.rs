//! The agents as a source: the org's presence definitions, the agents as users, the routing
//! activity query and their time in status.

pub(crate) mod presence;
pub(crate) mod user_aggregates;
pub(crate) mod users;
