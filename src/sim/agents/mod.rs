//! The agents as a source: the org's presence definitions, the agents as users, the routing
//! activity and users aggregates queries, and their part of each publish round.

pub(crate) mod events;
pub(crate) mod presence;
pub(crate) mod user_aggregates;
pub(crate) mod users;
