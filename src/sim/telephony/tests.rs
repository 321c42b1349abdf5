use super::*;

/// A busy model a few seconds into its traffic, and the estate beside it.
fn busy() -> (Model, Estate) {
    let config = SimConfig::fast_for_tests(3);
    let mut model = Model::new(&config, 0);
    model.step(5_000);
    (model, Estate::new(&config, 5_000))
}

fn voice_in_progress(model: &Model) -> i64 {
    let voice = model.media_types.iter().position(|m| m == "voice");
    (model.queues.iter())
        .flat_map(|q| &q.interactions)
        .filter(|i| Some(i.media) == voice)
        .count() as i64
}

#[test]
fn the_carrier_trunks_carry_every_voice_conversation_in_progress_and_no_other_trunk_any() {
    let (model, estate) = busy();
    let calls = estate.calls(&model);
    let total: i64 = calls.iter().map(|c| c[0] + c[1]).sum();
    assert!(total > 0, "the traffic has calls");
    assert_eq!(total, voice_in_progress(&model));
    for (trunk, calls) in estate.trunks.iter().zip(&calls) {
        if trunk.trunk_type != "EXTERNAL" {
            assert_eq!(*calls, [0, 0], "{}", trunk.name);
        }
    }
}

#[test]
fn a_trunk_out_of_service_or_on_an_offline_edge_carries_nothing() {
    let (model, mut estate) = busy();
    let carriers: Vec<usize> = (0..estate.trunks.len())
        .filter(|t| estate.trunks[*t].trunk_type == "EXTERNAL")
        .collect();
    estate.trunks[carriers[0]].in_service = false;
    assert_eq!(estate.calls(&model)[carriers[0]], [0, 0]);
    let edge = estate.trunks[carriers[1]].edge;
    estate.edges[edge].online = false;
    assert_eq!(estate.calls(&model)[carriers[1]], [0, 0]);
    let view = estate.trunk_view(carriers[1]);
    let connected = view.connected_status.and_then(|c| c.connected);
    assert_eq!(connected, Some(false), "a trunk is down with its Edge");
}

#[test]
fn each_type_is_there_and_ids_are_stable_for_a_seed() {
    let config = SimConfig::fast_for_tests(3);
    let (a, b) = (Estate::new(&config, 0), Estate::new(&config, 9_999));
    let ids = |e: &Estate| e.trunks.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    for kind in TRUNK_TYPES {
        assert!(a.trunks.iter().any(|t| t.trunk_type == kind), "{kind}");
    }
}
