use super::*;

#[test]
fn a_record_shows_once_its_lag_passed_and_keys_add_up_in_their_group() {
    let mut lagged: Lagged<(u8, u8), u64> = Lagged::default();
    lagged.record((1, 1), 1_000, 5, 1_000, 1_000);
    lagged.record((1, 2), 61_000, 7, 90_000, 61_000);
    lagged.record((2, 1), 2_000, 11, 2_000, 2_000);
    let by_first = |key: &(u8, u8)| (key.0 == 1).then_some(key.0);
    let window = (0, 2 * CELL_MS, 2 * CELL_MS);
    assert_eq!(
        lagged.query(window, by_first),
        BTreeMap::from([((1, 0), 5)])
    );
    assert_eq!(lagged.pending(), 1);
    lagged.flush(90_000);
    assert_eq!(
        lagged.query(window, by_first),
        BTreeMap::from([((1, 0), 12)])
    );
    let by_minute = lagged.query((0, 2 * CELL_MS, CELL_MS), |key| Some(*key));
    assert_eq!(by_minute.get(&((1, 2), 1)), Some(&7));
}

#[test]
fn cells_past_the_retention_are_forgotten() {
    let mut lagged: Lagged<u8, u64> = Lagged::default();
    lagged.record(0, 0, 1, 0, 0);
    lagged.flush(RETENTION_MS + CELL_MS);
    assert!(lagged.query((0, CELL_MS, CELL_MS), |k| Some(*k)).is_empty());
}
