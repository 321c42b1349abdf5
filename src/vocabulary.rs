//! The bottom layer (ARCHITECTURE.md#layers): the words every other layer speaks — fixed label
//! sets, the conversation counters, the queue's domain types and the clock. It imports nothing of
//! ours, so anything may import it.

pub mod agent;
pub mod clock;
pub mod counters;
pub mod flows;
pub mod labels;
pub mod listing;
pub mod metric;
pub mod presence;
pub mod queue;
pub mod telephony;
