//! Which queues the exporter watches: configured ids and names (with `*` wildcards) resolved
//! against routing (docs/genesys-api.md#routing-queues), and how their topics are spread over
//! notification channels.

use std::collections::{BTreeMap, BTreeSet};

use crate::genesys::ApiError;
use crate::genesys::GenesysClient;
use crate::genesys::model::{MAX_TOPICS_PER_CHANNEL, PresenceDefinition, Queue};
use crate::vocabulary::labels::SystemPresence;
use crate::vocabulary::presence::Presence;
use crate::vocabulary::queue::{QueueLabels, name_matches};
use tracing::warn;

/// The configured queues. Both empty means every queue in the org.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueueSelection {
    /// Queue ids, each of which must exist.
    pub ids: Vec<String>,
    /// Queue names, `*` matching any run of characters; each must match at least one queue.
    pub names: Vec<String>,
}

/// The queues `selection` names, deduplicated and sorted by name then id, so the monitored set
/// and its channel shards are the same on every run. One paged listing of the org whatever the
/// selection holds: a call per configured id would cost 5,000 calls for 5,000 ids, the listing
/// costs its pages (⌈queues/100⌉).
pub(crate) async fn resolve(
    client: &GenesysClient,
    selection: &QueueSelection,
) -> Result<Vec<QueueLabels>, ApiError> {
    select(client.list_queues(None).await?, selection)
}

/// The part of `listing` that `selection` names; an error only when nothing matches.
pub(crate) fn select(
    listing: Vec<Queue>,
    selection: &QueueSelection,
) -> Result<Vec<QueueLabels>, ApiError> {
    let everything = selection.ids.is_empty() && selection.names.is_empty();
    let mut ids_seen = vec![false; selection.ids.len()];
    let mut names_seen = vec![false; selection.names.len()];
    let mut found: BTreeMap<String, Queue> = BTreeMap::new();
    for queue in listing {
        let by_id = selection.ids.iter().position(|id| *id == queue.id);
        let by_name: Vec<usize> = (0..selection.names.len())
            .filter(|&i| name_matches(&selection.names[i], &queue.name))
            .collect();
        if let Some(i) = by_id {
            ids_seen[i] = true;
        }
        for &i in &by_name {
            names_seen[i] = true;
        }
        if everything || by_id.is_some() || !by_name.is_empty() {
            found.insert(queue.id.clone(), queue);
        }
    }
    let missing_ids = selection
        .ids
        .iter()
        .zip(&ids_seen)
        .filter(|(_, seen)| !**seen);
    let missing_names = selection
        .names
        .iter()
        .zip(&names_seen)
        .filter(|(_, seen)| !**seen);
    let missing: Vec<String> = missing_ids
        .map(|(id, _)| format!("queue id {id:?}"))
        .chain(missing_names.map(|(name, _)| format!("queue name {name:?}")))
        .collect();
    // NB: one renamed queue must not stop monitoring of the others; only an empty result fails.
    if !missing.is_empty() {
        let missing = missing.join(", ");
        if found.is_empty() {
            return Err(ApiError::QueueNotFound { missing });
        }
        warn!(%missing, "configured queues not found; monitoring the rest");
    }
    let mut labels: Vec<QueueLabels> = found.into_values().map(labels_of).collect();
    labels.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(labels)
}

/// The monitored set across refreshes: a queue missing from a listing stays for a grace of
/// refreshes before it is dropped, so one incomplete or glitched listing resets no counters
/// and removes no series.
#[derive(Debug, Default)]
pub(crate) struct MonitoredSet {
    /// Refreshes a queue may be missing before it is dropped.
    grace: u32,
    /// The queues monitored now, with how many listings in a row each has been missing from.
    queues: BTreeMap<String, (QueueLabels, u32)>,
}

impl MonitoredSet {
    pub(crate) fn new(grace: u32) -> Self {
        Self {
            grace,
            queues: BTreeMap::new(),
        }
    }

    /// Folds one resolved listing in; returns the queues to monitor, sorted as `resolve` sorts.
    pub(crate) fn update(&mut self, resolved: Vec<QueueLabels>) -> Vec<QueueLabels> {
        for (_, misses) in self.queues.values_mut() {
            *misses += 1;
        }
        for queue in resolved {
            self.queues.insert(queue.id.clone(), (queue, 0));
        }
        let grace = self.grace;
        self.queues.retain(|id, (_, misses)| {
            let keep = *misses <= grace;
            if *misses > 0 {
                warn!(queue_id = %id, misses = *misses, kept = keep, "queue missing from the listing");
            }
            keep
        });
        let mut labels: Vec<QueueLabels> = self.queues.values().map(|(q, _)| q.clone()).collect();
        labels.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        labels
    }

