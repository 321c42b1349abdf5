//! Data actions (docs/genesys-api.md#data-actions): the actions listing and the data action
//! aggregates query.

use serde::{Deserialize, Serialize};

use super::{ConversationAggregationQuery, EntityListing, KeyedAggregateDataContainer};

/// The most ids one `GET /api/v2/integrations/actions?ids=` names.
pub const MAX_IDS_PER_ACTIONS_LISTING: usize = 50;

/// A data action as `GET /api/v2/integrations/actions` lists one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub integration_id: String,
    #[serde(default)]
    pub category: String,
}

pub type ActionEntityListing = EntityListing<Action>;

/// `POST /api/v2/analytics/actions/aggregates/query`: the conversation aggregates query's
/// shape, with the data action dimensions and `tTotalExecution`.
pub type ActionAggregationQuery = ConversationAggregationQuery;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ActionAggregateQueryResponse {
    #[serde(default)]
    pub results: Vec<KeyedAggregateDataContainer>,
}
