use std::collections::{BTreeMap, BTreeSet};

use super::*;

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
