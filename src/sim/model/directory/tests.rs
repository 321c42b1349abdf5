use super::*;

fn directory(seed: u64) -> Directory {
    let config = SimConfig {
        seed,
        queues: 12,
        ..SimConfig::default()
    };
    Directory::new(&config, &mut StdRng::seed_from_u64(seed))
}

#[test]
fn added_queues_get_reproducible_ids_and_removed_ones_keep_their_index() {
    let (mut first, mut second) = (directory(1), directory(1));
    let (index, added) = first.add(Some("Queue X".into()), None).unwrap();
    assert_eq!(second.add(Some("Queue X".into()), None).unwrap().1, added);
    assert_eq!(index, 12);
    assert_ne!(directory(2).add(None, None).unwrap().1.id, added.id);
    assert_eq!(
        added.self_uri,
        Some(format!("/api/v2/routing/queues/{}", added.id))
    );

    let removed = first.live().nth(3).map(|(_, q)| q.id.clone()).unwrap();
    assert_eq!(first.remove(&removed), Some(3));
    assert_eq!(first.remove(&removed), None);
    assert_eq!(first.index_of(&removed), None);
    assert_eq!(first.get(3), None);
    assert_eq!(first.index_of(&added.id), Some(12));
    assert_eq!(first.live().count(), 12);
}

#[test]
fn a_queue_is_renamed_and_moved_in_place() {
    let mut directory = directory(7);
    let (index, queue) = directory.add(Some("Old".into()), None).unwrap();
    let other = directory.divisions[1].id.clone();
    let moved = directory.update(&queue.id, Some("New".into()), Some(&other));
    let moved = moved.unwrap().unwrap();
    assert_eq!(
        (moved.name.as_str(), moved.division.unwrap().id),
        ("New", other)
    );
    assert_eq!(directory.index_of(&queue.id), Some(index), "same identity");
    assert_eq!(directory.update("nope", None, None), Ok(None));
    let unknown = directory.update(&queue.id, None, Some("nope"));
    assert_eq!(unknown, Err(UnknownDivision("nope".into())));
}

#[test]
fn a_queue_may_be_added_to_a_known_division_only() {
    let mut directory = directory(1);
    let care = directory.get(2).unwrap().division.clone().unwrap();
    let (_, queue) = directory.add(None, Some(&care.id)).unwrap();
    assert_eq!(queue.division, Some(care));
    assert_eq!(queue.name, "Queue 13");
    assert_eq!(
        directory.add(None, Some("nope")),
        Err(UnknownDivision("nope".into()))
    );
}
