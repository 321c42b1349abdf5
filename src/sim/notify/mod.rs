//! Notifications: the channel registry, its REST endpoints and sockets, channel expiry, and the
//! publisher, whose rounds the sources fill and the armed publish faults shape.

pub(crate) mod channels;
pub(crate) mod expiry;
pub(crate) mod notifications;
pub(crate) mod publish;
pub(crate) mod round_faults;
pub(crate) mod ws;
