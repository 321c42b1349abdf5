use super::*;

#[test]
fn instants_use_milliseconds_and_z() {
    let at = parse_instant("2026-11-25T10:00:00.000Z").unwrap();
    assert_eq!(format_instant(at), "2026-11-25T10:00:00.000Z");
}

#[test]
fn intervals_round_trip() {
    let text = "2026-11-25T08:00:00.000Z/2026-11-25T10:00:00.000Z";
    let (start, end) = parse_interval(text).unwrap();
    assert_eq!(format_interval(start, end), text);
    assert!(parse_interval("2026-11-25T08:00:00.000Z").is_none());
}

#[test]
fn iso_durations_parse_and_format() {
    assert_eq!(parse_iso_duration("PT30M"), Some(Duration::from_secs(1800)));
    assert_eq!(parse_iso_duration("PT1H"), Some(Duration::from_secs(3600)));
    assert_eq!(
        parse_iso_duration("P1DT1H"),
        Some(Duration::from_secs(90_000))
    );
    assert_eq!(parse_iso_duration("PT"), None);
    assert_eq!(parse_iso_duration("30M"), None);
    assert_eq!(parse_iso_duration("PT5X"), None);
    assert_eq!(parse_iso_duration("P999999999999999D"), None);
    assert_eq!(parse_iso_duration("PT2305843009213693952S"), None);
    assert_eq!(parse_iso_duration("P367D"), None);
    assert_eq!(format_iso_duration(Duration::from_secs(1800)), "PT30M");
    assert_eq!(format_iso_duration(Duration::from_secs(7200)), "PT2H");
}

#[test]
fn buckets_align_to_their_width() {
    let at = parse_instant("2026-11-25T09:46:54.839Z").unwrap();
    let start = bucket_start(at, Duration::from_secs(1800));
    assert_eq!(format_instant(start), "2026-11-25T09:30:00.000Z");
}
