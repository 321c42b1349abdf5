use super::*;

#[test]
fn form_values_are_percent_decoded() {
    let pairs = form_pairs("grant_type=client_credentials&name=Tier%201+Support&x=%zz&y=%4");
    assert_eq!(pairs[0], ("grant_type".into(), "client_credentials".into()));
    assert_eq!(pairs[1], ("name".into(), "Tier 1 Support".into()));
    assert_eq!(pairs[2].1, "%zz");
    assert_eq!(pairs[3].1, "%4");
}

/// Through the simulator's HTTP service.
mod service {
    use serde_json::{Value, json};

    use crate::sim::harness::TestSim;

    #[tokio::test]
    async fn oauth_issues_tokens_for_the_demo_client_and_rejects_others() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        assert!(!token.is_empty());

        let wrong = sim
            .token_request("not-the-secret")
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let body: Value = wrong.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");

        let wrong_grant = sim
            .token_request(&sim.handle.client_secret)
            .form(&[("grant_type", "password")])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_grant.status(), 400);

        let not_a_form = sim
            .token_request(&sim.handle.client_secret)
            .json(&json!({"grant_type": "client_credentials"}))
            .send()
            .await
            .unwrap();
        assert_eq!(not_a_form.status(), 400);
        sim.stop().await;
    }
}
