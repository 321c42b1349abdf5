//! The status page at `/`: one server-rendered HTML document with inline styles, no scripts and
//! no external assets, so it works behind any proxy and in any browser. It answers "why is this
//! queue stale?" at a glance: channels and their phase, whether the polled counters are fresh,
//! queues by freshness, API calls and 429s over the last minutes, and the last warnings and
//! errors.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::health::Health;
use crate::metrics::Metrics;
use crate::metrics::scrape::SourceStatuses;
use crate::status::{REQUEST_MINUTES, recent_log};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d232a}\
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .4em}\
table{border-collapse:collapse;min-width:40em}th,td{padding:.25em .8em;text-align:left;\
border-bottom:1px solid #dde1e6}th{background:#f3f5f7}td.n{text-align:right}\
.ok{color:#1a7f37}.bad{color:#c62828;font-weight:600}.muted{color:#66707a}\
nav a{margin-right:1em}";

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn instant(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "—".to_owned(), |t| t.format("%H:%M:%S UTC").to_string())
}

fn from_unix(seconds: Option<f64>) -> Option<DateTime<Utc>> {
    seconds.and_then(|s| DateTime::from_timestamp_millis((s * 1000.0) as i64))
}

/// "12 s ago" for a past instant.
fn age(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match at {
        None => "—".to_owned(),
        Some(at) => format!(
            "{:.0} s ago",
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        ),
    }
}

fn flag(good: bool, yes: &str, no: &str) -> String {
    if good {
        format!("<span class=ok>{yes}</span>")
    } else {
        format!("<span class=bad>{no}</span>")
    }
}

/// The whole page, as of `now`.
pub(crate) fn render(metrics: &Metrics, health: &Health, now: DateTime<Utc>) -> String {
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width\"><title>genesys-exporter</title>\
         <style>{STYLE}</style></head><body><h1>genesys-exporter {}</h1>",
        env!("CARGO_PKG_VERSION")
    );
    let alive = health.liveness();
    let ready = health.readiness();
    let _ = write!(
        html,
        "<p>{} · {} · <span class=muted>{}</span></p>\
         <nav><a href=\"/metrics\">/metrics</a><a href=\"/healthz\">/healthz</a>\
         <a href=\"/readyz\">/readyz</a></nav>",
        flag(
            alive.is_ok(),
            "alive",
            &escape(alive.as_ref().err().map_or("", String::as_str))
        ),
        flag(
            ready.is_ok(),
            "ready",
            &escape(&format!(
                "not ready: {}",
                ready.as_ref().err().map_or("", String::as_str)
            ))
        ),
        now.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    channels(&mut html, metrics, now);
    polls(&mut html, metrics, now);
    for source in metrics.source_statuses() {
        entities(&mut html, metrics, &source, now);
    }
    requests(&mut html, metrics, now);
    log(&mut html);
    html.push_str("</body></html>\n");
    html
}

fn channels(html: &mut String, metrics: &Metrics, now: DateTime<Utc>) {
    html.push_str(
        "<h2>Notification channels</h2><table id=channels><tr><th>channel</th><th>id</th>\
         <th>state</th><th>topics</th><th>connected since</th><th>last heartbeat</th>\
         <th>reconnects</th></tr>",
    );
    for (label, c) in metrics.status().channels() {
        let streaming = c.phase == "streaming" || c.phase == "rotating";
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td>{}</td><td>{}</td>\
             <td class=n>{}</td></tr>",
            escape(&label),
            escape(c.id.as_deref().unwrap_or("—")),
            flag(streaming, c.phase, c.phase),
            c.topics,
            instant(c.connected_since),
            age(c.last_heartbeat, now),
            c.reconnects,
        );
    }
    html.push_str("</table>");
}

fn polls(html: &mut String, metrics: &Metrics, now: DateTime<Utc>) {
    html.push_str(
        "<h2>Polled counters</h2><table id=polls><tr><th>counters</th><th>data</th>\
         <th>last successful poll</th><th>stale after</th></tr>",
    );
    for (kind, poll) in metrics.status().polls() {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{} s</td></tr>",
            escape(kind.label()),
            flag(!poll.is_stale(now), "fresh", "stale"),
            age(poll.last_success, now),
            poll.bound.num_seconds(),
        );
    }
    html.push_str("</table>");
}

/// One source's entries (the queues), stale ones first.
fn entities(html: &mut String, metrics: &Metrics, source: &SourceStatuses, now: DateTime<Utc>) {
    let polls = metrics.status().polls();
    let poll = source.poll.and_then(|kind| polls.get(&kind));
    let last_poll = poll.and_then(|poll| poll.last_success);
    let singular = source.id.strip_suffix('s').unwrap_or(source.id);
    let _ = write!(
        html,
        "<h2>{}</h2><table id={}><tr><th>{singular}</th><th>{}</th><th>data</th>\
         <th>fresh up to</th><th>last resync</th>",
        source.heading, source.id, source.group,
    );
    if source.poll.is_some() {
        html.push_str("<th>last poll</th>");
    }
    html.push_str("</tr>");
    for row in &source.rows {
        let _ = write!(
            html,
            "<tr><td title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            escape(&row.id),
            escape(&row.name),
            escape(&row.group),
            flag(!row.stale, "fresh", "stale"),
            age(from_unix(row.fresh_at), now),
            instant(from_unix(row.resynced_at)),
        );
        if source.poll.is_some() {
            let _ = write!(html, "<td>{}</td>", instant(last_poll));
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
}

fn requests(html: &mut String, metrics: &Metrics, now: DateTime<Utc>) {
    let _ = write!(
        html,
        "<h2>Genesys Cloud API, last {REQUEST_MINUTES} minutes</h2><table id=requests>\
         <tr><th>endpoint</th><th>requests</th><th>failed</th><th>429</th></tr>"
    );
    for (endpoint, c) in metrics.status().recent_requests(now) {
        let _ = write!(
            html,
            "<tr><td>{endpoint}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            c.requests,
            c.failed,
            if c.rate_limited > 0 {
                format!("<span class=bad>{}</span>", c.rate_limited)
            } else {
                "0".to_owned()
            },
        );
    }
    html.push_str("</table>");
}

fn log(html: &mut String) {
    html.push_str("<h2>Last warnings and errors</h2><table id=log><tr><th>at</th><th>level</th><th>message</th></tr>");
    let lines = recent_log();
    if lines.is_empty() {
        html.push_str("<tr><td colspan=3 class=muted>none</td></tr>");
    }
    for line in lines.iter().rev() {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            instant(Some(line.at)),
            flag(false, line.level, line.level),
            escape(&line.text),
        );
    }
    html.push_str("</table>");
}

#[cfg(test)]
mod tests;
