//! Trunks and Edges (docs/genesys-api.md#trunks-and-edges): the estate a contact centre's calls
//! arrive through, its listings and metrics endpoints (`rest`), and its part of the truth.
//!
//! The calls up on the trunks are the model's voice conversations in progress, inbound and
//! outbound, spread over the external trunks in service, so a trunk's calls always add up to
//! what the queues hold.

pub(crate) mod events;
pub(crate) mod rest;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::genesys::model::{
    Edge, EdgeDisk, EdgeMemory, EdgeMetrics, EdgeProcessor, EdgeSubsystem, EntityRef, Trunk,
    TrunkCalls, TrunkConnectedStatus, TrunkMetrics, TrunkOptionsStatus, TrunkQos,
    TrunkRegistersStatus,
};
use crate::genesys::time::{format_instant, from_epoch_millis};
use crate::sim::config::SimConfig;
use crate::sim::model::traffic::{DIRECTIONS, Model, uuid};

/// The trunk types Genesys has, as it spells them.
pub(crate) const TRUNK_TYPES: [&str; 3] = ["EXTERNAL", "PHONE", "EDGE"];

/// One Edge: a site's media server.
#[derive(Debug, Clone)]
pub(crate) struct SimEdge {
    pub id: String,
    pub name: String,
    pub site: EntityRef,
    pub online: bool,
    /// When it last came online, epoch ms (its uptime counts from here).
    pub up_since_ms: i64,
    index: usize,
}

/// One proxy a trunk pings and registers with.
#[derive(Debug, Clone)]
pub(crate) struct SimProxy {
    pub address: String,
    pub options_up: bool,
    pub options_since_ms: i64,
    /// `None`: the trunk does not register (only external trunks do).
    pub register: Option<(bool, i64)>,
}

/// One trunk.
#[derive(Debug, Clone)]
pub(crate) struct SimTrunk {
    pub id: String,
    pub name: String,
    pub trunk_type: &'static str,
    /// The Edge it runs on, by index.
    pub edge: usize,
    pub in_service: bool,
    pub connected: bool,
    pub connected_since_ms: i64,
    pub proxies: Vec<SimProxy>,
    pub mismatches: i64,
}

impl SimTrunk {
    /// Whether calls can arrive over it: in service and its Edge online.
    fn carries(&self, edges: &[SimEdge]) -> bool {
        self.trunk_type == "EXTERNAL" && self.in_service && edges[self.edge].online
    }
}

/// The estate: Edges, and the trunks on them.
#[derive(Debug, Clone)]
pub(crate) struct Estate {
    pub edges: Vec<SimEdge>,
    pub trunks: Vec<SimTrunk>,
}

/// How many trunks of each type and how many Edges the simulator has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephonySize {
    pub edges: usize,
    /// In the order of `TRUNK_TYPES`: external (carrier), phone, Edge-to-Edge.
    pub trunks: [usize; 3],
}

impl Default for TelephonySize {
    fn default() -> Self {
        Self {
            edges: 2,
            trunks: [2, 1, 1],
        }
    }
}

impl Estate {
    pub(crate) fn new(config: &SimConfig, now_ms: i64) -> Self {
        // NB: ids from a stream of their own, so they never move the queues' or agents'.
        let mut ids = StdRng::seed_from_u64(config.seed ^ 0x7e1e_9407_e5ca_1ab5);
        let size = config.telephony;
        let edges: Vec<SimEdge> = (0..size.edges.max(1))
            .map(|index| SimEdge {
                id: uuid(&mut ids),
                name: format!("Edge {}", index + 1),
                site: EntityRef {
                    id: uuid(&mut ids),
                    name: Some(format!("Site {}", index + 1)),
                },
                online: true,
                up_since_ms: now_ms - 86_400_000 * (index as i64 + 1),
                index,
            })
            .collect();
        let mut trunks = Vec::new();
        for (kind, count) in TRUNK_TYPES.iter().zip(size.trunks) {
            for n in 0..count {
                let edge = trunks.len() % edges.len();
                trunks.push(trunk(&mut ids, kind, n, edge, now_ms));
            }
        }
        Self { edges, trunks }
    }

    /// Each trunk's inbound and outbound calls now, from the model's voice conversations.
    pub(crate) fn calls(&self, model: &Model) -> Vec<[i64; 2]> {
        let voice = model.media_types.iter().position(|m| m == "voice");
        let mut totals = [0i64; 2];
        for queue in &model.queues {
            for interaction in queue.interactions.iter().filter(|i| Some(i.media) == voice) {
                totals[interaction.direction.min(DIRECTIONS.len() - 1)] += 1;
            }
        }
        let carrying: Vec<usize> = (0..self.trunks.len())
            .filter(|t| self.trunks[*t].carries(&self.edges))
            .collect();
        let mut calls = vec![[0, 0]; self.trunks.len()];
        let n = carrying.len() as i64;
        for (k, trunk) in carrying.iter().enumerate() {
            for (direction, total) in totals.iter().enumerate() {
                calls[*trunk][direction] = total / n + i64::from((k as i64) < total % n);
            }
        }
        calls
    }

