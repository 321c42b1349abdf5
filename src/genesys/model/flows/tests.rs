use super::*;

#[test]
fn an_answer_is_read_one_group_at_a_time_and_other_fields_are_skipped() {
    let text = br#"{"note": {"a": [1, 2]}, "results": [
        {"group": {"flowId": "f1"}, "data": [{"interval": "2026-12-07T10:00:00Z/2026-12-07T10:30:00Z",
          "metrics": [{"metric": "nFlow", "stats": {"count": 3}}]}]},
        {"group": {"flowId": "f2", "exitReason": "TRANSFER"}}
    ], "after": null}"#;
    let mut read = Vec::new();
    each_flow_result(text, |group| read.push(group)).unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].group["flowId"], "f1");
    assert_eq!(read[0].data[0].metrics[0].stats.count, Some(3));
    assert_eq!(read[1].group["exitReason"], "TRANSFER");
    assert!(read[1].data.is_empty());
    let mut none = 0;
    each_flow_result(b"{}", |_| none += 1).unwrap();
    assert_eq!(none, 0, "an answer without results has none");
}

#[test]
fn a_malformed_answer_is_an_error_after_the_groups_read_before_it() {
    let text = br#"{"results": [{"group": {"flowId": "f1"}}, {"group": 7}]}"#;
    let mut read = 0;
    assert!(each_flow_result(text, |_| read += 1).is_err());
    assert_eq!(read, 1);
    assert!(each_flow_result(b"[]", |_| ()).is_err());
    assert!(each_flow_result(br#"{"results": []} trailing"#, |_| ()).is_err());
}
