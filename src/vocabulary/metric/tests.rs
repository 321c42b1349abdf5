use super::*;

#[test]
fn every_metric_parses_back_from_its_name() {
    for metric in GenesysMetric::OBSERVATIONS
        .iter()
        .chain(GenesysMetric::AGGREGATES)
        .chain(GenesysMetric::TIME_IN_STATUS)
    {
        assert_eq!(GenesysMetric::parse(metric.as_str()), Some(*metric));
    }
    assert_eq!(GenesysMetric::parse("oSomethingNew"), None);
    assert_eq!(GenesysMetric::parse("nthing"), None);
}