    /// The ids of the queues the last listing held: the ones to subscribe to. A queue kept
    /// through its grace is gone upstream as far as we know, and Genesys may refuse its topic;
    /// one such topic in a subscription request would fail the request for every other queue
    /// of its channel, so it is left out.
    pub(crate) fn listed(&self) -> Vec<String> {
        let listed = self.queues.iter().filter(|(_, (_, misses))| *misses == 0);
        listed.map(|(id, _)| id.clone()).collect()
    }
}

fn labels_of(queue: Queue) -> QueueLabels {
    QueueLabels {
        division: queue.division.map(|d| d.name).unwrap_or_default(),
        id: queue.id,
        name: queue.name,
    }
}

/// The presences of `definitions` as the exporter labels them
/// (docs/genesys-api.md#presence-definitions): the `en_US` label, and the system presence read in
/// either spelling. A definition whose system presence we do not know is left out, so its members
/// are counted as ignored, never exported under a guess.
pub(crate) fn presences(definitions: &[PresenceDefinition]) -> Vec<Presence> {
    let mut presences = Vec::new();
    for definition in definitions.iter().filter(|d| !d.deactivated) {
        match SystemPresence::parse_any_case(&definition.system_presence) {
            Some(system) => {
                presences.push(Presence::new(&definition.id, definition.label(), system))
            }
            None => tracing::warn!(
                presence = definition.label(),
                system_presence = definition.system_presence,
                "presence definition with an unknown system presence left out"
            ),
        }
    }
    presences
}

/// Which notification channel each queue is on. A queue stays on its channel for as long as
/// it is subscribed, so adding or removing one queue resubscribes one channel and resyncs at
/// most one queue; chunking the sorted set afresh would shift every queue after it into the
/// next channel and resubscribe and resync them all. New queues fill the first channel with
/// room, in id order, so the channels number at most ⌈most queues ever / size⌉, and a first
/// placement is the sorted set in chunks, the same on every run.
#[derive(Debug)]
pub(crate) struct ChannelPlan {
    size: usize,
    channels: Vec<BTreeSet<String>>,
}

impl ChannelPlan {
    /// Channels of at most `max_per_channel` queues, never above Genesys's 1,000.
    pub(crate) fn new(max_per_channel: usize) -> Self {
        Self {
            size: max_per_channel.clamp(1, MAX_TOPICS_PER_CHANNEL),
            channels: Vec::new(),
        }
    }

    /// The most ids one channel holds.
    pub(crate) fn per_channel(&self) -> usize {
        self.size
    }

