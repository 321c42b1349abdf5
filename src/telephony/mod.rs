//! Trunks and Edges (docs/operations.md#trunks-and-edges): which ones are watched (types and name
//! patterns for trunks, sites for Edges, each listing folded in with a grace), their tables in the
//! store, and their REST read: the listings give the statuses, the metrics endpoints the calls
//! and the load, 100 ids a request.
//!
//! Not yet: their notification topics. Until then every read is a resync, at the pace the
//! stream's fallback polls take.

mod edges;
mod table;
mod trunks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub(crate) use edges::EdgeTable;
pub(crate) use trunks::TrunkTable;

use crate::genesys::GenesysClient;
use crate::genesys::error::ApiError;
use crate::genesys::model::{Edge, Trunk};
use crate::genesys::time::parse_instant;
use crate::metrics::Metrics;
use crate::metrics::registry::FamilyDoc;
use crate::metrics::text::Kind;
use crate::sync::lock;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::labels::LabelValue;
use crate::vocabulary::listing::MonitoredSet;
use crate::vocabulary::queue::name_matches;
use crate::vocabulary::telephony::{EdgeLabels, TrunkLabels, TrunkType};

/// Which trunks and Edges are watched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelephonySelection {
    /// Never empty.
    pub trunk_types: Vec<TrunkType>,
    /// `*` patterns; empty: every trunk of the types.
    pub trunk_names: Vec<String>,
    /// Site names (`*` patterns) or ids; empty: every Edge.
    pub edge_sites: Vec<String>,
}

impl TelephonySelection {
    fn takes_trunk(&self, trunk: &Trunk) -> bool {
        let kind = trunk.trunk_type.as_deref().and_then(TrunkType::parse);
        let of_type = kind.is_some_and(|kind| self.trunk_types.contains(&kind));
        let named = self.trunk_names.is_empty()
            || (self.trunk_names.iter()).any(|pattern| name_matches(pattern, &trunk.name));
        of_type && named
    }

    fn takes_edge(&self, edge: &Edge) -> bool {
        let Some(site) = &edge.site else {
            return self.edge_sites.is_empty();
        };
        let name = site.name.as_deref().unwrap_or_default();
        self.edge_sites.is_empty()
            || (self.edge_sites.iter())
                .any(|wanted| *wanted == site.id || name_matches(wanted, name))
    }
}

/// The telephony source: its selection, what the listings last held, its two tables.
pub struct Telephony {
    selection: TelephonySelection,
    trunks: Arc<TrunkTable>,
    edges: Arc<EdgeTable>,
    watched: Mutex<Watched>,
    /// When a read was current.
    clock: Clock,
}

struct Watched {
    trunks: MonitoredSet<TrunkLabels>,
    edges: MonitoredSet<EdgeLabels>,
}

impl Telephony {
    /// Registers its tables in `metrics`; an entity missing from a listing keeps its series
    /// for `grace` refreshes.
    pub fn new(metrics: &Metrics, selection: TelephonySelection, grace: u32, clock: Clock) -> Self {
        Self {
            selection,
            trunks: TrunkTable::register(metrics),
            edges: EdgeTable::register(metrics),
            watched: Mutex::new(Watched {
                trunks: MonitoredSet::new(grace),
                edges: MonitoredSet::new(grace),
            }),
            clock,
        }
    }

    /// Reads the listings and the metrics of what they hold: every watched trunk and Edge
    /// resynced, or, when a read fails, marked stale until the next one succeeds. The trunks'
    /// and the Edges' metrics are read apart, so one failing costs the other nothing.
    pub(crate) async fn read(&self, client: &GenesysClient) -> Result<(), ApiError> {
        // NB: the instant before the listings, whose statuses the resync makes current.
        let at = self.clock.now_seconds();
        let (trunk_ids, edge_ids) = match self.read_listings(client).await {
            Ok(ids) => ids,
            Err(error) => {
                self.all_stale();
                return Err(error);
            }
        };
        let trunks = (client.trunk_metrics(&trunk_ids).await)
            .map(|metrics| self.trunks.resynced_all(&trunk_ids, &metrics, at));
        let edges = (client.edge_metrics(&edge_ids).await)
            .map(|metrics| self.edges.resynced_all(&edge_ids, &metrics, at));
        if trunks.is_err() {
            self.trunks.set_stale(&trunk_ids);
        }
        if edges.is_err() {
            self.edges.set_stale(&edge_ids);
        }
        trunks.and(edges)
    }

