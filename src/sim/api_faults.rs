//! The API faults armed through `POST /sim/faults` and which requests they hit. A fault may be
//! aimed at one path, so a test can fail the aggregates query while observations keep flowing;
//! several can be armed at once, each with its own count.

use serde::Serialize;

/// What an armed fault does to the request it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum ApiFault {
    #[serde(rename_all = "camelCase")]
    RateLimit {
        retry_after_seconds: u64,
    },
    ServerError {
        status: u16,
    },
    /// 200 with a JSON content type and a body cut short.
    MalformedBody,
    /// 401 `bad.credentials` for a token that is valid.
    Unauthorized,
    /// Answered normally, after this many real milliseconds.
    #[serde(rename_all = "camelCase")]
    SlowResponse {
        delay_ms: u64,
    },
}

impl ApiFault {
    /// Which of several faults matching one request answers it: the order the gate always
    /// checked them in (a rate limit before a server error), the new kinds after.
    fn rank(self) -> u8 {
        match self {
            Self::RateLimit { .. } => 0,
            Self::ServerError { .. } => 1,
            Self::MalformedBody => 2,
            Self::SlowResponse { .. } => 3,
            Self::Unauthorized => 4,
        }
    }

    fn same_kind(self, other: Self) -> bool {
        self.rank() == other.rank()
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Armed {
    #[serde(flatten)]
    fault: ApiFault,
    /// The exact request path it hits; any `/api/` path when absent.
    path: Option<String>,
    remaining: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    armed: Vec<Armed>,
}

impl Faults {
    /// Arms `count` requests of `fault` on `path`, replacing what was armed for the same kind
    /// and path (so a count of 0 disarms it).
    pub(crate) fn arm(&mut self, fault: ApiFault, count: u32, path: Option<String>) {
        self.armed
            .retain(|a| !(a.fault.same_kind(fault) && a.path == path));
        if count > 0 {
            self.armed.push(Armed {
                fault,
                path,
                remaining: count,
            });
        }
    }

    /// Consumes the fault a request to `path` receives, if any: by kind as [`ApiFault::rank`]
    /// orders them, and for one kind a fault aimed at `path` before one aimed at any path.
    pub(crate) fn take(&mut self, path: &str) -> Option<ApiFault> {
        let (index, _) = self
            .armed
            .iter()
            .enumerate()
            .filter(|(_, a)| a.path.as_deref().is_none_or(|p| p == path))
            .min_by_key(|(_, a)| (a.fault.rank(), a.path.is_none()))?;
        let armed = &mut self.armed[index];
        let fault = armed.fault;
        armed.remaining -= 1;
        if armed.remaining == 0 {
            self.armed.remove(index);
        }
        Some(fault)
    }

    /// What is still armed, for `GET /sim/faults`.
    pub(crate) fn armed(&self) -> &[Armed] {
        &self.armed
    }
}

#[cfg(test)]
mod tests;
