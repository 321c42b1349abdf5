//! The Genesys Cloud REST client (docs/genesys-api.md): one method per call the exporter makes,
//! with batching (≤ 100 queues per analytics query) and paging (queue listing) done here. Every
//! call goes through the one execution path (`execute.rs`), the token request included, so the
//! credentials, timeout, self-metrics and retry rules hold for all of them alike; the client adds
//! the one rule only REST has: a 401 refreshes the token once and retries once.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::genesys::auth::{TokenCache, TokenSource};
use crate::genesys::egress::{Egress, log_unless_reported};
use crate::genesys::error::ApiError;
use crate::genesys::execute::{
    Body, Credentials, Executor, Failure, MAX_RESPONSE_BYTES, Request, RetryPolicy,
};
use crate::genesys::model::*;
use crate::genesys::proxy::Routes;
use crate::genesys::telemetry::{Endpoint, GenesysMetrics};
use crate::genesys::trust::Trust;
use crate::metrics::Metrics;
use crate::metrics::registry::SelfMetrics;
use crate::secret::Secret;
use crate::vocabulary::labels::LabelValue;
use crate::vocabulary::metric::GenesysMetric;
use crate::vocabulary::telephony::TrunkType;

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;

/// Requests in flight at once when one read takes many (the agents' pages): a start with
/// 10,000 agents reads 150, which one at a time took seconds.
const CONCURRENT_REQUESTS: usize = 4;

/// Runs `requests` at most [`CONCURRENT_REQUESTS`] at a time and joins their results in
/// order; the first failure fails the whole read.
async fn concurrently<T, F>(requests: Vec<F>) -> Result<Vec<T>, ApiError>
where
    F: std::future::Future<Output = Result<Vec<T>, ApiError>>,
{
    use futures_util::StreamExt;
    let mut pages = futures_util::stream::iter(requests).buffered(CONCURRENT_REQUESTS);
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        all.extend(page?);
    }
    Ok(all)
}

/// The most queue predicates one analytics query carries (docs/genesys-api.md#paging-and-batching).
pub(crate) const MAX_QUEUES_PER_QUERY: usize = 100;
/// The most `userId` predicates a users aggregates query may hold.
pub(crate) const MAX_USERS_PER_QUERY: usize = 100;
/// The largest page the queue listing serves.
const QUEUE_PAGE_SIZE: u32 = 100;
/// The most pages one listing reads: an org holds at most 5,000 queues, 50 full pages, so this
/// only stops a server whose `pageCount` is wrong — before it eats the 300-a-minute budget.
const MAX_QUEUE_PAGES: u32 = 100;
/// The trunk and Edge listings' page: Genesys states no maximum, and 100 is what its other
/// listings take.
const TELEPHONY_PAGE_SIZE: u32 = 100;
/// The most pages a trunk or Edge listing reads: 10,000 of them.
const MAX_TELEPHONY_PAGES: u32 = 100;

/// A paged listing: where, under which request series, how large a page.
struct Listing<'a> {
    endpoint: Endpoint,
    path: &'a [&'a str],
    page_size: u32,
    /// Query parameters besides the paging.
    filter: &'a [(&'a str, &'a str)],
}

impl<'a> Listing<'a> {
    fn new(endpoint: Endpoint, path: &'a [&'a str], page_size: u32) -> Self {
        Self {
            endpoint,
            path,
            page_size,
            filter: &[],
        }
    }

    fn filtered(self, filter: &'a [(&'a str, &'a str)]) -> Self {
        Self { filter, ..self }
    }
}

/// The most flows one observations query names (docs/genesys-api.md#ivr-flows).
pub(crate) const MAX_FLOWS_PER_OBSERVATION: usize = 100;

/// The most data actions one aggregates query names (docs/genesys-api.md#data-actions).
pub(crate) const MAX_ACTIONS_PER_QUERY: usize = 100;

/// The users listing's page, and the most ids one request names
/// (docs/genesys-api.md#paging-and-batching).
pub(crate) const USER_PAGE_SIZE: usize = 100;
/// The most pages the users listing reads: 100,000 users, past any `agents.max`.
const MAX_USER_PAGES: u32 = 1_000;

