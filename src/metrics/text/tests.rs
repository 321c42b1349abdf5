use super::*;

fn formatted(value: f64) -> String {
    let mut out = Vec::new();
    write_value(&mut out, value);
    String::from_utf8(out).unwrap()
}

#[test]
fn values_print_as_the_prometheus_crate_prints_them() {
    for value in [
        0.0,
        -0.0,
        1.0,
        -3.0,
        42.5,
        0.1,
        1e-7,
        1_764_633_600.123,
        9_007_199_254_740_991.0,
        9_007_199_254_740_992.0,
        1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ] {
        assert_eq!(formatted(value), value.to_string(), "{value:?}");
    }
}

#[test]
fn label_values_are_escaped_and_help_keeps_its_quotes() {
    let labels = label_set(&[("queue", "Sales \"EU\"\\n\nnew"), ("queue_id", "q1")]);
    assert_eq!(&*labels, r#"queue="Sales \"EU\"\\n\nnew",queue_id="q1""#);
    let mut out = Vec::new();
    header(&mut out, "m", "a \"b\" \\ c\nd", Kind::Gauge);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "# HELP m a \"b\" \\\\ c\\nd\n# TYPE m gauge\n"
    );
}