    /// The share of voice arrivals that reach a queue: the carrier trunks carrying calls, of
    /// all of them (1 without carrier trunks).
    pub(crate) fn reach(&self) -> f64 {
        let carriers = self.trunks.iter().filter(|t| t.trunk_type == "EXTERNAL");
        let (all, carrying) = carriers.fold((0, 0), |(all, carrying), t| {
            (all + 1, carrying + usize::from(t.carries(&self.edges)))
        });
        if all == 0 {
            1.0
        } else {
            carrying as f64 / all as f64
        }
    }

    pub(crate) fn trunk_index(&self, name_or_id: &str) -> Option<usize> {
        (self.trunks.iter()).position(|t| t.name == name_or_id || t.id == name_or_id)
    }

    pub(crate) fn edge_index(&self, name_or_id: &str) -> Option<usize> {
        (self.edges.iter()).position(|e| e.name == name_or_id || e.id == name_or_id)
    }

    /// Its proxies stop (or start again) answering OPTIONS, and it leaves (or returns to)
    /// service, at `now_ms`.
    pub(crate) fn set_out_of_service(&mut self, trunk: usize, out: bool, now_ms: i64) {
        let t = &mut self.trunks[trunk];
        t.in_service = !out;
        for proxy in &mut t.proxies {
            if proxy.options_up == out {
                proxy.options_up = !out;
                proxy.options_since_ms = now_ms;
            }
        }
    }

    /// Its REGISTER with every proxy fails (or holds again) from `now_ms`.
    pub(crate) fn set_register_failing(&mut self, trunk: usize, failing: bool, now_ms: i64) {
        for proxy in &mut self.trunks[trunk].proxies {
            if let Some((up, since)) = &mut proxy.register
                && *up == failing
            {
                *up = !failing;
                *since = now_ms;
            }
        }
    }

    /// The Edge goes offline (or comes back, booted anew) at `now_ms`; its trunks' connection
    /// changes with it.
    pub(crate) fn set_offline(&mut self, edge: usize, offline: bool, now_ms: i64) {
        if self.edges[edge].online != offline {
            return;
        }
        self.edges[edge].online = !offline;
        if !offline {
            self.edges[edge].up_since_ms = now_ms;
        }
        for trunk in self.trunks.iter_mut().filter(|t| t.edge == edge) {
            trunk.connected_since_ms = now_ms;
        }
    }

    pub(crate) fn trunk_view(&self, index: usize) -> Trunk {
        let t = &self.trunks[index];
        let edge = &self.edges[t.edge];
        let options = (t.proxies.iter())
            .map(|p| TrunkOptionsStatus {
                proxy_address: Some(p.address.clone()),
                option_state: Some(p.options_up),
                option_state_time: instant(p.options_since_ms),
                error_info: None,
            })
            .collect();
        let registers: Vec<TrunkRegistersStatus> = (t.proxies.iter())
            .filter_map(|p| {
                let (up, since) = p.register?;
                Some(TrunkRegistersStatus {
                    proxy_address: Some(p.address.clone()),
                    register_state: Some(up),
                    register_state_time: instant(since),
                    error_info: None,
                })
            })
            .collect();
        let registers_enabled = if registers.is_empty() {
            "DISABLED"
        } else {
            "ENABLED"
        };
        Trunk {
            id: t.id.clone(),
            name: t.name.clone(),
            state: Some("active".to_owned()),
            trunk_type: Some(t.trunk_type.to_owned()),
            // NB: a trunk on an offline Edge is out of service with it.
            in_service: Some(t.in_service && edge.online),
            enabled: Some(true),
            edge: Some(EntityRef {
                id: edge.id.clone(),
                name: Some(edge.name.clone()),
            }),
            connected_status: Some(TrunkConnectedStatus {
                connected: Some(t.connected && edge.online),
                connected_state_time: instant(t.connected_since_ms),
            }),
            options_status: Some(options),
            registers_enabled_status: Some(registers_enabled.to_owned()),
            registers_status: Some(registers),
            options_enabled_status: Some("ENABLED".to_owned()),
            ..Trunk::default()
        }
    }

