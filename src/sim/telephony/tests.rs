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

#[test]
fn the_voice_reach_is_the_share_of_carrier_trunks_carrying_calls() {
    let (_, mut estate) = busy();
    assert_eq!(estate.reach(), 1.0);
    let a = estate.trunk_index("Carrier A").unwrap();
    estate.set_out_of_service(a, true, 1);
    assert_eq!(estate.reach(), 0.5);
    let b = estate.trunk_index("Carrier B").unwrap();
    let edge = estate.trunks[b].edge;
    estate.set_offline(edge, true, 2);
    assert_eq!(estate.reach(), 0.0);
    estate.set_offline(edge, false, 3);
    estate.set_out_of_service(a, false, 3);
    assert_eq!(estate.reach(), 1.0);
    assert_eq!(estate.edges[edge].up_since_ms, 3, "booted anew");
    let view = estate.trunk_view(a);
    let options = view.options_status.unwrap();
    assert!(options.iter().all(|o| o.option_state == Some(true)));
    assert!(options.iter().all(|o| o.option_state_time == instant(3)));
}

#[test]
fn no_voice_call_arrives_while_no_carrier_trunk_carries_calls() {
    let (mut model, _) = busy();
    let voice = model.media_types.iter().position(|m| m == "voice");
    let voice_ids = |model: &Model| -> std::collections::HashSet<String> {
        (model.queues.iter())
            .flat_map(|q| &q.interactions)
            .filter(|i| Some(i.media) == voice)
            .map(|i| i.conversation_id.clone())
            .collect()
    };
    let before = voice_ids(&model);
    model.voice_reach = 0.0;
    model.step(10_000);
    let arrived: Vec<String> = voice_ids(&model).difference(&before).cloned().collect();
    assert!(arrived.is_empty(), "{} voice calls arrived", arrived.len());
    let others = (model.queues.iter()).flat_map(|q| &q.interactions).count();
    assert!(others > 0, "other media still arrive");
}
