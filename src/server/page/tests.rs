use super::*;
use crate::queues::table::{QueueSeries, QueueTable};
use crate::status::{PollFreshness, PollKind};
use crate::vocabulary::labels::MediaType;
use crate::vocabulary::queue::QueueLabels;

#[test]
fn upstream_text_is_escaped() {
    assert_eq!(
        escape(r#"<b onclick="x">&'"#),
        "&lt;b onclick=&quot;x&quot;&gt;&amp;&#39;"
    );
}

#[test]
fn the_page_lists_channels_queues_and_requests_without_external_assets() {
    let metrics = Metrics::new();
    let queues = QueueTable::register(&metrics, QueueSeries::new(vec![MediaType::Voice]));
    queues.set_queues(&[QueueLabels {
        id: "q1".into(),
        name: "Support <EN>".into(),
        division: "Home".into(),
    }]);
    queues.queue_resynced("q1", 1_000.0);
    queues.set_queue_stale("q1");
    metrics.status().channel("0", |c| {
        c.phase = "reconnecting";
        c.topics = 1;
        c.reconnects = 2;
    });
    let now = Utc::now();
    metrics
        .status()
        .request("queue_observations", false, true, now);
    let bound = chrono::TimeDelta::seconds(180);
    let mut conversations = PollFreshness::new(bound);
    conversations.succeeded(now - chrono::TimeDelta::seconds(200));
    let mut agent_time = PollFreshness::new(bound);
    agent_time.succeeded(now);
    let shared = |poll| std::sync::Arc::new(std::sync::Mutex::new(poll));
    let status = metrics.status();
    status.watch_poll(PollKind::Conversations, shared(conversations));
    status.watch_poll(PollKind::AgentTime, shared(agent_time));
    let html = render(&metrics, &Health::default(), now);
    assert!(
            html.contains("<td>conversation counters</td><td><span class=bad>stale</span></td><td>200 s ago</td><td class=n>180 s</td>"),
            "{html}"
        );
    assert!(html.contains(
        "<td>agents&#39; time in status</td><td><span class=ok>fresh</span></td><td>0 s ago</td>"
    ));
    assert!(html.contains("Support &lt;EN&gt;"), "{html}");
    assert!(html.contains("<span class=bad>stale</span>"));
    assert!(html.contains("<span class=bad>reconnecting</span>"));
    assert!(html.contains("<td>queue_observations</td><td class=n>1</td><td class=n>1</td><td class=n><span class=bad>1</span>"));
    assert!(html.contains("not ready: no OAuth token"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
}
