use std::sync::Mutex;

use super::*;
use crate::genesys::model::{EntityRef, TrunkCalls};
use crate::vocabulary::clock::Clock;

/// A scripted org: its listings as they are now, every read counted.
#[derive(Default)]
struct Org {
    trunks: Mutex<Vec<Trunk>>,
    edges: Mutex<Vec<Edge>>,
    metrics_fail: bool,
    reads: Mutex<Vec<&'static str>>,
}

impl TelephonySource for Org {
    async fn list_trunks(&self, types: &[TrunkType]) -> Result<Vec<Trunk>, ApiError> {
        self.reads.lock().unwrap().push("trunks");
        let all = self.trunks.lock().unwrap().clone();
        let of_type = |t: &Trunk| {
            let kind = t.trunk_type.as_deref().and_then(TrunkType::parse);
            types.is_empty() || kind.is_some_and(|k| types.contains(&k))
        };
        Ok(all.into_iter().filter(of_type).collect())
    }

    async fn list_edges(&self) -> Result<Vec<Edge>, ApiError> {
        self.reads.lock().unwrap().push("edges");
        Ok(self.edges.lock().unwrap().clone())
    }

    async fn trunk_metrics(&self, ids: &[String]) -> Result<Vec<TrunkMetrics>, ApiError> {
        self.reads.lock().unwrap().push("trunk metrics");
        if self.metrics_fail {
            return Err(ApiError::Status {
                endpoint: "trunk_metrics",
                status: 503,
                message: "scripted".into(),
                correlation_id: "c".into(),
            });
        }
        let calls = |id: &String| TrunkMetrics {
            trunk: Some(EntityRef {
                id: id.clone(),
                name: None,
            }),
            calls: Some(TrunkCalls {
                inbound_call_count: Some(2),
                outbound_call_count: Some(1),
            }),
            ..TrunkMetrics::default()
        };
        Ok(ids.iter().map(calls).collect())
    }

    async fn edge_metrics(&self, _ids: &[String]) -> Result<Vec<EdgeMetrics>, ApiError> {
        self.reads.lock().unwrap().push("edge metrics");
        Ok(Vec::new())
    }
}

fn trunk(id: &str, name: &str, kind: &str) -> Trunk {
    Trunk {
        id: id.into(),
        name: name.into(),
        trunk_type: Some(kind.into()),
        in_service: Some(true),
        ..Trunk::default()
    }
}

fn source(metrics: &Metrics, trunk_types: Vec<TrunkType>, grace: u32) -> Telephony {
    let selection = TelephonySelection {
        trunk_types,
        trunk_names: Vec::new(),
        edge_sites: Vec::new(),
    };
    Telephony::new(metrics, selection, grace, Clock::system())
}

fn series(metrics: &Metrics, family: &str) -> usize {
    let prefix = format!("{family}{{");
    metrics
        .render(0)
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .count()
}

#[tokio::test]
async fn a_trunk_gone_from_the_listing_keeps_its_series_for_the_grace_then_leaves() {
    let metrics = Metrics::new();
    let telephony = source(&metrics, TrunkType::ALL.to_vec(), 1);
    let org = Org::default();
    *org.trunks.lock().unwrap() = vec![
        trunk("t1", "Carrier A", "EXTERNAL"),
        trunk("t2", "Carrier B", "EXTERNAL"),
    ];
    let listed = telephony.refresh(&org).await.unwrap();
    assert_eq!(listed.trunks, ["t1", "t2"]);
    assert_eq!(series(&metrics, "genesys_trunk_info"), 2);
    org.trunks.lock().unwrap().retain(|t| t.id == "t1");
    // NB: one in its grace keeps its series but no topic (Genesys may refuse it).
    let listed = telephony.refresh(&org).await.unwrap();
    assert_eq!(listed.trunks, ["t1"]);
    assert_eq!(
        series(&metrics, "genesys_trunk_info"),
        2,
        "t2 is in its grace"
    );
    telephony.refresh(&org).await.unwrap();
    assert_eq!(series(&metrics, "genesys_trunk_info"), 1, "t2 left");
}

#[tokio::test]
async fn a_resync_reads_the_selected_types_listing_and_the_asked_trunks_metrics() {
    let metrics = Metrics::new();
    let telephony = source(&metrics, vec![TrunkType::External], 1);
    let org = Org::default();
    *org.trunks.lock().unwrap() = vec![
        trunk("t1", "Carrier A", "EXTERNAL"),
        trunk("p1", "Phones", "PHONE"),
    ];
    let listed = telephony.refresh(&org).await.unwrap();
    assert_eq!(listed.trunks, ["t1"], "the phone trunk is not selected");
    let ids = ["t1".to_owned()];
    telephony.resync_trunks(&ids, &org).await.unwrap();
    let text = metrics.render(0);
    assert!(
        text.contains(r#"genesys_trunk_calls{direction="inbound",trunk_id="t1"} 2"#),
        "{text}"
    );
    assert_eq!(telephony.trunks().due(&ids), Vec::<String>::new());
    let reads = org.reads.lock().unwrap().clone();
    assert_eq!(reads, ["trunks", "edges", "trunks", "trunk metrics"]);
}

#[tokio::test]
async fn a_failed_resync_turns_its_trunks_stale_and_due() {
    let metrics = Metrics::new();
    let telephony = source(&metrics, TrunkType::ALL.to_vec(), 1);
    let org = Org {
        metrics_fail: true,
        ..Org::default()
    };
    *org.trunks.lock().unwrap() = vec![trunk("t1", "Carrier A", "EXTERNAL")];
    telephony.refresh(&org).await.unwrap();
    let ids = ["t1".to_owned()];
    assert!(telephony.resync_trunks(&ids, &org).await.is_err());
    assert_eq!(telephony.trunks().due(&ids), ids);
    let text = metrics.render(0);
    assert!(
        text.contains(r#"genesys_exporter_trunk_stale{trunk_id="t1"} 1"#),
        "{text}"
    );
}
