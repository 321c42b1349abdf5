use super::*;

#[test]
fn names_match_exactly_or_by_wildcard_ignoring_case() {
    assert!(glob_matches("Support", "support"));
    assert!(!glob_matches("Support", "Support 2"));
    assert!(glob_matches("Sup*", "Support"));
    assert!(glob_matches("*port", "Support"));
    assert!(glob_matches("S*p*t", "Support"));
    assert!(!glob_matches("S*x*t", "Support"));
    assert!(glob_matches("*", "anything"));
}

/// Through the simulator's HTTP service.
mod service {
    use serde_json::Value;

    use crate::genesys::model::QueueEntityListing;
    use crate::sim::SimConfig;
    use crate::sim::harness::TestSim;

    #[tokio::test]
    async fn queues_page_and_filter_by_name_and_division() {
        let config = SimConfig {
            queues: 12,
            ..SimConfig::fast_for_tests(3)
        };
        let sim = TestSim::start(config).await;
        let token = sim.token().await;
        let page = async |query: &str| {
            let path = format!("/api/v2/routing/queues?{query}");
            sim.get(&token, &path)
                .await
                .json::<QueueEntityListing>()
                .await
                .unwrap()
        };
        let third = page("pageSize=5&pageNumber=3").await;
        assert_eq!(
            (third.total, third.page_count, third.page_number),
            (12, 3, 3)
        );
        assert_eq!(third.entities.len(), 2);
        assert_eq!(third.entities[1].name, "Queue 12");
        let support = page("pageSize=100&pageNumber=1&name=support").await;
        assert_eq!(support.entities.len(), 1);
        assert_eq!(support.entities[0], sim.handle.queues[0]);
        assert_eq!(page("pageSize=100&name=Queue*").await.total, 1);
        let division = sim.handle.queues[2].division.clone().unwrap();
        let in_division = page(&format!("divisionId={}", division.id)).await;
        assert_eq!(in_division.total, 4);
        let home = sim.handle.queues[0].division.clone().unwrap();
        let both = format!("divisionId={},{}&pageSize=100", home.id, division.id);
        let both_repeated = format!("divisionId={}&divisionId={}", home.id, division.id);
        for query in [both, both_repeated] {
            assert_eq!(page(&query).await.total, 12);
        }
        let (first, second) = (&sim.handle.queues[1].id, &sim.handle.queues[7].id);
        let by_id = page(&format!("id={first},{second}")).await;
        let names: Vec<&str> = by_id.entities.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["Sales", "Retention"]);

        let id = &sim.handle.queues[4].id;
        let one = sim
            .get(&token, &format!("/api/v2/routing/queues/{id}"))
            .await;
        let one: crate::genesys::model::Queue = one.json().await.unwrap();
        assert_eq!(one.name, "Returns");
        let missing = sim.get(&token, "/api/v2/routing/queues/nope").await;
        assert_eq!(missing.status(), 404);
        assert_eq!(missing.json::<Value>().await.unwrap()["code"], "not.found");
        sim.stop().await;
    }
}
