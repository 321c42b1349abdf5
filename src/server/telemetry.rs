//! The HTTP server's self-metrics: connections open, and those it closed to protect itself.

use prometheus::{IntCounterVec, IntGauge};

use super::listen::ConnectionClose;
use crate::metrics::registry::{Registrar, SelfMetrics};
use crate::vocabulary::labels::LabelValue;

#[derive(Clone)]
pub(crate) struct ServerMetrics {
    open: IntGauge,
    closed: IntCounterVec,
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
        }
    }
}

impl ServerMetrics {
    pub(crate) fn connection_closed(&self, reason: ConnectionClose) {
        self.closed.with_label_values(&[reason.as_str()]).inc();
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
