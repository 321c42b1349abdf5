use super::*;

#[test]
fn both_spellings_name_the_same_region() {
    let aws = Region::parse("eu-west-1").unwrap();
    assert_eq!(Region::parse("eu_west_1"), Some(aws));
    assert_eq!(Region::parse("EU_WEST_1"), Some(aws));
    assert_eq!(aws.api_base_url(), "https://api.mypurecloud.ie");
    assert_eq!(aws.login_base_url(), "https://login.mypurecloud.ie");
}

#[test]
fn every_region_has_a_distinct_domain_and_sdk_name() {
    assert_eq!(REGIONS.len(), 18);
    for region in REGIONS {
        assert_eq!(Region::parse(&region.sdk_name()), Some(*region));
        assert_eq!(
            REGIONS.iter().filter(|r| r.domain == region.domain).count(),
            1
        );
    }
    assert_eq!(
        Region::parse("ap_southeast_2").unwrap().domain,
        "mypurecloud.com.au"
    );
    assert_eq!(
        Region::parse("us_east_1").unwrap().domain,
        "mypurecloud.com"
    );
}

#[test]
fn unknown_regions_are_rejected() {
    assert_eq!(Region::parse("mars-north-1"), None);
    assert_eq!(Region::parse(""), None);
}
