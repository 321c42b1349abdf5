use super::*;

const AGGREGATES: &str = "/api/v2/analytics/conversations/aggregates/query";
const QUEUES: &str = "/api/v2/routing/queues";

fn server_error(status: u16) -> ApiFault {
    ApiFault::ServerError { status }
}

#[test]
fn a_fault_aimed_at_a_path_hits_that_exact_path_only_and_is_used_up() {
    let mut faults = Faults::default();
    faults.arm(ApiFault::MalformedBody, 2, Some(AGGREGATES.to_owned()));
    assert_eq!(faults.take(QUEUES), None);
    assert_eq!(faults.take(&format!("{AGGREGATES}/x")), None);
    assert_eq!(faults.take(AGGREGATES), Some(ApiFault::MalformedBody));
    assert_eq!(faults.take(AGGREGATES), Some(ApiFault::MalformedBody));
    assert_eq!(faults.take(AGGREGATES), None);
    assert!(faults.armed().is_empty());
}

#[test]
fn faults_for_different_paths_coexist_and_the_aimed_one_goes_first() {
    let mut faults = Faults::default();
    faults.arm(server_error(503), 1, None);
    faults.arm(server_error(502), 1, Some(QUEUES.to_owned()));
    let limit = ApiFault::RateLimit {
        retry_after_seconds: 1,
    };
    faults.arm(limit, 1, Some(AGGREGATES.to_owned()));
    assert_eq!(faults.take(QUEUES), Some(server_error(502)));
    assert_eq!(faults.take(AGGREGATES), Some(limit));
    assert_eq!(faults.take(AGGREGATES), Some(server_error(503)));
    assert_eq!(faults.take(QUEUES), None);
}

#[test]
fn arming_the_same_kind_and_path_again_replaces_the_count() {
    let mut faults = Faults::default();
    faults.arm(server_error(503), 5, None);
    faults.arm(server_error(500), 1, None);
    assert_eq!(faults.take(QUEUES), Some(server_error(500)));
    assert_eq!(faults.take(QUEUES), None);
    faults.arm(ApiFault::MalformedBody, 3, None);
    faults.arm(ApiFault::MalformedBody, 0, None);
    assert_eq!(faults.take(QUEUES), None);
}
