use super::*;

fn round_trips<L: LabelValue + std::fmt::Debug>() {
    for value in L::ALL {
        assert_eq!(L::parse(value.as_str()), Some(*value));
    }
    assert_eq!(L::parse("not a value"), None);
}

#[test]
fn system_presences_are_read_in_either_spelling() {
    assert_eq!(
        SystemPresence::parse_any_case("OnQueue"),
        Some(SystemPresence::OnQueue)
    );
    assert_eq!(
        SystemPresence::parse_any_case("ON_QUEUE"),
        Some(SystemPresence::OnQueue)
    );
    assert_eq!(
        SystemPresence::parse_any_case("Meal"),
        Some(SystemPresence::Meal)
    );
    assert_eq!(SystemPresence::parse_any_case("Lunch"), None);
}

#[test]
fn every_value_parses_back_from_its_text_and_nothing_else_does() {
    round_trips::<InteractionState>();
    round_trips::<RoutingStatus>();
    round_trips::<SystemPresence>();
    round_trips::<MediaType>();
    round_trips::<Direction>();
    assert_eq!(RoutingStatus::ALL.len(), RoutingStatus::COUNT);
}

#[test]
fn a_set_is_written_as_its_texts_in_order() {
    assert_eq!(
        names(&[MediaType::Chat, MediaType::Voice]),
        ["chat", "voice"]
    );
    assert_eq!(names::<Direction>(&[]), Vec::<String>::new());
}
