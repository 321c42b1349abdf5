//! The trunks' table in the store (docs/operations.md#trunks-and-edges): one entry per watched
//! trunk, its statuses and metrics, rendered at scrape time. A status the trunk does not report
//! is absent, never shown as down.

use super::table::{Marks, TelephonyEntry, TelephonyTable};
use super::{Family, instant_seconds};
use crate::genesys::model::{Trunk, TrunkMetrics};
use crate::metrics::table::{Entry, Freshness};
use crate::metrics::text;
use crate::vocabulary::telephony::TrunkLabels;

/// The states a trunk's configuration can be in, as Genesys spells them.
const STATES: [&str; 3] = ["active", "inactive", "deleted"];

/// One proxy's OPTIONS or REGISTER check.
#[derive(Debug, Clone, PartialEq)]
struct ProxyCheck {
    proxy: String,
    up: Option<bool>,
    since: Option<f64>,
}

/// One watched trunk.
#[derive(Debug)]
pub(crate) struct TrunkEntry {
    labels: TrunkLabels,
    /// `trunk_id="…"`, escaped once.
    own: Box<str>,
    freshness: Freshness,
    marks: Marks,
    state: Option<String>,
    in_service: Option<bool>,
    enabled: Option<bool>,
    connected: Option<bool>,
    connected_since: Option<f64>,
    options: Vec<ProxyCheck>,
    registers: Vec<ProxyCheck>,
    /// Inbound, outbound.
    calls: Option<[i64; 2]>,
    mismatches: Option<i64>,
}

impl Entry for TrunkEntry {
    type Labels = TrunkLabels;

    fn new(labels: &TrunkLabels, now_seconds: f64) -> Self {
        Self {
            own: text::label_set(&[("trunk_id", &labels.id)]),
            labels: labels.clone(),
            freshness: Freshness::joined(now_seconds),
            marks: Marks::default(),
            state: None,
            in_service: None,
            enabled: None,
            connected: None,
            connected_since: None,
            options: Vec::new(),
            registers: Vec::new(),
            calls: None,
            mismatches: None,
        }
    }

    fn id(labels: &TrunkLabels) -> &str {
        &labels.id
    }

    fn relabel(&mut self, labels: &TrunkLabels) -> bool {
        let renamed = labels.name != self.labels.name;
        self.labels = labels.clone();
        renamed
    }

    fn freshness(&mut self) -> &mut Freshness {
        &mut self.freshness
    }

    fn name(&self) -> &str {
        &self.labels.name
    }
}

const INFO: usize = 0;
const STATE: usize = 1;
const IN_SERVICE: usize = 2;
const ENABLED: usize = 3;
const CONNECTED: usize = 4;
const CONNECTED_SINCE: usize = 5;
const OPTIONS_UP: usize = 6;
const OPTIONS_SINCE: usize = 7;
const REGISTER_UP: usize = 8;
const REGISTER_SINCE: usize = 9;
const CALLS: usize = 10;
const MISMATCHES: usize = 11;
const TIMESTAMP: usize = 12;
const STALE: usize = 13;

/// The trunk families, in exposition order (indexed by the constants above).
const FAMILIES: [Family; 14] = [
    Family::gauge(
        "genesys_trunk_info",
        "A watched trunk, with its name, type and Edge; always 1.",
        &["edge", "edge_id", "trunk", "trunk_type"],
    ),
    Family::observed(
        "genesys_trunk_state",
        "The trunk's configuration state (active, inactive, deleted): 1 for the current one, 0 for the others.",
        &["state"],
    ),
    Family::observed(
        "genesys_trunk_in_service",
        "1 while the trunk is in service (calls can use it), 0 when it is out of service.",
        &[],
    ),
    Family::observed(
        "genesys_trunk_enabled",
        "1 while the trunk is enabled in its configuration.",
        &[],
    ),
    Family::observed(
        "genesys_trunk_connected",
        "1 while the trunk's signalling link is connected; absent when the trunk does not report it.",
        &[],
    ),
    Family::observed(
        "genesys_trunk_connected_since_timestamp_seconds",
        "Unix time when the trunk's connected status last changed.",
        &[],
    ),
    Family::observed(
        "genesys_trunk_proxy_options_up",
        "1 while the proxy answers the trunk's SIP OPTIONS pings, 0 while it fails them.",
        &["proxy"],
    ),
    Family::observed(
        "genesys_trunk_proxy_options_since_timestamp_seconds",
        "Unix time when the proxy's OPTIONS state last changed.",
        &["proxy"],
    ),
    Family::observed(
        "genesys_trunk_proxy_register_up",
        "1 while the trunk's SIP REGISTER with the proxy holds, 0 while it fails.",
        &["proxy"],
    ),
    Family::observed(
        "genesys_trunk_proxy_register_since_timestamp_seconds",
        "Unix time when the proxy's REGISTER state last changed.",
        &["proxy"],
    ),
    Family::observed(
        "genesys_trunk_calls",
        "Calls up on the trunk now, by direction.",
        &["direction"],
    ),
    Family::observed(
        "genesys_trunk_qos_mismatches",
        "Codec mismatches on the trunk over Genesys's sliding 24 hours (a gauge: it falls as old ones leave the window).",
        &[],
    ),
    Family::gauge(
        "genesys_trunk_observation_timestamp_seconds",
        "Unix time when the trunk's values were last known fresh.",
        &[],
    ),
    Family::gauge(
        "genesys_exporter_trunk_stale",
        "1 while the trunk's values cannot be refreshed.",
        &[],
    ),
];

impl TelephonyEntry for TrunkEntry {
    type Status = Trunk;
    type Metrics = TrunkMetrics;

