//! The HTTP server's self-metrics: connections open, those it closed to protect itself, and
//! scrapes by whether they started a render or shared one.

use prometheus::{IntCounterVec, IntGauge};

use super::listen::ConnectionClose;
use crate::metrics::registry::{Registrar, SelfMetrics};
use crate::vocabulary::labels::LabelValue;

#[derive(Clone)]
pub(crate) struct ServerMetrics {
    open: IntGauge,
    closed: IntCounterVec,
    scrapes: IntCounterVec,
}

impl SelfMetrics for ServerMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            open: r.gauge("genesys_exporter_http_connections",
                "Connections open to the exporter's HTTP server.",
            ),
            closed: r.counters_by::<ConnectionClose>("genesys_exporter_http_connections_closed_total",
                "Connections the exporter's HTTP server closed or refused to protect itself, by reason (header_timeout, request_timeout, head_too_large, evicted, refused, tls_handshake, plain_http, client_not_allowed, error).",
                "reason",
            ),
            scrapes: r.counters("genesys_exporter_scrapes_total",
                "Scrapes of /metrics, by render: started (the scrape started a render) or shared (it joined the render being written, or waited for the next with the others that arrived meanwhile). Many scrapers cost about one render each time.",
                &["render"],
            ),
        }
    }
}

impl ServerMetrics {
    pub(crate) fn connection_closed(&self, reason: ConnectionClose) {
        self.closed.with_label_values(&[reason.as_str()]).inc();
    }

    /// A scrape that started a render (`shared` false) or joined one.
    pub(crate) fn scraped(&self, shared: bool) {
        let render = if shared { "shared" } else { "started" };
        self.scrapes.with_label_values(&[render]).inc();
    }

    #[cfg(test)]
    pub(crate) fn scrapes(&self, shared: bool) -> u64 {
        let render = if shared { "shared" } else { "started" };
        self.scrapes.with_label_values(&[render]).get()
    }

    pub(crate) fn connections_open(&self, open: usize) {
        self.open.set(open as i64);
    }

    #[cfg(test)]
    pub(crate) fn open_connections(&self) -> i64 {
        self.open.get()
    }

    #[cfg(test)]
    pub(crate) fn connections_closed_for(&self, reason: ConnectionClose) -> u64 {
        self.closed.with_label_values(&[reason.as_str()]).get()
    }
}
