//! The Edges' table in the store (docs/operations.md#trunks-and-edges): one entry per watched
//! Edge, its status and load, rendered at scrape time.

use super::table::{Marks, TelephonyEntry, TelephonyTable};
use super::{Family, instant_seconds};
use crate::genesys::model::{Edge, EdgeMetrics};
use crate::metrics::table::{Entry, Freshness};
use crate::metrics::text;
use crate::vocabulary::telephony::EdgeLabels;

/// The status codes an Edge can report, as Genesys spells them.
const STATUS_CODES: [&str; 12] = [
    "NEW",
    "AWAITING_CONNECTION",
    "AWAITING_FINGERPRINT",
    "AWAITING_FINGERPRINT_VERIFICATION",
    "FINGERPRINT_VERIFIED",
    "AWAITING_BOOTSTRAP",
    "ACTIVE",
    "INACTIVE",
    "RMA",
    "UNPAIRING",
    "UNPAIRED",
    "INITIALIZING",
];

/// Used and total bytes of one memory kind or disk partition.
#[derive(Debug, Clone, PartialEq)]
struct Space {
    name: String,
    used: Option<f64>,
    total: Option<f64>,
}

/// One watched Edge.
#[derive(Debug)]
pub(crate) struct EdgeEntry {
    labels: EdgeLabels,
    /// `edge_id="…"`, escaped once.
    own: Box<str>,
    freshness: Freshness,
    marks: Marks,
    online: Option<bool>,
    status_code: Option<String>,
    cpu_active: Option<f64>,
    memory: Vec<Space>,
    disks: Vec<Space>,
    worst_delay_ms: Option<i64>,
    boot_time: Option<f64>,
}

impl Entry for EdgeEntry {
    type Labels = EdgeLabels;

    fn new(labels: &EdgeLabels, now_seconds: f64) -> Self {
        Self {
            own: text::label_set(&[("edge_id", &labels.id)]),
            labels: labels.clone(),
            freshness: Freshness::joined(now_seconds),
            marks: Marks::default(),
            online: None,
            status_code: None,
            cpu_active: None,
            memory: Vec::new(),
            disks: Vec::new(),
            worst_delay_ms: None,
            boot_time: None,
        }
    }

    fn id(labels: &EdgeLabels) -> &str {
        &labels.id
    }