    /// Places exactly `ids` (deduplicated); returns each channel's ids, sorted. A channel left
    /// empty stays in the plan, so later growth reuses it.
    pub(crate) fn place(&mut self, ids: &[String]) -> Vec<Vec<String>> {
        let wanted: BTreeSet<&String> = ids.iter().collect();
        for channel in &mut self.channels {
            channel.retain(|id| wanted.contains(id));
        }
        let placed = |id: &&String| self.channels.iter().any(|c| c.contains(*id));
        let new: Vec<String> = wanted
            .iter()
            .filter(|id| !placed(id))
            .map(|id| (*id).clone())
            .collect();
        let mut new = new.into_iter().peekable();
        for channel in &mut self.channels {
            while channel.len() < self.size {
                let Some(id) = new.next() else { break };
                channel.insert(id);
            }
        }
        while new.peek().is_some() {
            self.channels.push(new.by_ref().take(self.size).collect());
        }
        let lists = self.channels.iter();
        lists.map(|c| c.iter().cloned().collect()).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::timeout;

    use super::*;
    use crate::genesys::client::fake::{self, Scenario, queue};

    const DEADLINE: Duration = Duration::from_secs(10);

    fn selection(ids: &[&str], names: &[&str]) -> QueueSelection {
        QueueSelection {
            ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            names: names.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn org() -> std::sync::Arc<Scenario> {
        let scenario = Scenario::new();
        let mut no_division = queue("q-4", "Billing");
        no_division.division = None;
        *scenario.queues.lock().unwrap() = vec![
            queue("q-3", "Support FR"),
            queue("q-1", "Support EN"),
            queue("q-2", "Sales"),
            no_division,
            queue("q-0", "Support EN"),
        ];
        scenario
    }

    #[tokio::test]
    async fn names_with_wildcards_and_ids_resolve_to_one_sorted_deduplicated_set() {
        let scenario = org();
        let (client, _metrics) = fake::start(scenario.clone()).await;
        let wanted = selection(&["q-2", "q-1"], &["Support*", "billing"]);
        let queues = timeout(DEADLINE, resolve(&client, &wanted))
            .await
            .unwrap()
            .unwrap();
        let got: Vec<(&str, &str, &str)> = queues
            .iter()
            .map(|q| (q.id.as_str(), q.name.as_str(), q.division.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("q-4", "Billing", ""),
                ("q-2", "Sales", "Home"),
                ("q-0", "Support EN", "Home"),
                ("q-1", "Support EN", "Home"),
                ("q-3", "Support FR", "Home"),
            ]
        );
    }

    #[tokio::test]
    async fn an_empty_selection_watches_every_queue_in_the_org_across_pages() {
        let scenario = Scenario::new().with_queues(205);
        let (client, _metrics) = fake::start(scenario.clone()).await;
        let queues = timeout(DEADLINE, resolve(&client, &QueueSelection::default()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(queues.len(), 205);
        assert_eq!(queues[0].name, "Queue 000");
        assert_eq!(queues[204].name, "Queue 204");
        assert_eq!(scenario.count("GET /api/v2/routing/queues"), 3);
    }

    #[tokio::test]
    async fn an_unknown_id_alone_is_a_one_line_error_naming_it() {
        let (client, _metrics) = fake::start(org()).await;
        let error = timeout(DEADLINE, resolve(&client, &selection(&["q-9"], &[])))
            .await
            .unwrap()
            .unwrap_err();
        let text = error.to_string();
        assert_eq!(error.kind(), "queue_not_found");
        assert!(text.contains(r#"queue id "q-9""#), "{text}");
        assert!(!text.contains('\n'));
    }

    #[tokio::test]
    async fn queues_that_do_not_exist_leave_the_others_monitored() {
        let (client, _metrics) = fake::start(org()).await;
        let wanted = selection(&["q-9"], &["Sales", "Marketing*"]);
        let queues = timeout(DEADLINE, resolve(&client, &wanted))
            .await
            .unwrap()
            .unwrap();
        let names: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["Sales"]);
    }

    #[tokio::test]
    async fn any_mix_of_ids_names_and_patterns_costs_one_paged_listing() {
        let scenario = Scenario::new().with_queues(250);
        let (client, _metrics) = fake::start(scenario.clone()).await;
        let ids: Vec<String> = (0..120).map(|i| format!("q-{:03}", i * 2)).collect();
        let wanted = QueueSelection {
            ids,
            names: vec!["Queue 1*".into(), "queue 249".into(), "Nothing*".into()],
        };
        let queues = timeout(DEADLINE, resolve(&client, &wanted))
            .await
            .unwrap()
            .unwrap();
        // 120 even ids up to q-238, the 50 odd ones among Queue 100-199, and Queue 249.
        assert_eq!(queues.len(), 120 + 50 + 1);
        assert_eq!(
            scenario.count("GET /api/v2/routing/queues"),
            3,
            "three pages, nothing per id"
        );
        assert_eq!(scenario.count("GET /api/v2/routing/queues/"), 0);
    }

    fn labelled(id: &str, name: &str) -> QueueLabels {
        QueueLabels {
            id: id.into(),
            name: name.into(),
            division: "Home".into(),
        }
    }

    fn ids(queues: &[QueueLabels]) -> Vec<&str> {
        queues.iter().map(|q| q.id.as_str()).collect()
    }

    #[test]
    fn a_queue_missing_from_listings_stays_for_the_grace_then_goes() {
        let mut set = MonitoredSet::new(2);
        let both = vec![labelled("a", "A"), labelled("b", "B")];
        assert_eq!(ids(&set.update(both.clone())), ["a", "b"]);
        let only_a = vec![labelled("a", "A")];
        assert_eq!(ids(&set.update(only_a.clone())), ["a", "b"], "first miss");
        assert_eq!(ids(&set.update(only_a.clone())), ["a", "b"], "second miss");
        assert_eq!(
            ids(&set.update(only_a.clone())),
            ["a"],
            "gone after the grace"
        );
        assert_eq!(ids(&set.update(both)), ["a", "b"], "back as a new queue");
        assert_eq!(ids(&set.update(only_a.clone())), ["a", "b"]);
        let renamed = vec![labelled("a", "A"), labelled("b", "Bee")];
        let now = set.update(renamed);
        assert_eq!(
            now[1].name, "Bee",
            "a reappearing queue takes its current labels"
        );
        assert_eq!(ids(&MonitoredSet::new(0).update(only_a)), ["a"]);
    }

    #[test]
    fn wildcards_match_any_run_of_characters_case_insensitively() {
        assert!(name_matches("Support*", "support EN"));
        assert!(name_matches("*EN", "Support EN"));
        assert!(name_matches("S*p*t*", "Support EN"));
        assert!(name_matches("*", ""));
        assert!(name_matches("Sales", "sales"));
        assert!(!name_matches("Sales", "Sales EN"));
        assert!(!name_matches("*EN", "Support FR"));
        assert!(!name_matches("", "x"));
    }

    fn ids_from(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("q{i:05}")).collect()
    }

    #[test]
    fn a_first_placement_is_the_sorted_set_in_chunks_of_at_most_a_thousand() {
        let forward = ids_from(0..2_500);
        let mut backward = forward.clone();
        backward.reverse();
        let channels = ChannelPlan::new(5_000).place(&forward);
        assert_eq!(
            channels.iter().map(Vec::len).collect::<Vec<_>>(),
            [1_000, 1_000, 500]
        );
        assert_eq!(channels, ChannelPlan::new(5_000).place(&backward));
        assert_eq!(channels[0][0], "q00000");
        assert_eq!(ChannelPlan::new(300).place(&forward).len(), 9);
        assert!(ChannelPlan::new(1_000).place(&[]).is_empty());
        let twice = ["a", "b", "a"].map(String::from);
        assert_eq!(
            ChannelPlan::new(0).place(&twice),
            [vec!["a".to_owned()], vec!["b".to_owned()]],
            "a zero size still makes progress"
        );
    }

    #[test]
    fn a_queue_added_or_removed_moves_no_other_queue() {
        let mut plan = ChannelPlan::new(1_000);
        let mut ids = ids_from(1..1_001);
        let before = plan.place(&ids);
        ids.push("q00000".into());
        let grown = plan.place(&ids);
        assert_eq!(grown[0], before[0], "the full channel is untouched");
        assert_eq!(grown[1], ["q00000"]);
        ids.retain(|id| id != "q00500");
        let shrunk = plan.place(&ids);
        assert_eq!(shrunk[0].len(), 999);
        assert_eq!(shrunk[1], ["q00000"]);
        ids.push("q01001".into());
        assert!(
            plan.place(&ids)[0].contains(&"q01001".to_owned()),
            "a gap is refilled first"
        );
        assert_eq!(
            plan.place(&[]),
            [Vec::<String>::new(), Vec::new()],
            "emptied, not dropped"
        );
    }

    proptest::proptest! {
        /// Any sequence of queue sets: every queue on exactly one channel, none over the size,
        /// a queue kept from one set to the next on the same channel, and never more channels
        /// than the largest set needs.
        #[test]
        fn every_queue_is_on_one_channel_and_stays_there(
            sets in proptest::collection::vec(proptest::collection::btree_set(0u16..60, 0..40), 1..12),
            size in 1usize..12,
        ) {
            let mut plan = ChannelPlan::new(size);
            let mut previous: BTreeMap<String, usize> = BTreeMap::new();
            let mut largest = 0;
            for set in sets {
                let ids: Vec<String> = set.iter().map(|i| format!("q{i}")).collect();
                largest = largest.max(ids.len());
                let channels = plan.place(&ids);
                let mut now = BTreeMap::new();
                for (index, channel) in channels.iter().enumerate() {
                    proptest::prop_assert!(channel.len() <= size);
                    for id in channel {
                        proptest::prop_assert!(now.insert(id.clone(), index).is_none(), "{id} twice");
                    }
                }
                let placed: BTreeSet<&String> = now.keys().collect();
                proptest::prop_assert_eq!(placed, ids.iter().collect::<BTreeSet<_>>());
                for (id, index) in &now {
                    if let Some(was) = previous.get(id) {
                        proptest::prop_assert_eq!(was, index, "{} moved", id);
                    }
                }
                proptest::prop_assert!(channels.len() <= largest.div_ceil(size));
                previous = now;
            }
        }
    }
}