/// Where and how to reach Genesys Cloud.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// e.g. `https://api.mypurecloud.ie` (no trailing slash needed).
    pub api_base_url: String,
    /// e.g. `https://login.mypurecloud.ie`.
    pub login_base_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Retries after the first attempt for 429 / 5xx / transport errors.
    pub max_retries: u32,
    /// Backoff base and cap for 5xx / transport retries.
    pub retry_backoff_base: Duration,
    pub retry_backoff_cap: Duration,
    /// CA certificates trusted beside the system's (`tls.ca_file`).
    pub trust: Trust,
    /// Which URLs go through a forward proxy (`proxy.*`, `HTTPS_PROXY` and friends).
    pub proxy: Routes,
}

/// Which conversations the aggregates query counts besides their queue: those of
/// `media_types` and, when any are named, of `directions`, which it then also groups by. Empty
/// lists do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AggregateScope {
    pub media_types: Vec<String>,
    pub directions: Vec<String>,
}

/// A base URL we can append path segments to (http or https, not `mailto:`-like). Config
/// validation uses it too, so `check-config` accepts exactly what the client can use.
pub(crate) fn parse_base(url: &str) -> Result<Url, ApiError> {
    let bad = |reason: &str| ApiError::BadUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if parsed.cannot_be_a_base() || parsed.host().is_none() {
        return Err(bad("it must be an absolute URL with a host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("it must not carry a query or fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("it must not carry credentials"));
    }
    Ok(parsed)
}

/// `base` + `segments`, each segment percent-encoded, whatever slashes `base` ends with.
fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        // NB: parse_base rejected cannot-be-a-base URLs, so this branch is always taken.
        path.pop_if_empty().extend(segments);
    }
    url
}

struct Inner {
    executor: Arc<Executor>,
    api_base: Url,
    tokens: TokenCache,
    telemetry: GenesysMetrics,
}

/// Cheap to clone; all clones share one token cache and one connection pool.
#[derive(Clone)]
pub(crate) struct GenesysClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GenesysClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenesysClient")
            .field("api_base_url", &self.inner.api_base.as_str())
            .field("tokens", &self.inner.tokens)
            .finish_non_exhaustive()
    }
}

