//! What every REST handler shares: Genesys-style errors and body parsing, paging, the `queueId`
//! filter rules (docs/genesys-api.md#analytics-filters) and the aggregates queries' interval and
//! buckets. Requests are checked as strictly as Genesys checks them, so a client bug fails here
//! instead of in production.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::DeserializeOwned;

use crate::genesys::model::{
    AggregateMetricData, EntityListing, KeyedAggregateDataContainer, QueryFilter, QueryPredicate,
    StatisticalResponse,
};
use crate::genesys::time::{format_interval, from_epoch_millis, parse_instant, parse_iso_duration};

use super::guard::{Failure, Predicates, api_error};
use super::model::lagged::CELL_MS;

/// The most queue predicates one analytics query may carry
/// (docs/genesys-api.md#paging-and-batching).
pub(crate) const MAX_PREDICATES: usize = 100;

pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        api_error(
            StatusCode::NOT_FOUND,
            "not.found",
            "The requested resource was not found.",
        )
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// A known path with a method it does not serve. Genesys answers this, like every non-2xx from
/// `api.`, with the error envelope (docs/genesys-api.md#errors-rate-limits-and-retries); axum keeps
/// the `Allow` header.
pub(crate) async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        api_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method.not.allowed",
            "HTTP 405 Method Not Allowed",
        )
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    }
}

pub(crate) fn bad_request(message: impl Into<String>) -> Failure {
    Failure::bad_request(message)
}

/// Parses a JSON body the way Genesys does: JSON content type, then a well-formed body.
pub(crate) fn parse_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, Failure> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported.media.type",
            "Content-Type must be application/json",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|error| bad_request(format!("Invalid request body: {error}")))
}

/// What an analytics query's filter selects: its queues and, when it names them, only these
/// media types and directions.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    pub queue_ids: Vec<String>,
    pub media_types: Option<Vec<String>>,
    pub directions: Option<Vec<String>>,
}

impl Selection {
    pub(crate) fn takes_media(&self, media: &str) -> bool {
        self.media_types
            .as_ref()
            .is_none_or(|m| m.iter().any(|x| x == media))
    }

    pub(crate) fn takes_direction(&self, direction: &str) -> bool {
        self.directions
            .as_ref()
            .is_none_or(|d| d.iter().any(|x| x == direction))
    }
}

/// Reads the filter shapes the exporter sends (docs/genesys-api.md#analytics-filters): an `or` of
/// `queueId` predicates, or an `and` of such `or` clauses, one per dimension (`queueId`,
/// `mediaType`, `direction`). Anything else is refused, so a query the simulator would misread
/// fails loudly.
pub(crate) fn selection(filter: Option<&QueryFilter>) -> Result<Selection, Failure> {
    let filter = filter.ok_or_else(|| bad_request("A queueId filter is required"))?;
    let ors: Vec<&[QueryPredicate]> = match filter.kind.as_str() {
        "or" if filter.clauses.is_empty() => vec![&filter.predicates],
        "and" if filter.predicates.is_empty() && filter.clauses.iter().all(|c| c.kind == "or") => {
            filter
                .clauses
                .iter()
                .map(|c| c.predicates.as_slice())
                .collect()
        }
        _ => {
            return Err(bad_request(
                "filter must be an \"or\" of predicates, or an \"and\" of \"or\" clauses",
            ));
        }
    };
    let mut selection = Selection::default();
    let mut queues = None;
    for predicates in ors {
        let Some(dimension) = predicates.first().map(|p| p.dimension.as_str()) else {
            return Err(bad_request("filter.predicates must not be empty"));
        };
        let plain = |p: &QueryPredicate| {
            p.kind == "dimension"
                && p.dimension == dimension
                && p.operator.as_deref().is_none_or(|op| op == "matches")
        };
        if !predicates.iter().all(plain) {
            return Err(bad_request(
                "each \"or\" must match one dimension, with dimension predicates",
            ));
        }
        let values = predicates.iter().map(|p| p.value.clone()).collect();
        let slot = match dimension {
            "queueId" => &mut queues,
            "mediaType" => &mut selection.media_types,
            "direction" => &mut selection.directions,
            _ => {
                return Err(bad_request(
                    "Only queueId, mediaType and direction predicates are supported",
                ));
            }
        };
        if slot.replace(values).is_some() {
            return Err(bad_request("each dimension may be filtered once"));
        }
    }
    selection.queue_ids = queues.ok_or_else(|| bad_request("A queueId filter is required"))?;
    if selection.queue_ids.len() > MAX_PREDICATES {
        return Err(bad_request(
            "A query may name at most 100 queueId predicates",
        ));
    }
    Ok(selection)
}

