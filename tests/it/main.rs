//! The integration tests, one binary: black-box tests that start the simulator and the
//! exporter (in process or as the real binary) on 127.0.0.1 and compare what they serve with
//! the simulator's ground truth, plus the operators' kit checked with the real tools. One module
//! per concern; `common` is the shared harness. One binary links the library once, where a
//! binary per file linked it once each.

mod common;

// NB: the heavy tests (`common::one_heavy_test_at_a_time`) run one after another: the suite's
// longest chain. libtest starts tests in the order of their names, so their modules' names sort
// first and the chain starts at once, not once the tests before it free a thread.
#[path = "api_economy.rs"]
mod a_heavy_api_economy;
#[path = "at_scale.rs"]
mod a_heavy_at_scale;
mod accelerated_hour;
mod agents;
mod alert_delivery;
mod alert_routing;
mod cli;
mod counters;
mod dashboards;
mod deploy;
mod docs;
mod end_to_end;
mod faults;
mod filters;
mod flows;
mod freshness;
mod ground_truth;
mod layers;
mod promtool;
mod proxy;
mod queue_set;
mod restart;
mod sdk_compat;
mod secret_hygiene;
mod shards;
mod state_file;
mod status_page;
mod task_death;
mod telephony;
mod trust;