    fn relabel(&mut self, labels: &EdgeLabels) -> bool {
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

fn used(available: Option<f64>, total: Option<f64>) -> Option<f64> {
    Some((total? - available?).max(0.0))
}

const INFO: usize = 0;
const ONLINE: usize = 1;
const STATUS: usize = 2;
const CPU: usize = 3;
const MEMORY_USED: usize = 4;
const MEMORY_TOTAL: usize = 5;
const DISK_USED: usize = 6;
const DISK_TOTAL: usize = 7;
const DELAY: usize = 8;
const BOOT: usize = 9;
const TIMESTAMP: usize = 10;
const STALE: usize = 11;

/// The Edge families, in exposition order (indexed by the constants above).
const FAMILIES: [Family; 12] = [
    Family::gauge(
        "genesys_edge_info",
        "A watched Edge, with its name and site; always 1.",
        &["edge", "site", "site_id"],
    ),
    Family::observed(
        "genesys_edge_online",
        "1 while the Edge is online, 0 while it is offline.",
        &[],
    ),
    Family::observed(
        "genesys_edge_status",
        "The Edge's status code: 1 for the current one, 0 for the others.",
        &["status_code"],
    ),
    Family::observed(
        "genesys_edge_cpu_active_ratio",
        "The share of the Edge's CPU time busy (its total processor), 0 to 1.",
        &[],
    ),
    Family::observed(
        "genesys_edge_memory_used_bytes",
        "The Edge's memory in use, by type.",
        &["type"],
    ),
    Family::observed(
        "genesys_edge_memory_total_bytes",
        "The Edge's memory, by type.",
        &["type"],
    ),
    Family::observed(
        "genesys_edge_disk_used_bytes",
        "The Edge's disk space in use, by partition.",
        &["partition"],
    ),
    Family::observed(
        "genesys_edge_disk_total_bytes",
        "The Edge's disk space, by partition.",
        &["partition"],
    ),
    Family::observed(
        "genesys_edge_subsystem_delay_max_seconds",
        "The longest processing delay among the Edge's subsystems.",
        &[],
    ),
    Family::observed(
        "genesys_edge_boot_time_seconds",
        "Unix time when the Edge last started; time() minus this is its uptime.",
        &[],
    ),
    Family::gauge(
        "genesys_edge_observation_timestamp_seconds",
        "Unix time when the Edge's values were last known fresh.",
        &[],
    ),
    Family::gauge(
        "genesys_exporter_edge_stale",
        "1 while the Edge's values cannot be refreshed.",
        &[],
    ),
];

impl TelephonyEntry for EdgeEntry {
    type Status = Edge;
    type Metrics = EdgeMetrics;

    const FAMILIES: &'static [Family] = &FAMILIES;
    const OWN: &'static str = "edge_id";
    const WATCHED: (&'static str, &'static str) = (
        "genesys_exporter_watched_edges",
        "Edges the exporter is watching (telephony.enabled).",
    );
    const PAGE: (&'static str, &'static str, &'static str) = ("Edges", "edges", "site");
    const MOST_SAMPLES: usize = 12;

    fn page_row(&self) -> (&str, &str, &str) {
        let l = &self.labels;
        (&l.id, &l.name, &l.site)
    }

    fn freshness_of(&self) -> &Freshness {
        &self.freshness
    }

    fn marks(&mut self) -> &mut Marks {
        &mut self.marks
    }

    fn status_id(status: &Edge) -> &str {
        &status.id
    }

    fn metrics_id(metrics: &EdgeMetrics) -> Option<&str> {
        Some(&metrics.edge.as_ref()?.id)
    }

    /// Takes the status a listing or a topic event reports; what it leaves out is unchanged.
    fn take_status(&mut self, edge: &Edge) -> bool {
        let before = self.online;
        if let Some(online) = &edge.online_status {
            self.online = Some(online == "ONLINE");
        }
        if let Some(code) = &edge.status_code {
            self.status_code = Some(code.clone());
        }
        self.online != before
    }

    /// Takes the metrics; `at` is the read's time, for an Edge that reports no `eventTime`.
    fn take_metrics(&mut self, metrics: &EdgeMetrics, at: f64) {
        let total = metrics.processors.iter().find(|p| p.cpu_id == "total");
        self.cpu_active = total.and_then(|p| p.active_time_pct).map(|pct| pct / 100.0);
        self.memory = (metrics.memory.iter())
            .map(|m| Space {
                name: m.kind.clone(),
                used: used(m.available_bytes, m.total_bytes),
                total: m.total_bytes,
            })
            .collect();
        self.disks = (metrics.disks.iter())
            .map(|d| Space {
                name: d.partition_name.clone(),
                used: used(d.available_bytes, d.total_bytes),
                total: d.total_bytes,
            })
            .collect();
        self.worst_delay_ms = metrics.subsystems.iter().filter_map(|s| s.delay_ms).max();
        let at = instant_seconds(metrics.event_time.as_deref()).unwrap_or(at);
        self.boot_time = metrics.up_time_msec.map(|up| at - up as f64 / 1000.0);
    }

    fn render(&self, family: usize, out: &mut Vec<u8>, hide_stale: bool) {
        let Some(spec) = FAMILIES.get(family) else {
            return;
        };
        if spec.observed && hide_stale && self.freshness.is_stale() {
            return;
        }
        let own = ("edge_id", &*self.own);
        let mut emit = |extra: &[(&str, &str)], value: f64| {
            text::entry_sample(out, spec.name, own, extra, value);
        };
        let flag = |b: bool| f64::from(u8::from(b));
        match family {
            INFO => {
                let l = &self.labels;
                let labels = [
                    ("edge", l.name.as_str()),
                    ("site", l.site.as_str()),
                    ("site_id", l.site_id.as_str()),
                ];
                emit(&labels, 1.0);
            }
            ONLINE => self.online.into_iter().for_each(|b| emit(&[], flag(b))),
            STATUS => {
                if let Some(code) = self
                    .status_code
                    .as_deref()
                    .filter(|c| STATUS_CODES.contains(c))
                {
                    for value in STATUS_CODES {
                        emit(&[("status_code", value)], flag(value == code));
                    }
                }
            }
            CPU => self.cpu_active.into_iter().for_each(|r| emit(&[], r)),
            MEMORY_USED | MEMORY_TOTAL | DISK_USED | DISK_TOTAL => {
                let (spaces, label) = match family {
                    MEMORY_USED | MEMORY_TOTAL => (&self.memory, "type"),
                    _ => (&self.disks, "partition"),
                };
                let total = family == MEMORY_TOTAL || family == DISK_TOTAL;
                for space in spaces {
                    if let Some(value) = if total { space.total } else { space.used } {
                        emit(&[(label, &space.name)], value);
                    }
                }
            }
            DELAY => (self.worst_delay_ms.into_iter()).for_each(|ms| emit(&[], ms as f64 / 1000.0)),
            BOOT => self.boot_time.into_iter().for_each(|t| emit(&[], t)),
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

/// The watched Edges' series.
pub(crate) type EdgeTable = TelephonyTable<EdgeEntry>;
