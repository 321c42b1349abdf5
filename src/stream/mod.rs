//! The Notifications API stream. PLACEHOLDER: being implemented.

pub mod connection;
pub mod message;
pub mod supervisor;
