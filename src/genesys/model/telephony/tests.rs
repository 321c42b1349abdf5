use super::*;

#[test]
fn a_proxy_state_is_read_as_a_boolean_or_its_string_and_anything_else_is_unknown() {
    let options: Vec<TrunkOptionsStatus> = serde_json::from_str(
        r#"[{"proxyAddress":"a","optionState":true},{"proxyAddress":"b","optionState":"FALSE"},
            {"proxyAddress":"c","optionState":"UP"},{"proxyAddress":"d","optionState":3},
            {"proxyAddress":"e"}]"#,
    )
    .unwrap();
    let states: Vec<Option<bool>> = options.iter().map(|o| o.option_state).collect();
    assert_eq!(states, [Some(true), Some(false), None, None, None]);
}

#[test]
fn a_trunk_without_statuses_reads_them_as_absent() {
    let trunk: Trunk = serde_json::from_str(r#"{"id":"t1","name":"Carrier A"}"#).unwrap();
    assert_eq!(trunk.connected_status, None);
    assert_eq!(trunk.options_status, None);
    assert_eq!(trunk.in_service, None);
}
