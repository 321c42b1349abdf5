use super::*;

fn definition(labels: &[(&str, &str)]) -> PresenceDefinition {
    PresenceDefinition {
        id: "p1".into(),
        language_labels: labels
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        ..PresenceDefinition::default()
    }
}

#[test]
fn a_presence_is_labelled_in_english_else_its_first_label_else_its_id() {
    assert_eq!(
        definition(&[("de", "Mittag"), ("en_US", "Lunch")]).label(),
        "Lunch"
    );
    assert_eq!(definition(&[("fr", "Repas")]).label(), "Repas");
    assert_eq!(definition(&[]).label(), "p1");
}
