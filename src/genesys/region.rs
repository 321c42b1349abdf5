//! Genesys Cloud regions and their hosts (docs/genesys-api.md#regions-and-hosts).
//!
//! A region is one domain; `login.` serves OAuth and `api.` serves REST. The WebSocket host is
//! never derived here: it always comes from a channel's `connectUri`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    /// The AWS-style name, e.g. `eu-west-1`.
    pub name: &'static str,
    pub domain: &'static str,
}

/// Every public region, by AWS-style name.
pub(crate) const REGIONS: &[Region] = &[
    Region {
        name: "us-east-1",
        domain: "mypurecloud.com",
    },
    Region {
        name: "us-east-2",
        domain: "use2.us-gov-pure.cloud",
    },
    Region {
        name: "us-west-2",
        domain: "usw2.pure.cloud",
    },
    Region {
        name: "ca-central-1",
        domain: "cac1.pure.cloud",
    },
    Region {
        name: "sa-east-1",
        domain: "sae1.pure.cloud",
    },
    Region {
        name: "eu-west-1",
        domain: "mypurecloud.ie",
    },
    Region {
        name: "eu-west-2",
        domain: "euw2.pure.cloud",
    },
    Region {
        name: "eu-central-1",
        domain: "mypurecloud.de",
    },
    Region {
        name: "eu-central-2",
        domain: "euc2.pure.cloud",
    },
    Region {
        name: "me-central-1",
        domain: "mec1.pure.cloud",
    },
    Region {
        name: "ap-south-1",
        domain: "aps1.pure.cloud",
    },
    Region {
        name: "ap-southeast-1",
        domain: "apse1.pure.cloud",
    },
    Region {
        name: "ap-southeast-2",
        domain: "mypurecloud.com.au",
    },
    Region {
        name: "ap-northeast-1",
        domain: "mypurecloud.jp",
    },
    Region {
        name: "ap-northeast-2",
        domain: "apne2.pure.cloud",
    },
    Region {
        name: "ap-northeast-3",
        domain: "apne3.pure.cloud",
    },
    Region {
        name: "mx-central-1",
        domain: "mxc1.pure.cloud",
    },
    Region {
        name: "eusc-de-east-1",
        domain: "edee1.eusc-pure.cloud",
    },
];

impl Region {
    /// Accepts the AWS name (`eu-west-1`) or the SDK enum spelling (`eu_west_1`), any case.
    pub(crate) fn parse(text: &str) -> Option<Region> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
        REGIONS.iter().copied().find(|r| r.name == wanted)
    }

    /// The SDK enum spelling, e.g. `eu_west_1`.
    pub(crate) fn sdk_name(&self) -> String {
        self.name.replace('-', "_")
    }

    pub(crate) fn api_base_url(&self) -> String {
        format!("https://api.{}", self.domain)
    }

    pub(crate) fn login_base_url(&self) -> String {
        format!("https://login.{}", self.domain)
    }

    /// All accepted names, for the error message of a bad `region`.
    pub(crate) fn all_sdk_names() -> String {
        REGIONS
            .iter()
            .map(Region::sdk_name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests;