    /// Both listings folded into the watched sets and the tables (their statuses applied);
    /// returns the ids the listings held.
    async fn read_listings(
        &self,
        client: &GenesysClient,
    ) -> Result<(Vec<String>, Vec<String>), ApiError> {
        let every_type = TrunkType::ALL
            .iter()
            .all(|t| self.selection.trunk_types.contains(t));
        let trunks = match every_type {
            true => client.list_trunks(&[]).await?,
            false => client.list_trunks(&self.selection.trunk_types).await?,
        };
        let edges = client.list_edges().await?;
        let edge_names: HashMap<&str, &str> = edges
            .iter()
            .map(|e| (e.id.as_str(), e.name.as_str()))
            .collect();
        let trunks: Vec<&Trunk> = trunks
            .iter()
            .filter(|t| self.selection.takes_trunk(t))
            .collect();
        let edges: Vec<&Edge> = edges
            .iter()
            .filter(|e| self.selection.takes_edge(e))
            .collect();
        let trunk_labels = (trunks.iter())
            .map(|t| trunk_labels(t, &edge_names))
            .collect();
        let edge_labels = edges.iter().map(|e| edge_labels(e)).collect();
        let (trunk_labels, edge_labels, listed) = {
            let mut watched = lock(&self.watched);
            let trunk_labels = watched.trunks.update(trunk_labels);
            let edge_labels = watched.edges.update(edge_labels);
            let listed = (watched.trunks.listed(), watched.edges.listed());
            (trunk_labels, edge_labels, listed)
        };
        self.trunks.watch(&trunk_labels);
        self.edges.watch(&edge_labels);
        trunks.iter().for_each(|t| self.trunks.status(t));
        edges.iter().for_each(|e| self.edges.status(e));
        Ok(listed)
    }

    /// Every watched trunk and Edge could not be read.
    fn all_stale(&self) {
        let (trunks, edges) = {
            let watched = lock(&self.watched);
            (watched.trunks.listed(), watched.edges.listed())
        };
        self.trunks.set_stale(&trunks);
        self.edges.set_stale(&edges);
    }
}

fn trunk_labels(trunk: &Trunk, edge_names: &HashMap<&str, &str>) -> TrunkLabels {
    let edge_id = trunk
        .edge
        .as_ref()
        .map(|e| e.id.clone())
        .unwrap_or_default();
    let edge = (trunk.edge.as_ref())
        .and_then(|e| e.name.clone())
        .or_else(|| edge_names.get(edge_id.as_str()).map(|n| (*n).to_owned()))
        .unwrap_or_default();
    TrunkLabels {
        id: trunk.id.clone(),
        name: trunk.name.clone(),
        trunk_type: trunk.trunk_type.clone().unwrap_or_default(),
        edge_id,
        edge,
    }
}

fn edge_labels(edge: &Edge) -> EdgeLabels {
    let site = edge.site.clone().unwrap_or_default();
    EdgeLabels {
        id: edge.id.clone(),
        name: edge.name.clone(),
        site_id: site.id,
        site: site.name.unwrap_or_default(),
    }
}

/// Unix seconds of an instant Genesys wrote.
fn instant_seconds(text: Option<&str>) -> Option<f64> {
    parse_instant(text?).map(|at| at.timestamp_millis() as f64 / 1000.0)
}

/// One telephony family: its name, help and labels besides the entity's id; `observed`
/// families are left out for a stale entity under `stale_gauges: remove`.
pub(crate) struct Family {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    observed: bool,
}

impl Family {
    const fn gauge(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            help,
            labels,
            observed: false,
        }
    }

    const fn observed(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Self {
        Self {
            observed: true,
            ..Self::gauge(name, help, labels)
        }
    }

    fn doc(&self, own: &str) -> FamilyDoc {
        let labels = self.labels.iter().copied().chain([own]);
        FamilyDoc::of_table(self.name, Kind::Gauge, labels, self.help)
    }
}
