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

mod events {
    use std::collections::HashSet;

    use crate::sim::SimConfig;
    use crate::sim::harness::idle;
    use crate::sim::notify::publish::{Round, RoundPart};
    use crate::sim::telephony::events::TelephonyEvents;
    use crate::sync::lock;

    fn round(now: i64, force: bool) -> Round {
        Round {
            now,
            instant: String::new(),
            force,
            held: HashSet::new(),
        }
    }

    /// A socket on a channel subscribed to the Edge's status topic.
    fn listen(
        sim: &crate::sim::Sim,
        edge: &str,
    ) -> (
        tokio::sync::mpsc::UnboundedSender<crate::sim::notify::channels::Outbound>,
        tokio::sync::mpsc::UnboundedReceiver<crate::sim::notify::channels::Outbound>,
    ) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut channels = lock(&sim.channels);
        let (id, _) = channels.create("demo-client", 0);
        let topic = format!("v2.telephony.providers.edges.{edge}");
        channels.subscribe(&id, vec![topic], true, 0).unwrap();
        assert!(channels.attach(&id, 1, tx.clone(), 0));
        (tx, rx)
    }

    fn topics(frames: &[crate::sim::notify::publish::Frame]) -> Vec<String> {
        let mut topics: Vec<String> = frames.iter().map(|f| f.topic.clone()).collect();
        topics.sort();
        topics
    }

    #[test]
    fn a_round_sends_what_changed_and_an_edge_offline_takes_its_trunks_status_with_it() {
        let sim = idle(SimConfig::fast_for_tests(5));
        let mut part = TelephonyEvents::default();
        assert!(
            part.frames(&sim, &round(500, false)).is_empty(),
            "nothing while no socket listens"
        );
        let edge = lock(&sim.telephony).edges[0].id.clone();
        let (_tx, _rx) = listen(&sim, &edge);
        let first = part.frames(&sim, &round(1_000, false));
        assert_eq!(
            first.len(),
            2 * (4 + 2),
            "every trunk and Edge, both topics, at first"
        );
        assert!(
            part.frames(&sim, &round(2_000, false)).is_empty(),
            "nothing changed"
        );
        let (edge_id, trunks_on_it) = {
            let mut estate = lock(&sim.telephony);
            estate.set_offline(0, true, 3_000);
            let on_it: Vec<String> = (estate.trunks.iter())
                .filter(|t| t.edge == 0)
                .map(|t| format!("v2.telephony.providers.edges.trunks.{}", t.id))
                .collect();
            (estate.edges[0].id.clone(), on_it)
        };
        let frames = part.frames(&sim, &round(3_000, false));
        let sent = topics(&frames);
        let edge = format!("v2.telephony.providers.edges.{edge_id}");
        assert!(sent.contains(&edge), "{sent:?}");
        for trunk in &trunks_on_it {
            assert!(sent.contains(trunk), "{trunk} in {sent:?}");
        }
        let status = frames.iter().find(|f| f.topic == edge).unwrap();
        assert!(
            status.text.contains(r#""onlineStatus":"OFFLINE""#),
            "{}",
            status.text
        );
        assert!(
            !status.text.contains("statusCode"),
            "the topic says online only"
        );
        let forced = part.frames(&sim, &round(4_000, true));
        assert_eq!(forced.len(), first.len(), "a forced round sends everything");
    }
}
