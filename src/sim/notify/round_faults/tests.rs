use super::*;

fn observation(queue: usize, media: Option<usize>, text: &str) -> Frame {
    Frame {
        topic: format!("q{queue}"),
        group: Some((queue, media)),
        text: text.to_owned(),
    }
}

fn totals(text: &str) -> Frame {
    Frame {
        topic: "q0".to_owned(),
        group: None,
        text: text.to_owned(),
    }
}

fn texts(frames: &[Frame]) -> Vec<&str> {
    frames.iter().map(|f| f.text.as_str()).collect()
}

#[test]
fn a_held_round_follows_the_next_one_which_repeats_its_groups_and_nothing_stays_held() {
    let mut faults = RoundFaults::default();
    faults.reorder(1);
    let quiet = faults.shape(vec![totals("t0")]);
    assert_eq!(
        texts(&quiet),
        ["t0"],
        "a round without observations is not held"
    );
    let first = vec![observation(0, Some(1), "a1"), totals("t1")];
    assert_eq!(texts(&faults.shape(first)), ["t1"], "totals are never held");
    assert_eq!(faults.held_groups(), HashSet::from([(0, Some(1))]));
    assert_eq!(faults.armed()[0]["heldFrames"], 1);
    let second = vec![observation(0, Some(1), "a2"), observation(1, None, "b2")];
    assert_eq!(texts(&faults.shape(second)), ["a2", "b2", "a1"]);
    assert!(faults.held_groups().is_empty());
    assert!(faults.armed().is_empty());
    let third = vec![observation(0, Some(1), "a3")];
    assert_eq!(texts(&faults.shape(third)), ["a3"]);
}

#[test]
fn reordering_two_rounds_swaps_two_pairs_and_disarming_still_sends_what_is_held() {
    let mut faults = RoundFaults::default();
    faults.reorder(2);
    let mut sent = Vec::new();
    for round in 1..=5 {
        let frames = vec![observation(0, None, &format!("r{round}"))];
        sent.extend(faults.shape(frames));
    }
    assert_eq!(texts(&sent), ["r2", "r1", "r4", "r3", "r5"]);

    faults.reorder(1);
    assert!(faults.shape(vec![observation(0, None, "x1")]).is_empty());
    faults.reorder(0);
    let flushed = faults.shape(vec![observation(0, None, "x2")]);
    assert_eq!(texts(&flushed), ["x2", "x1"]);
    assert!(faults.armed().is_empty());
}

#[test]
fn duplicated_rounds_send_each_frame_twice_in_a_row_and_quiet_rounds_do_not_count() {
    let mut faults = RoundFaults::default();
    faults.duplicate(2);
    let first = faults.shape(vec![observation(0, None, "a"), totals("t")]);
    assert_eq!(texts(&first), ["a", "a", "t", "t"]);
    assert!(faults.shape(Vec::new()).is_empty());
    assert_eq!(
        faults.armed(),
        [json!({"kind": "duplicate_events", "remaining": 1})]
    );
    assert_eq!(texts(&faults.shape(vec![totals("u")])), ["u", "u"]);
    assert_eq!(texts(&faults.shape(vec![totals("v")])), ["v"]);
    assert!(faults.armed().is_empty());
}
