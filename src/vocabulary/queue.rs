//! The queue as every layer sees it: its labels, how configured names select it, and how its
//! freshness turns into staleness.

/// A queue's labels, as resolved from routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueLabels {
    pub id: String,
    pub name: String,
    pub division: String,
}

/// What happens to the observation gauges of a stale queue (`stream.stale_gauges`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StaleGauges {
    /// They keep their last values; `genesys_exporter_queue_stale` says not to trust them.
    #[default]
    Keep,
    /// They disappear until a resync refreshes them, so nothing frozen can be graphed.
    Remove,
}

impl<'de> serde::Deserialize<'de> for StaleGauges {
    /// By hand, so a wrong value gets an error that lists the right ones.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        match value.as_str() {
            "keep" => Ok(Self::Keep),
            "remove" => Ok(Self::Remove),
            other => Err(serde::de::Error::custom(format!(
                "`{other}` is neither keep nor remove"
            ))),
        }
    }
}

/// How freshness turns into staleness.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StalePolicy {
    /// A queue whose values are older than this is stale; `None` disables the bound (only a
    /// failed resync then marks a queue stale).
    pub bound_seconds: Option<f64>,
    pub gauges: StaleGauges,
}

/// Whether `name` matches `pattern`: case-insensitive, `*` standing for any run of characters
/// (including none), every other character literal.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let name: Vec<char> = name.to_lowercase().chars().collect();
    // Greedy match with backtracking to the last `*`: linear in practice, no recursion.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if p < pattern.len() && pattern[p] == name[n] {
            p += 1;
            n += 1;
        } else if let Some((star_p, star_n)) = star {
            p = star_p + 1;
            n = star_n + 1;
            star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

impl super::listing::Listed for QueueLabels {
    const KIND: &'static str = "queue";

    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }
}