/// The ids an `or` of `dimension` predicates names, at most 100: the filter of the users',
/// flows' and data actions' queries.
pub(crate) fn ids_of(
    filter: Option<&QueryFilter>,
    dimension: &str,
) -> Result<Vec<String>, Failure> {
    let filter = filter
        .filter(|f| f.kind == "or" && f.clauses.is_empty() && !f.predicates.is_empty())
        .ok_or_else(|| {
            bad_request(format!(
                "filter must be an \"or\" of {dimension} predicates"
            ))
        })?;
    if filter.predicates.iter().any(|p| p.dimension != dimension) {
        return Err(bad_request(format!(
            "the filter takes {dimension} predicates only"
        )));
    }
    if filter.predicates.len() > MAX_PREDICATES {
        return Err(bad_request(format!(
            "A query may name at most 100 {dimension} predicates"
        )));
    }
    Ok(filter.predicates.iter().map(|p| p.value.clone()).collect())
}

/// A group of an aggregates answer keyed by dimension name: the dimensions, as named.
pub(crate) type GroupKey = Vec<(&'static str, String)>;

/// Refuses a `groupBy` that names a dimension outside `served` or leaves out `owner`.
pub(crate) fn check_group_by(
    group_by: &[String],
    served: &[&str],
    owner: &str,
) -> Result<(), Failure> {
    let known = group_by.iter().all(|g| served.contains(&g.as_str()));
    if known && group_by.iter().any(|g| g == owner) {
        return Ok(());
    }
    let served = served.join(", ");
    Err(bad_request(format!(
        "groupBy must be of {served}, with {owner}"
    )))
}

/// The results of an aggregates query keyed by dimension name (the users', flows' and data
/// actions'): each group's buckets in `[start, …)` of `granularity`, each with the metrics
/// `metrics` writes of its cell, a bucket without any left out.
pub(crate) fn keyed_results<V>(
    cells: BTreeMap<(GroupKey, i64), V>,
    (start, granularity): (i64, i64),
    metrics: impl Fn(&V) -> Vec<AggregateMetricData>,
) -> Vec<KeyedAggregateDataContainer> {
    let mut groups: BTreeMap<GroupKey, Vec<StatisticalResponse>> = BTreeMap::new();
    for ((key, bucket), cell) in cells {
        let metrics = metrics(&cell);
        if let Some(interval) =
            bucket_interval(start, bucket, granularity).filter(|_| !metrics.is_empty())
        {
            let data = groups.entry(key).or_default();
            data.push(StatisticalResponse { interval, metrics });
        }
    }
    (groups.into_iter())
        .map(|(key, data)| KeyedAggregateDataContainer {
            group: (key.into_iter()).map(|(d, v)| (d.to_owned(), v)).collect(),
            data,
        })
        .collect()
}

pub(crate) fn with_predicates(mut response: Response, predicates: Option<usize>) -> Response {
    if let Some(n) = predicates {
        response.extensions_mut().insert(Predicates(n));
    }
    response
}

/// A list parameter's values: it arrives repeated (`divisionId=a&divisionId=b`) or, from the
/// official SDKs, joined with commas (`divisionId=a,b`); ids never hold commas.
pub(crate) fn list_values(value: &str) -> impl Iterator<Item = String> + '_ {
    (value.split(',').map(str::trim))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A listing's paging, and each other parameter's values.
pub(crate) fn parameters(query: Option<&str>) -> Result<(Paging, Vec<(String, String)>), Failure> {
    let mut paging = Paging::new();
    let mut rest = Vec::new();
    for (key, value) in super::auth::form_pairs(query.unwrap_or("")) {
        if !paging.take(&key, &value)? {
            rest.extend(list_values(&value).map(|v| (key.clone(), v)));
        }
    }
    Ok((paging, rest))
}

/// The values of parameter `key`.
pub(crate) fn values_of<'a>(params: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    (params.iter().filter(|(k, _)| k == key))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// `pageSize` and `pageNumber` of a listing (docs/genesys-api.md#paging-and-batching).
pub(crate) struct Paging {
    size: usize,
    number: usize,
}

impl Paging {
    const MAX_SIZE: usize = 500;
    const DEFAULT_SIZE: usize = 25;

    pub(crate) fn new() -> Self {
        Self {
            size: Self::DEFAULT_SIZE,
            number: 1,
        }
    }

    /// Takes `key` if it is a paging parameter; `Ok(false)` when it is another.
    pub(crate) fn take(&mut self, key: &str, value: &str) -> Result<bool, Failure> {
        match key {
            "pageSize" => match value.parse() {
                Ok(n) if (1..=Self::MAX_SIZE).contains(&n) => self.size = n,
                _ => return Err(bad_request("pageSize must be between 1 and 500")),
            },
            "pageNumber" => match value.parse() {
                Ok(n) if n >= 1 => self.number = n,
                _ => return Err(bad_request("pageNumber must be 1 or more")),
            },
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The page of `items` asked for, as a listing.
    pub(crate) fn page<T: Default>(&self, items: Vec<T>) -> EntityListing<T> {
        let total = items.len();
        let entities = (items.into_iter())
            .skip((self.number - 1).saturating_mul(self.size))
            .take(self.size)
            .collect();
        EntityListing {
            entities,
            page_size: self.size as u32,
            page_number: self.number as u32,
            total: total as u64,
            page_count: total.div_ceil(self.size) as u32,
        }
    }
}

/// An aggregates query's `interval` (start and end, epoch milliseconds) and bucket width, as
/// Genesys checks them.
pub(crate) fn buckets(
    interval: &str,
    granularity: Option<&str>,
) -> Result<(i64, i64, i64), Failure> {
    let (start, end) = query_interval(interval)
        .filter(|(start, end)| start < end)
        .ok_or_else(|| bad_request("interval must be start/end in ISO-8601, start before end"))?;
    let (start, end) = (start.timestamp_millis(), end.timestamp_millis());
    let span = end
        .checked_sub(start)
        .ok_or_else(|| bad_request("interval is too long"))?;
    Ok((start, end, bucket_width(granularity, span)?))
}

/// Bucket `index` of `width_ms` in an interval starting at `start_ms`, as `start/end`.
pub(crate) fn bucket_interval(start_ms: i64, index: i64, width_ms: i64) -> Option<String> {
    let from = from_epoch_millis(bucket_bound(start_ms, index, width_ms)?)?;
    let to = from_epoch_millis(bucket_bound(start_ms, index.checked_add(1)?, width_ms)?)?;
    Some(format_interval(from, to))
}

/// The width of one bucket in milliseconds for an interval `span_ms` long: the whole interval
/// without a granularity, else a whole number of minutes, no longer than the interval, that
/// divides it.
fn bucket_width(granularity: Option<&str>, span_ms: i64) -> Result<i64, Failure> {
    if span_ms <= 0 {
        return Err(bad_request("interval must end after it starts"));
    }
    let Some(text) = granularity else {
        return Ok(span_ms);
    };
    let width = parse_iso_duration(text)
        .and_then(duration_ms)
        .filter(|ms| *ms > 0 && ms % CELL_MS == 0)
        .ok_or_else(|| bad_request("granularity must be an ISO-8601 duration of whole minutes"))?;
    if width > span_ms {
        return Err(bad_request(
            "granularity must not be longer than the interval",
        ));
    }
    if span_ms % width != 0 {
        return Err(bad_request(
            "interval must be a whole number of granularity buckets",
        ));
    }
    Ok(width)
}

/// `duration` in milliseconds, if that fits an `i64`.
fn duration_ms(duration: Duration) -> Option<i64> {
    i64::try_from(duration.as_millis()).ok()
}

/// Where bucket `index` of `width_ms` starts in an interval starting at `start_ms`.
fn bucket_bound(start_ms: i64, index: i64, width_ms: i64) -> Option<i64> {
    start_ms.checked_add(index.checked_mul(width_ms)?)
}

/// `start/end` as Genesys reads it: each end in RFC 3339 (`…T10:00:00.000Z`, `…+02:00`) or, as
/// the SDKs document it, without a zone (`YYYY-MM-DDThh:mm:ss[.fff]`), which means UTC here.
fn query_interval(text: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let instant = |part: &str| {
        parse_instant(part).or_else(|| {
            NaiveDateTime::parse_from_str(part, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|at| at.and_utc())
        })
    };
    let (start, end) = text.split_once('/')?;
    Some((instant(start)?, instant(end)?))
}

#[cfg(test)]
mod tests;