    const FAMILIES: &'static [Family] = &FAMILIES;
    const OWN: &'static str = "trunk_id";
    const WATCHED: (&'static str, &'static str) = (
        "genesys_exporter_watched_trunks",
        "Trunks the exporter is watching (telephony.enabled).",
    );
    const PAGE: (&'static str, &'static str, &'static str) = ("Trunks", "trunks", "type");
    const MOST_SAMPLES: usize = 4;

    fn page_row(&self) -> (&str, &str, &str) {
        let l = &self.labels;
        (&l.id, &l.name, &l.trunk_type)
    }

    fn freshness_of(&self) -> &Freshness {
        &self.freshness
    }

    fn marks(&mut self) -> &mut Marks {
        &mut self.marks
    }

    fn status_id(status: &Trunk) -> &str {
        &status.id
    }

    fn metrics_id(metrics: &TrunkMetrics) -> Option<&str> {
        Some(&metrics.trunk.as_ref()?.id)
    }

    /// Takes the statuses a listing or a topic event reports; what it leaves out is unchanged.
    fn take_status(&mut self, trunk: &Trunk) -> bool {
        let before = self.checks();
        if let Some(state) = &trunk.state {
            self.state = Some(state.clone());
        }
        self.in_service = trunk.in_service.or(self.in_service);
        self.enabled = trunk.enabled.or(self.enabled);
        if let Some(status) = &trunk.connected_status {
            self.connected = status.connected;
            self.connected_since = instant_seconds(status.connected_state_time.as_deref());
        }
        if let Some(options) = &trunk.options_status {
            self.options = (options.iter())
                .map(|o| ProxyCheck {
                    proxy: o.proxy_address.clone().unwrap_or_default(),
                    up: o.option_state,
                    since: instant_seconds(o.option_state_time.as_deref()),
                })
                .collect();
        }
        if let Some(registers) = &trunk.registers_status {
            self.registers = (registers.iter())
                .map(|r| ProxyCheck {
                    proxy: r.proxy_address.clone().unwrap_or_default(),
                    up: r.register_state,
                    since: instant_seconds(r.register_state_time.as_deref()),
                })
                .collect();
        }
        self.checks() != before
    }

    fn take_metrics(&mut self, metrics: &TrunkMetrics, _at: f64) {
        if let Some(calls) = &metrics.calls {
            self.calls = Some([
                calls.inbound_call_count.unwrap_or(0),
                calls.outbound_call_count.unwrap_or(0),
            ]);
        }
        if let Some(mismatches) = metrics.qos.as_ref().and_then(|q| q.mismatch_count) {
            self.mismatches = Some(mismatches);
        }
    }

    fn render(&self, family: usize, out: &mut Vec<u8>, hide_stale: bool) {
        let Some(spec) = FAMILIES.get(family) else {
            return;
        };
        if spec.observed && hide_stale && self.freshness.is_stale() {
            return;
        }
        let own = ("trunk_id", &*self.own);
        let mut emit = |extra: &[(&str, &str)], value: f64| {
            text::entry_sample(out, spec.name, own, extra, value);
        };
        let flag = |b: bool| f64::from(u8::from(b));
        match family {
            INFO => {
                let l = &self.labels;
                let labels = [
                    ("edge", l.edge.as_str()),
                    ("edge_id", l.edge_id.as_str()),
                    ("trunk", l.name.as_str()),
                    ("trunk_type", l.trunk_type.as_str()),
                ];
                emit(&labels, 1.0);
            }
            STATE => {
                if let Some(state) = self.state.as_deref().filter(|s| STATES.contains(s)) {
                    for value in STATES {
                        emit(&[("state", value)], flag(value == state));
                    }
                }
            }
            IN_SERVICE => self.in_service.into_iter().for_each(|b| emit(&[], flag(b))),
            ENABLED => self.enabled.into_iter().for_each(|b| emit(&[], flag(b))),
            CONNECTED => self.connected.into_iter().for_each(|b| emit(&[], flag(b))),
            CONNECTED_SINCE => self.connected_since.into_iter().for_each(|t| emit(&[], t)),
            OPTIONS_UP | REGISTER_UP => {
                let checks = if family == OPTIONS_UP {
                    &self.options
                } else {
                    &self.registers
                };
                for check in checks {
                    if let Some(up) = check.up {
                        emit(&[("proxy", &check.proxy)], flag(up));
                    }
                }
            }
            OPTIONS_SINCE | REGISTER_SINCE => {
                let checks = if family == OPTIONS_SINCE {
                    &self.options
                } else {
                    &self.registers
                };
                for check in checks {
                    if let Some(since) = check.since {
                        emit(&[("proxy", &check.proxy)], since);
                    }
                }
            }
            CALLS => {
                if let Some([inbound, outbound]) = self.calls {
                    emit(&[("direction", "inbound")], inbound as f64);
                    emit(&[("direction", "outbound")], outbound as f64);
                }
            }
            MISMATCHES => self
                .mismatches
                .into_iter()
                .for_each(|n| emit(&[], n as f64)),
            TIMESTAMP => self
                .freshness
                .fresh_at()
                .into_iter()
                .for_each(|t| emit(&[], t)),
            STALE => emit(&[], flag(self.freshness.is_stale())),
            _ => {}
        }
    }
}

impl TrunkEntry {
    /// What a trunk's status topic carries: its connection and its proxies' checks.
    fn checks(&self) -> (Option<bool>, Option<f64>, Vec<ProxyCheck>, Vec<ProxyCheck>) {
        let (options, registers) = (self.options.clone(), self.registers.clone());
        (self.connected, self.connected_since, options, registers)
    }
}

/// The watched trunks' series.
pub(crate) type TrunkTable = TelephonyTable<TrunkEntry>;

#[cfg(test)]
mod tests;
