//! `POST /sim/faults`: the fault type, applying one where it acts, and what the socket faults
//! send. It sits above every other part, as it reaches whatever a fault breaks; what is armed
//! lives beside what consults it (`api_faults` by the guard, `round_faults` by the publisher,
//! the agents' read faults in `agents::users`).

pub(crate) mod fault;
pub(crate) mod inject;
mod socket_faults;
