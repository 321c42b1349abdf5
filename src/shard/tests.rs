use proptest::prelude::*;

use super::*;

#[test]
fn shards_parse_and_refuse_what_is_not_one() {
    assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
    assert_eq!(" 0 / 1 ".parse::<Shard>(), Ok(Shard::default()));
    assert_eq!(Shard::new(1, 4).unwrap().to_string(), "1/4");
    for bad in ["3/3", "0/0", "1", "a/b", "-1/2", ""] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}

#[test]
fn the_split_is_fixed_for_good() {
    // NB: a change here moves queues between running shards: it must never happen silently.
    assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    let id = "2aa6c0c9-e93b-48b7-95be-9a4f956094d2";
    let owner = (0..4).find(|&i| Shard::new(i, 4).unwrap().owns(id));
    assert_eq!(owner, Some((fnv1a(id) % 4) as u32));
}

proptest! {
    #[test]
    fn every_queue_is_in_exactly_one_shard(
        ids in proptest::collection::vec("[0-9a-f-]{1,36}", 1..200),
        count in 1u32..17,
    ) {
        for id in &ids {
            let owners = (0..count).filter(|&i| Shard::new(i, count).unwrap().owns(id)).count();
            prop_assert_eq!(owners, 1, "{} is in {} shards of {}", id, owners, count);
        }
    }

    #[test]
    fn the_whole_owns_everything(id in ".{0,64}") {
        prop_assert!(Shard::default().owns(&id));
    }
}

#[test]
fn the_org_wide_sources_are_shard_zeros_alone() {
    assert!(Shard::default().owns_the_org());
    assert!(Shard::new(0, 3).unwrap().owns_the_org());
    assert!(!Shard::new(1, 3).unwrap().owns_the_org());
    assert!(!Shard::new(2, 3).unwrap().owns_the_org());
}