    pub(crate) fn trunk_metrics(&self, index: usize, calls: [i64; 2], now_ms: i64) -> TrunkMetrics {
        let t = &self.trunks[index];
        TrunkMetrics {
            event_time: instant(now_ms),
            logical_interface: None,
            trunk: Some(EntityRef {
                id: t.id.clone(),
                name: Some(t.name.clone()),
            }),
            calls: Some(TrunkCalls {
                inbound_call_count: Some(calls[0]),
                outbound_call_count: Some(calls[1]),
            }),
            qos: Some(TrunkQos {
                mismatch_count: Some(t.mismatches),
            }),
        }
    }

    pub(crate) fn edge_view(&self, index: usize) -> Edge {
        let e = &self.edges[index];
        Edge {
            id: e.id.clone(),
            name: e.name.clone(),
            state: Some("active".to_owned()),
            online_status: Some(if e.online { "ONLINE" } else { "OFFLINE" }.to_owned()),
            status_code: Some(if e.online { "ACTIVE" } else { "INACTIVE" }.to_owned()),
            edge_deployment_type: Some("HARDWARE".to_owned()),
            site: Some(e.site.clone()),
            software_version: Some("1.0.0.9000".to_owned()),
            managed: Some(true),
            ..Edge::default()
        }
    }

    /// An Edge's metrics: fixed by its index (the simulator has no load model for Edges), its
    /// uptime counting from when it last came online.
    pub(crate) fn edge_metrics(&self, index: usize, now_ms: i64) -> EdgeMetrics {
        let e = &self.edges[index];
        // NB: whole numbers, as the metrics topic sends them, so REST and the stream agree.
        let cpu = 10.0 + (e.index * 7 % 40) as f64;
        const GIB: f64 = 1_073_741_824.0;
        EdgeMetrics {
            edge: Some(EntityRef {
                id: e.id.clone(),
                name: Some(e.name.clone()),
            }),
            event_time: instant(now_ms),
            up_time_msec: Some((now_ms - e.up_since_ms).max(0)),
            processors: vec![EdgeProcessor {
                cpu_id: "total".to_owned(),
                active_time_pct: Some(cpu),
                idle_time_pct: Some(100.0 - cpu),
            }],
            memory: vec![EdgeMemory {
                kind: "physical".to_owned(),
                available_bytes: Some((6 + e.index % 4) as f64 * GIB),
                total_bytes: Some(16.0 * GIB),
            }],
            disks: vec![EdgeDisk {
                partition_name: "/".to_owned(),
                available_bytes: Some((100 + e.index % 50) as f64 * GIB),
                total_bytes: Some(256.0 * GIB),
            }],
            subsystems: vec![
                EdgeSubsystem {
                    process_name: "media".to_owned(),
                    delay_ms: Some(2 + (e.index % 5) as i64),
                },
                EdgeSubsystem {
                    process_name: "signalling".to_owned(),
                    delay_ms: Some(1),
                },
            ],
        }
    }

    /// The truth: every trunk and Edge as the listings give it, with its metrics.
    pub(crate) fn truth(&self, model: &Model, now_ms: i64) -> Value {
        let calls = self.calls(model);
        let trunks: Vec<Value> = (0..self.trunks.len())
            .map(|t| {
                json!({"trunk": self.trunk_view(t),
                    "metrics": self.trunk_metrics(t, calls[t], now_ms)})
            })
            .collect();
        let edges: Vec<Value> = (0..self.edges.len())
            .map(|e| json!({"edge": self.edge_view(e), "metrics": self.edge_metrics(e, now_ms)}))
            .collect();
        json!({"trunks": trunks, "edges": edges})
    }
}

fn trunk(ids: &mut StdRng, kind: &'static str, n: usize, edge: usize, now_ms: i64) -> SimTrunk {
    let name = match kind {
        "EXTERNAL" => format!("Carrier {}", (b'A' + (n % 26) as u8) as char),
        "PHONE" => format!("Phones {}", n + 1),
        _ => format!("Edge link {}", n + 1),
    };
    let id = uuid(ids);
    let since = now_ms - 3_600_000;
    // NB: a carrier trunk pings two proxies and registers with them; the others ping one.
    let proxies = (0..if kind == "EXTERNAL" { 2 } else { 1 })
        .map(|p| SimProxy {
            address: format!(
                "sip{}.{}.example.net:5061",
                p + 1,
                id.get(..8).unwrap_or("trunk")
            ),
            options_up: true,
            options_since_ms: since,
            register: (kind == "EXTERNAL").then_some((true, since)),
        })
        .collect();
    SimTrunk {
        id,
        name,
        trunk_type: kind,
        edge,
        in_service: true,
        connected: true,
        connected_since_ms: since,
        proxies,
        mismatches: (n % 3) as i64,
    }
}

fn instant(ms: i64) -> Option<String> {
    from_epoch_millis(ms).map(format_instant)
}

#[cfg(test)]
mod tests;
