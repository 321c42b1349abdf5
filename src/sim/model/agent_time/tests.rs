use super::*;

const KEY: SpellKey = ((0, 1), Dimension::SystemPresence, 3);

#[test]
fn a_spell_splits_over_minute_cells_and_shows_after_its_lag() {
    let mut time = AgentTime::default();
    time.record(KEY, 30_000, 150_000, 160_000);
    time.flush(150_000);
    assert!(
        time.query(&[(0, 1)], 0, 180_000, 60_000).is_empty(),
        "inside the lag"
    );
    time.flush(160_000);
    let by_minute = time.query(&[(0, 1)], 0, 180_000, 60_000);
    let values: Vec<u64> = by_minute.values().copied().collect();
    assert_eq!(values, [30_000, 60_000, 30_000]);
    let whole = time.query(&[(0, 1)], 0, 180_000, 180_000);
    assert_eq!(whole.get(&(KEY, 0)), Some(&120_000));
    assert!(
        time.query(&[(0, 2)], 0, 180_000, 60_000).is_empty(),
        "another agent"
    );
    assert_eq!(
        time.totals_of((0, 1)).collect::<Vec<_>>(),
        [(Dimension::SystemPresence, 3, 120_000)]
    );
}
