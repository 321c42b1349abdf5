//! Routing queues (docs/genesys-api.md#routing-queues).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DivisionRef {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<DivisionRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

/// One page of a Genesys listing (`GET /api/v2/routing/queues`, `GET /api/v2/users`); paging
/// ends at `page_number == page_count`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EntityListing<T> {
    #[serde(default = "Vec::new")]
    pub entities: Vec<T>,
    #[serde(default)]
    pub page_size: u32,
    #[serde(default)]
    pub page_number: u32,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub page_count: u32,
}

pub type QueueEntityListing = EntityListing<Queue>;
