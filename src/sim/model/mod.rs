//! The simulated org every source reads: the queue set and the traffic model that moves
//! customers and agents through it, with what the model records as it goes.

pub(crate) mod agent_time;
pub(crate) mod directory;
pub(crate) mod ivr;
pub(crate) mod lagged;
pub(crate) mod stats;
pub(crate) mod traffic;
