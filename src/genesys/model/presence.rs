//! Presence definitions (docs/genesys-api.md#presence-definitions): the org's presences, each with
//! its labels and the system presence it maps to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One presence of the org, system (`Available`, …) or its own (`Lunch`, mapped to `Meal`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PresenceDefinition {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `System` or `User`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The label by locale, `en_US` among them as a rule.
    #[serde(default)]
    pub language_labels: BTreeMap<String, String>,
    /// As the definitions spell it: `Available`, `OnQueue`, `Meal`, …
    #[serde(default)]
    pub system_presence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division_id: Option<String>,
    #[serde(default)]
    pub deactivated: bool,
}

impl PresenceDefinition {
    /// The label a presence is exported under: its `en_US` label, else the first, else its id.
    pub fn label(&self) -> &str {
        (self.language_labels.get("en_US"))
            .or_else(|| self.language_labels.values().next())
            .map_or(self.id.as_str(), String::as_str)
    }
}

/// `GET /api/v2/presence/definitions`: every definition at once, no paging.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PresenceDefinitionListing {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub entities: Vec<PresenceDefinition>,
}

#[cfg(test)]
mod tests;
