//! `POST /sim/faults`: the fault type, applying one where it acts, and what the socket faults
//! send.

pub(crate) mod fault;
pub(crate) mod inject;
pub(crate) mod socket_faults;
