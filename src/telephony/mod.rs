//! Trunks and Edges (docs/operations.md#trunks-and-edges): which ones are watched (types and name
//! patterns for trunks, sites for Edges, each listing folded in with a grace), their tables in the
//! store, their topics' events, and their resync over REST: the listings give the statuses, the
//! metrics endpoints the calls and the load, 100 ids a request.
//!
//! A status topic says less than the listing (no trunk state, no in-service flag, no Edge status
//! code), so a status event makes its trunk or Edge due a resync, which the channel's next stale
//! retry performs: what only the listing gives follows within one `fallback_poll_interval`.

mod edges;
pub(crate) mod events;
mod table;
mod trunks;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

pub(crate) use edges::EdgeTable;
use table::{TelephonyEntry, TelephonyTable};
pub(crate) use trunks::TrunkTable;

use crate::genesys::GenesysClient;
use crate::genesys::egress::log_unless_reported;
use crate::genesys::error::ApiError;
use crate::genesys::model::{Edge, EdgeMetrics, Trunk, TrunkMetrics};
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
use events::{EdgeEvent, TelephonyEvent, TrunkEvent};

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

/// The REST reads a telephony resync needs, behind a trait so the stream's tests script them.
pub(crate) trait TelephonySource: Send + Sync + 'static {
    /// The trunks of `types` (every trunk when empty).
    fn list_trunks(
        &self,
        types: &[TrunkType],
    ) -> impl Future<Output = Result<Vec<Trunk>, ApiError>> + Send;

    fn list_edges(&self) -> impl Future<Output = Result<Vec<Edge>, ApiError>> + Send;

    fn trunk_metrics(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<TrunkMetrics>, ApiError>> + Send;

    fn edge_metrics(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<EdgeMetrics>, ApiError>> + Send;
}

impl TelephonySource for GenesysClient {
    fn list_trunks(
        &self,
        types: &[TrunkType],
    ) -> impl Future<Output = Result<Vec<Trunk>, ApiError>> + Send {
        GenesysClient::list_trunks(self, types)
    }

    fn list_edges(&self) -> impl Future<Output = Result<Vec<Edge>, ApiError>> + Send {
        GenesysClient::list_edges(self)
    }

    fn trunk_metrics(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<TrunkMetrics>, ApiError>> + Send {
        GenesysClient::trunk_metrics(self, ids)
    }

    fn edge_metrics(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<EdgeMetrics>, ApiError>> + Send {
        GenesysClient::edge_metrics(self, ids)
    }
}

/// The ids the listings last held, each kind sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Listed {
    pub trunks: Vec<String>,
    pub edges: Vec<String>,
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

    pub(crate) fn trunks(&self) -> &TrunkTable {
        &self.trunks
    }

    pub(crate) fn edges(&self) -> &EdgeTable {
        &self.edges
    }

    /// Reads both listings into the watched sets and the tables (their statuses taken, unless
    /// an event since said newer); returns the ids they hold, with those in their grace.
    pub(crate) async fn refresh(&self, source: &impl TelephonySource) -> Result<Listed, ApiError> {
        let at = self.clock.now_seconds();
        let trunks = self.list_trunks(source).await?;
        let edges = source.list_edges().await?;
        let edge_names: HashMap<&str, &str> = edges
            .iter()
            .map(|e| (e.id.as_str(), e.name.as_str()))
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
            let listed = Listed {
                trunks: watched.trunks.listed(),
                edges: watched.edges.listed(),
            };
            (trunk_labels, edge_labels, listed)
        };
        self.trunks.watch(&trunk_labels);
        self.edges.watch(&edge_labels);
        trunks.iter().for_each(|t| self.trunks.listed(t, at));
        edges.iter().for_each(|e| self.edges.listed(e, at));
        Ok(listed)
    }

    /// The selected trunks: one listing of every type when every type is selected, else one
    /// per type.
    async fn list_trunks(&self, source: &impl TelephonySource) -> Result<Vec<Trunk>, ApiError> {
        let types = &self.selection.trunk_types;
        let every_type = TrunkType::ALL.iter().all(|t| types.contains(t));
        let mut trunks = match every_type {
            true => source.list_trunks(&[]).await?,
            false => source.list_trunks(types).await?,
        };
        trunks.retain(|t| self.selection.takes_trunk(t));
        Ok(trunks)
    }

    /// Reads `ids`' statuses (the listing) and metrics (100 a request), current as of the read;
    /// when a read fails they are stale until a resync succeeds.
    pub(crate) async fn resync_trunks(
        &self,
        ids: &[String],
        source: &impl TelephonySource,
    ) -> Result<(), ApiError> {
        let read = async {
            Ok((
                self.list_trunks(source).await?,
                source.trunk_metrics(ids).await?,
            ))
        };
        self.resync(&self.trunks, ids, read).await
    }

    /// Reads `ids`' statuses and metrics, as [`Self::resync_trunks`] does for trunks.
    pub(crate) async fn resync_edges(
        &self,
        ids: &[String],
        source: &impl TelephonySource,
    ) -> Result<(), ApiError> {
        let read = async { Ok((source.list_edges().await?, source.edge_metrics(ids).await?)) };
        self.resync(&self.edges, ids, read).await
    }

    /// Resyncs `ids` of `table` from `read` (a listing and the metrics), current as of when
    /// it began.
    async fn resync<E: TelephonyEntry>(
        &self,
        table: &TelephonyTable<E>,
        ids: &[String],
        read: impl Future<Output = Result<(Vec<E::Status>, Vec<E::Metrics>), ApiError>>,
    ) -> Result<(), ApiError> {
        let at = self.clock.now_seconds();
        let (statuses, metrics) = self.or_stale(read.await, || table.set_stale(ids))?;
        table.resynced_from(ids, &statuses, &metrics, at);
        Ok(())
    }

    /// A failed read marks what it was for stale, and says so once per kind of failure.
    fn or_stale<T>(&self, read: Result<T, ApiError>, stale: impl FnOnce()) -> Result<T, ApiError> {
        read.inspect_err(|e| {
            stale();
            log_unless_reported!(
                warn,
                e.kind(),
                error = %e,
                kind = e.kind(),
                "trunks or Edges not resynced (permission telephony:plugin:all); they are stale until a resync succeeds"
            );
        })
    }

    /// Applies a trunk's event received at `now_ms`; `false` when the trunk is not watched.
    pub(crate) fn trunk_event(&self, event: &TrunkEvent, now_ms: i64) -> bool {
        let at = now_ms as f64 / 1000.0;
        match event {
            TelephonyEvent::Status(status) => self.trunks.status_event(status, at),
            TelephonyEvent::Metrics(metrics) => self.trunks.metrics_event(metrics, at),
        }
    }

    /// Applies an Edge's event received at `now_ms`; `false` when the Edge is not watched.
    pub(crate) fn edge_event(&self, event: &EdgeEvent, now_ms: i64) -> bool {
        let at = now_ms as f64 / 1000.0;
        match event {
            TelephonyEvent::Status(status) => self.edges.status_event(status, at),
            TelephonyEvent::Metrics(metrics) => self.edges.metrics_event(metrics, at),
        }
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

#[cfg(test)]
mod tests;