impl GenesysClient {
    pub(crate) fn new(settings: ClientSettings, metrics: Arc<Metrics>) -> Result<Self, ApiError> {
        crate::genesys::install_crypto_provider();
        let telemetry = GenesysMetrics::of(&metrics);
        let api_base = parse_base(&settings.api_base_url)?;
        let login_base = parse_base(&settings.login_base_url)?;
        let transport = |source| ApiError::Transport {
            endpoint: "client",
            source,
        };
        let roots = settings.trust.reqwest_roots().map_err(transport)?;
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .user_agent(concat!("genesys-exporter/", env!("CARGO_PKG_VERSION")))
            .tls_certs_merge(roots)
            .no_proxy()
            .proxy(settings.proxy.reqwest_proxy())
            .build()
            .map_err(transport)?;
        let websocket_tls = settings
            .trust
            .websocket_config()
            .map_err(|e| ApiError::Tls {
                message: e.to_string(),
            })?;
        let egress = Arc::new(Egress::new(
            settings.proxy.clone(),
            Some(websocket_tls),
            Some(&metrics),
        ));
        let executor = Arc::new(Executor {
            http,
            egress,
            retry: RetryPolicy {
                max_retries: settings.max_retries,
                backoff_base: settings.retry_backoff_base,
                backoff_cap: settings.retry_backoff_cap,
            },
            store: metrics,
            telemetry: telemetry.clone(),
        });
        let source = TokenSource {
            token_url: join(&login_base, &["oauth", "token"]),
            login_base_url: settings.login_base_url.clone(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
        };
        let tokens = TokenCache::new(source, executor.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                executor,
                api_base,
                tokens,
                telemetry,
            }),
        })
    }

    /// [`Self::execute`] with a JSON body in and a JSON body out (an empty body reads as `{}`).
    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        self.call_read(endpoint, method, url, body, |text| {
            serde_json::from_slice(text)
        })
        .await
    }

    /// [`Self::call`] with the answer read by `read`.
    async fn call_read<B: Serialize + ?Sized, T>(
        &self,
        endpoint: Endpoint,
        method: Method,
        url: Url,
        body: Option<&B>,
        read: impl FnOnce(&[u8]) -> serde_json::Result<T>,
    ) -> Result<T, ApiError> {
        let label = endpoint.as_str();
        let decode = |source| ApiError::Decode {
            endpoint: label,
            source,
        };
        let body = body.map(serde_json::to_vec).transpose().map_err(decode)?;
        let bytes = self.execute(endpoint, method, url, body).await?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        read(text).map_err(|source| {
            tracing::warn!(endpoint = label, error = %source, "undecodable response body");
            decode(source)
        })
    }

    /// A REST call through the one execution path, with the bearer token; a 401 refreshes
    /// the token once and retries once.
    async fn execute(
        &self,
        endpoint: Endpoint,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, ApiError> {
        let mut refreshed = false;
        loop {
            let token = self.inner.tokens.token().await?;
            let request = Request {
                endpoint,
                method: method.clone(),
                url: &url,
                body: body.as_deref().map(Body::Json),
                credentials: Credentials::Bearer(&token),
                limit: MAX_RESPONSE_BYTES,
            };
            let error = match self.inner.executor.execute(&request).await {
                Ok(body) => return Ok(body),
                Err(Failure::Refused {
                    status: StatusCode::UNAUTHORIZED,
                    ..
                }) if !refreshed => {
                    refreshed = true;
                    tracing::info!(
                        endpoint = endpoint.as_str(),
                        "token rejected; refreshing once"
                    );
                    self.inner.tokens.invalidate(&token);
                    continue;
                }
                Err(failure) => ApiError::from(failure),
            };
            log_unless_reported!(warn, error.kind(), endpoint = endpoint.as_str(), kind = error.kind(), error = %error, "request failed");
            return Err(error);
        }
    }

    /// Fetches a token now if none is cached (used at start-up and by readiness).
    pub(crate) async fn ensure_token(&self) -> Result<(), ApiError> {
        self.inner.tokens.token().await.map(|_| ())
    }

    /// Every queue (all pages), optionally filtered by name (`*` wildcard).
    pub(crate) async fn list_queues(&self, name: Option<&str>) -> Result<Vec<Queue>, ApiError> {
        let filter: Vec<(&str, &str)> = name.map(|name| ("name", name)).into_iter().collect();
        let listing = Listing::new(
            Endpoint::RoutingQueues,
            &["routing", "queues"],
            QUEUE_PAGE_SIZE,
        );
        self.every_page(listing.filtered(&filter), MAX_QUEUE_PAGES)
            .await
    }

    /// Every entity of a paged listing, a page at a time; at most `max_pages`, so a server
    /// whose `pageCount` is wrong cannot eat the request budget.
    async fn every_page<T: serde::de::DeserializeOwned>(
        &self,
        listing: Listing<'_>,
        max_pages: u32,
    ) -> Result<Vec<T>, ApiError> {
        let mut entities = Vec::new();
        let mut page: u32 = 1;
        loop {
            let mut url = self.api_url(listing.path);
            url.query_pairs_mut()
                .append_pair("pageSize", &listing.page_size.to_string())
                .append_pair("pageNumber", &page.to_string())
                .extend_pairs(listing.filter);
            let one: crate::genesys::model::EntityListing<T> = self
                .call(listing.endpoint, Method::GET, url, None::<&()>)
                .await?;
            // NB: the page we asked for, not the `pageNumber` echoed back: a server that
            // ignores the parameter would otherwise be asked for page 1 again and again.
            let last = one.entities.is_empty() || page >= one.page_count;
            entities.extend(one.entities);
            if last {
                return Ok(entities);
            }
            if page >= max_pages {
                tracing::warn!(
                    endpoint = listing.endpoint.as_str(),
                    pages = page,
                    page_count = one.page_count,
                    "listing did not end; keeping what was read"
                );
                return Ok(entities);
            }
            page += 1;
        }
    }

    /// Every trunk of `types`, or every trunk when `types` is empty
    /// (docs/genesys-api.md#trunks-and-edges).
    pub(crate) async fn list_trunks(&self, types: &[TrunkType]) -> Result<Vec<Trunk>, ApiError> {
        let path = ["telephony", "providers", "edges", "trunks"];
        if types.is_empty() {
            let listing = Listing::new(Endpoint::Trunks, &path, TELEPHONY_PAGE_SIZE);
            return self.every_page(listing, MAX_TELEPHONY_PAGES).await;
        }
        let mut trunks = Vec::new();
        for trunk_type in types {
            let filter = [("trunkType", trunk_type.as_str())];
            let listing = Listing::new(Endpoint::Trunks, &path, TELEPHONY_PAGE_SIZE);
            trunks.extend(
                self.every_page(listing.filtered(&filter), MAX_TELEPHONY_PAGES)
                    .await?,
            );
        }
        Ok(trunks)
    }

    /// Every flow of `types` (Genesys's spelling; the listing takes them lower case), and
    /// every flow outcome (docs/genesys-api.md#ivr-flows).
    pub(crate) async fn list_flows(
        &self,
        types: &[String],
    ) -> Result<(Vec<Flow>, Vec<FlowPart>), ApiError> {
        let lower = types.join(",").to_lowercase();
        let filter = [("type", lower.as_str())];
        let flows = Listing::new(Endpoint::Flows, &["flows"], TELEPHONY_PAGE_SIZE);
        let flows = self.every_page(flows.filtered(&filter), MAX_TELEPHONY_PAGES);
        let outcomes = ["flows", "outcomes"];
        let outcomes = Listing::new(Endpoint::FlowOutcomes, &outcomes, TELEPHONY_PAGE_SIZE);
        let outcomes = self.every_page(outcomes, MAX_TELEPHONY_PAGES);
        Ok((flows.await?, outcomes.await?))
    }

    /// Every flow milestone (docs/genesys-api.md#ivr-flows).
    pub(crate) async fn list_flow_milestones(&self) -> Result<Vec<FlowPart>, ApiError> {
        let path = ["flows", "milestones"];
        let listing = Listing::new(Endpoint::FlowMilestones, &path, TELEPHONY_PAGE_SIZE);
        self.every_page(listing, MAX_TELEPHONY_PAGES).await
    }

    /// One flow aggregates query over every flow of `types`, grouped by flow and `group_by`;
    /// each group of the answer goes to `each` as it is read.
    pub(crate) async fn query_flow_aggregates(
        &self,
        (interval, granularity): (&str, &str),
        types: &[String],
        group_by: &[&str],
        metrics: &[&str],
        each: impl FnMut(KeyedAggregateDataContainer),
    ) -> Result<(), ApiError> {
        let query = FlowAggregationQuery {
            interval: interval.to_owned(),
            granularity: Some(granularity.to_owned()),
            group_by: std::iter::once("flowId")
                .chain(group_by.iter().copied())
                .map(String::from)
                .collect(),
            filter: Some(QueryFilter::one_of(
                "flowType",
                types.iter().map(String::as_str),
            )),
            metrics: metrics.iter().map(|m| (*m).to_owned()).collect(),
        };
        let url = self.api_url(&["analytics", "flows", "aggregates", "query"]);
        let read = |text: &[u8]| each_flow_result(text, each);
        (self.call_read(
            Endpoint::FlowAggregates,
            Method::POST,
            url,
            Some(&query),
            read,
        ))
        .await
    }

    /// The conversations in each of at most [`MAX_FLOWS_PER_OBSERVATION`] flows now (`oFlow`;
    /// callers batch).
    pub(crate) async fn query_flow_observations(
        &self,
        flow_ids: &[String],
    ) -> Result<FlowObservationQueryResponse, ApiError> {
        debug_assert!(flow_ids.len() <= MAX_FLOWS_PER_OBSERVATION, "callers batch");
        let batch = &flow_ids[..flow_ids.len().min(MAX_FLOWS_PER_OBSERVATION)];
        let query = FlowObservationQuery {
            filter: QueryFilter::one_of("flowId", batch.iter().map(String::as_str)),
            metrics: vec!["oFlow".to_owned()],
            detail_metrics: Vec::new(),
        };
        let url = self.api_url(&["analytics", "flows", "observations", "query"]);
        self.call(Endpoint::FlowObservations, Method::POST, url, Some(&query))
            .await
    }

    /// Every data action (docs/genesys-api.md#data-actions).
    pub(crate) async fn list_actions(&self) -> Result<Vec<Action>, ApiError> {
        let path = ["integrations", "actions"];
        let listing = Listing::new(Endpoint::Actions, &path, TELEPHONY_PAGE_SIZE);
        self.every_page(listing, MAX_TELEPHONY_PAGES).await
    }

    /// One data action aggregates query for at most [`MAX_ACTIONS_PER_QUERY`] actions (callers
    /// batch), grouped by action, response status and error type.
    pub(crate) async fn query_action_aggregates(
        &self,
        (interval, granularity): (&str, &str),
        action_ids: &[String],
    ) -> Result<ActionAggregateQueryResponse, ApiError> {
        debug_assert!(action_ids.len() <= MAX_ACTIONS_PER_QUERY, "callers batch");
        let batch = &action_ids[..action_ids.len().min(MAX_ACTIONS_PER_QUERY)];
        let query = ActionAggregationQuery {
            interval: interval.to_owned(),
            granularity: Some(granularity.to_owned()),
            group_by: ["actionId", "responseStatus", "errorType"]
                .map(String::from)
                .to_vec(),
            filter: Some(QueryFilter::one_of(
                "actionId",
                batch.iter().map(String::as_str),
            )),
            metrics: vec!["tTotalExecution".to_owned()],
        };
        let url = self.api_url(&["analytics", "actions", "aggregates", "query"]);
        self.call(Endpoint::ActionAggregates, Method::POST, url, Some(&query))
            .await
    }

    /// Every Edge (docs/genesys-api.md#trunks-and-edges).
    pub(crate) async fn list_edges(&self) -> Result<Vec<Edge>, ApiError> {
        let path = ["telephony", "providers", "edges"];
        let listing = Listing::new(Endpoint::Edges, &path, TELEPHONY_PAGE_SIZE);
        self.every_page(listing, MAX_TELEPHONY_PAGES).await
    }

    /// The metrics of these trunks, 100 ids a request.
    pub(crate) async fn trunk_metrics(
        &self,
        ids: &[String],
    ) -> Result<Vec<TrunkMetrics>, ApiError> {
        let path = ["telephony", "providers", "edges", "trunks", "metrics"];
        self.metrics_of(Endpoint::TrunkMetrics, &path, "trunkIds", ids)
            .await
    }

    /// The metrics of these Edges, 100 ids a request.
    pub(crate) async fn edge_metrics(&self, ids: &[String]) -> Result<Vec<EdgeMetrics>, ApiError> {
        let path = ["telephony", "providers", "edges", "metrics"];
        self.metrics_of(Endpoint::EdgeMetrics, &path, "edgeIds", ids)
            .await
    }

    async fn metrics_of<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        path: &[&str],
        key: &str,
        ids: &[String],
    ) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::with_capacity(ids.len());
        for batch in ids.chunks(MAX_IDS_PER_METRICS_REQUEST) {
            let mut url = self.api_url(path);
            url.query_pairs_mut().append_pair(key, &batch.join(","));
            let metrics: Vec<T> = self.call(endpoint, Method::GET, url, None::<&()>).await?;
            all.extend(metrics);
        }
        Ok(all)
    }

    /// One queue; only the client's own tests need it (resolving uses the listing).
    #[cfg(test)]
    pub(crate) async fn get_queue(&self, queue_id: &str) -> Result<Queue, ApiError> {
        let url = self.api_url(&["routing", "queues", queue_id]);
        self.call(Endpoint::RoutingQueues, Method::GET, url, None::<&()>)
            .await
    }

    /// The org's active presence definitions, all at once.
    pub(crate) async fn list_presence_definitions(
        &self,
    ) -> Result<Vec<PresenceDefinition>, ApiError> {
        let mut url = self.api_url(&["presence", "definitions"]);
        url.query_pairs_mut().append_pair("deactivated", "false");
        let listing: PresenceDefinitionListing = self
            .call(Endpoint::PresenceDefinitions, Method::GET, url, None::<&()>)
            .await?;
        Ok(listing.entities)
    }

    /// Observations for the queues, batched at 100 ids per request; results concatenated.
    pub(crate) async fn query_observations(
        &self,
        queue_ids: &[String],
    ) -> Result<QueueObservationQueryResponse, ApiError> {
        let mut response = QueueObservationQueryResponse::default();
        for batch in queue_ids.chunks(MAX_QUEUES_PER_QUERY) {
            let query = QueueObservationQuery {
                filter: QueryFilter::queue_ids(batch.iter().map(String::as_str), Some("matches")),
                metrics: OBSERVATION_METRICS
                    .iter()
                    .map(|m| m.as_str().to_owned())
                    .collect(),
                detail_metrics: vec![GenesysMetric::OWaiting.as_str().to_owned()],
            };
            let url = self.api_url(&["analytics", "queues", "observations", "query"]);
            let part: QueueObservationQueryResponse = self
                .call(Endpoint::QueueObservations, Method::POST, url, Some(&query))
                .await?;
            self.count_malformed(Endpoint::QueueObservations, &part.malformed);
            response.results.extend(part.results);
            response.malformed.extend(part.malformed);
        }
        Ok(response)
    }

    /// Each queue's members with their routing status and presence, since when (the routing
    /// activity query with details), batched at 100 queues per request.
    pub(crate) async fn query_routing_activity(
        &self,
        queue_ids: &[String],
    ) -> Result<Vec<RoutingActivityData>, ApiError> {
        let batches = queue_ids.chunks(MAX_QUEUES_PER_QUERY);
        // NB: collected first, so no closure is held across an await (the future stays Send).
        let pages: Vec<_> = batches
            .map(|batch| self.routing_activity_batch(batch))
            .collect();
        concurrently(pages).await
    }

    async fn routing_activity_batch(
        &self,
        batch: &[String],
    ) -> Result<Vec<RoutingActivityData>, ApiError> {
        let metrics = [
            GenesysMetric::OUserRoutingStatuses,
            GenesysMetric::OUserPresences,
        ];
        let query = RoutingActivityQuery {
            metrics: (metrics.iter())
                .map(|m| ActivityMetric {
                    metric: m.as_str().to_owned(),
                    details: true,
                })
                .collect(),
            group_by: vec!["queueId".to_owned()],
            filter: Some(QueryFilter::queue_ids(
                batch.iter().map(String::as_str),
                Some("matches"),
            )),
            order: None,
        };
        let url = self.api_url(&["analytics", "routing", "activity", "query"]);
        let part: RoutingActivityResponse = self
            .call(Endpoint::RoutingActivity, Method::POST, url, Some(&query))
            .await?;
        Ok(part.results)
    }

    /// The users with these ids, with presence and routing status, 100 ids per request.
    pub(crate) async fn users_by_id(&self, ids: &[String]) -> Result<Vec<User>, ApiError> {
        let pages: Vec<_> = (ids.chunks(USER_PAGE_SIZE))
            .map(|batch| self.users_page(batch))
            .collect();
        concurrently(pages).await
    }

    async fn users_page(&self, batch: &[String]) -> Result<Vec<User>, ApiError> {
        let mut url = self.api_url(&["users"]);
        url.query_pairs_mut()
            .append_pair("pageSize", &USER_PAGE_SIZE.to_string())
            .append_pair("id", &batch.join(","))
            .append_pair("expand", "presence,routingStatus");
        let listing: UserEntityListing = self
            .call(Endpoint::Users, Method::GET, url, None::<&()>)
            .await?;
        Ok(listing.entities)
    }

    /// Every active user (all pages), with presence and routing status.
    pub(crate) async fn list_users(&self) -> Result<Vec<User>, ApiError> {
        let mut users = Vec::new();
        let mut page: u32 = 1;
        loop {
            let mut url = self.api_url(&["users"]);
            url.query_pairs_mut()
                .append_pair("pageSize", &USER_PAGE_SIZE.to_string())
                .append_pair("pageNumber", &page.to_string())
                .append_pair("expand", "presence,routingStatus");
            let listing: UserEntityListing = self
                .call(Endpoint::Users, Method::GET, url, None::<&()>)
                .await?;
            let last = listing.entities.is_empty() || page >= listing.page_count;
            users.extend(listing.entities);
            if last || page >= MAX_USER_PAGES {
                return Ok(users);
            }
            page += 1;
        }
    }

    /// One aggregates query for at most [`MAX_QUEUES_PER_QUERY`] queues (more are left out:
    /// callers batch, so each batch can be folded before the next is asked for), grouped by
    /// queue and media type (and direction, when `scope` names directions) and filtered to
    /// `scope`.
    pub(crate) async fn query_aggregates(
        &self,
        interval: &str,
        granularity: &str,
        queue_ids: &[String],
        scope: &AggregateScope,
        metrics: &[String],
    ) -> Result<ConversationAggregateQueryResponse, ApiError> {
        debug_assert!(queue_ids.len() <= MAX_QUEUES_PER_QUERY, "callers batch");
        let batch = &queue_ids[..queue_ids.len().min(MAX_QUEUES_PER_QUERY)];
        let mut group_by = vec!["queueId".to_owned(), "mediaType".to_owned()];
        if !scope.directions.is_empty() {
            group_by.push("direction".to_owned());
        }
        let query = ConversationAggregationQuery {
            interval: interval.to_owned(),
            granularity: Some(granularity.to_owned()),
            group_by,
            filter: Some(QueryFilter::queues_where(
                batch.iter().map(String::as_str),
                &[
                    ("mediaType", &scope.media_types),
                    ("direction", &scope.directions),
                ],
            )),
            metrics: metrics.to_vec(),
        };
        let url = self.api_url(&["analytics", "conversations", "aggregates", "query"]);
        let response: ConversationAggregateQueryResponse = self
            .call(
                Endpoint::ConversationAggregates,
                Method::POST,
                url,
                Some(&query),
            )
            .await?;
        self.count_malformed(Endpoint::ConversationAggregates, &response.malformed);
        Ok(response)
    }

    /// One users aggregates query (agents' time in status) for at most
    /// [`MAX_USERS_PER_QUERY`] users (callers batch), grouped by user.
    pub(crate) async fn query_user_aggregates(
        &self,
        interval: &str,
        granularity: &str,
        user_ids: &[String],
        metrics: &[String],
    ) -> Result<UserAggregateQueryResponse, ApiError> {
        debug_assert!(user_ids.len() <= MAX_USERS_PER_QUERY, "callers batch");
        let batch = &user_ids[..user_ids.len().min(MAX_USERS_PER_QUERY)];
        let query = UserAggregationQuery {
            interval: interval.to_owned(),
            granularity: Some(granularity.to_owned()),
            group_by: vec!["userId".to_owned()],
            filter: Some(QueryFilter::user_ids(batch.iter().map(String::as_str))),
            metrics: metrics.to_vec(),
        };
        let url = self.api_url(&["analytics", "users", "aggregates", "query"]);
        self.call(Endpoint::UserAggregates, Method::POST, url, Some(&query))
            .await
    }

    /// Results of a response that did not parse and were skipped: counted and logged.
    fn count_malformed(&self, endpoint: Endpoint, malformed: &[Option<String>]) {
        if malformed.is_empty() {
            return;
        }
        self.inner
            .telemetry
            .results_malformed(endpoint, malformed.len());
        let queues: Vec<&str> = malformed
            .iter()
            .map(|q| q.as_deref().unwrap_or("?"))
            .collect();
        tracing::warn!(
            endpoint = endpoint.as_str(),
            skipped = malformed.len(),
            queues = ?queues,
            "results that do not parse were skipped"
        );
    }

    /// The way out the notifications WebSocket takes: the REST client's proxy and trust.
    pub(crate) fn egress(&self) -> Arc<Egress> {
        self.inner.executor.egress.clone()
    }

    pub(crate) async fn create_channel(&self) -> Result<Channel, ApiError> {
        let url = self.api_url(&["notifications", "channels"]);
        self.call(
            Endpoint::NotificationChannels,
            Method::POST,
            url,
            None::<&()>,
        )
        .await
    }

    /// Replaces the channel's topics (PUT); more than 1,000 topics is a 400 upstream.
    pub(crate) async fn replace_subscriptions(
        &self,
        channel_id: &str,
        topics: &[String],
    ) -> Result<ChannelTopicEntityListing, ApiError> {
        let body: Vec<ChannelTopic> = topics.iter().map(|id| ChannelTopic::named(id)).collect();
        let mut url = self.api_url(&["notifications", "channels", channel_id, "subscriptions"]);
        // NB: one topic the client may not read (another user's) must not fail the rest; each comes
        // back `Permitted` or `Rejected` instead (docs/genesys-api.md#notification-topics).
        url.query_pairs_mut().append_pair("ignoreErrors", "true");
        self.call(
            Endpoint::NotificationSubscriptions,
            Method::PUT,
            url,
            Some(&body),
        )
        .await
    }

    fn api_url(&self, segments: &[&str]) -> Url {
        let mut all = vec!["api", "v2"];
        all.extend_from_slice(segments);
        join(&self.inner.api_base, &all)
    }
}
