//! Trunks and Edges as the exporter labels them: the trunk types, and who a trunk or an Edge is.

use super::labels::LabelValue;
use super::listing::Listed;

/// A trunk's type, as Genesys spells it: a carrier's (or BYOC) trunk, the Edge's trunk to its
/// phones, or a trunk between Edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrunkType {
    External,
    Phone,
    Edge,
}

impl LabelValue for TrunkType {
    const ALL: &'static [Self] = &[Self::External, Self::Phone, Self::Edge];

    fn as_str(self) -> &'static str {
        match self {
            Self::External => "EXTERNAL",
            Self::Phone => "PHONE",
            Self::Edge => "EDGE",
        }
    }
}

/// Who a trunk is: what its info series shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrunkLabels {
    pub id: String,
    pub name: String,
    /// As Genesys spells it; one of [`TrunkType`] for a trunk that was selected by type.
    pub trunk_type: String,
    pub edge_id: String,
    pub edge: String,
}

/// Who an Edge is: what its info series shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeLabels {
    pub id: String,
    pub name: String,
    pub site_id: String,
    pub site: String,
}

impl Listed for TrunkLabels {
    const KIND: &'static str = "trunk";

    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }
}

impl Listed for EdgeLabels {
    const KIND: &'static str = "edge";

    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }
}
