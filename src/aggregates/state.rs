//! The ledger's state file (`state_dir`): what the counters already counted, so that a
//! restarted exporter counts the conversations that happened while it was down exactly once.
//!
//! It also carries each counter series' total, the value its counters show once saved, so a
//! restarted exporter resumes every counter where it was rather than at 0: Prometheus then sees
//! no reset, and what was shown after its last scrape is still counted. Increments show only
//! once saved, so a resumed total is never below a value already shown.
//!
//! A state is only a baseline if it describes the same counting: the same org (client id and
//! API base), granularity and metric set, saved no longer ago than the window and not in the
//! future. Anything else — missing, unreadable, truncated, corrupt, foreign, expired, from the
//! future — is ignored with its reason (logged and counted by the caller); the ledger then
//! takes a fresh baseline, which can miss the downtime's conversations but never counts one
//! twice. Writes go to a temporary file that is fsynced and renamed over the old one, so a
//! crash mid-write leaves the previous state whole.
//!
//! # The layout (version 3)
//!
//! The whole file is rewritten at every save (`state_flush_interval`, 10 s by default), and a
//! large org has one series per queue, media type and direction in every bucket of the window,
//! so whatever a series repeats is paid for on every flush: in the bytes written and in the
//! memory a save holds. Version 3 therefore spells each name once and refers to it by position:
//!
//! - the watched owners (`queues`, or `agents` in the agents' file) are an object sorted by id
//!   (with since when each is watched), and a series names its owner by its position there; a
//!   series of an owner not watched cannot be written at all;
//! - `groups` lists each (group, part) pair of the series keys once, `[media type, direction]`
//!   or `[metric, qualifier]`, the part `null` when there is none, and a series names its
//!   pair by position;
//! - marks and totals are arrays in the identity's counter order (its sorted names, which the
//!   identity check has already compared), `null` for a counter without a mark;
//! - whole numbers are written without a fraction, as upstream counts and milliseconds are.
//!
//! A bucket is `{"start": …, "series": [[owner, group, [marks…]], …]}`, a total
//! `[owner, group, shown, [values…]]`. Versions 1 and 2 spelled out every key and counter name
//! in every mark, nine times the bytes at 5,000 queues (BENCHMARKS.md); they still load,
//! version 1 without totals (its counters start at 0). Every position and array length is
//! checked on load: a state that does not add up is corrupt, never partly trusted.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::ledger::{Counter, Ledger, Marks, SeriesKey, SeriesTotal, Watch};

const FORMAT: &str = "genesys-exporter-ledger";
/// Version 3 refers to names by position; 2 added the series' totals; 1 had neither.
const VERSION: u32 = 3;
const VERSIONS_READ: [u32; 3] = [1, 2, 3];
/// The conversation counters' file; the agents' time in status has its own beside it.
pub(crate) const FILE_NAME: &str = "ledger.json";
/// Clock skew between the host that wrote a state and the one reading it that is tolerated.
const FUTURE_TOLERANCE: TimeDelta = TimeDelta::seconds(60);

/// What a state must match to be used: the counting it describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub client_id: String,
    pub api_base_url: String,
    pub granularity_seconds: u64,
    /// Exported counter names, sorted: the order of version 3's marks and totals.
    pub counters: Vec<String>,
    /// The directions counters are split by, sorted; absent (as in files written before the
    /// setting existed) when they are not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directions: Vec<String>,
}

impl Identity {
    pub fn new<C: Counter>(
        client_id: &str,
        api_base_url: &str,
        granularity: Duration,
        counters: &[C],
    ) -> Self {
        let mut names: Vec<String> = counters.iter().map(|c| c.name().to_owned()).collect();
        names.sort();
        Self {
            client_id: client_id.to_owned(),
            api_base_url: api_base_url.trim_end_matches('/').to_owned(),
            granularity_seconds: granularity.as_secs(),
            counters: names,
            directions: Vec::new(),
        }
    }

    /// The same counting split by `directions`: marks kept without a direction (or with
    /// others) describe other series, so such a state is foreign.
    pub(crate) fn with_directions(mut self, directions: &[String]) -> Self {
        self.directions = directions.to_vec();
        self.directions.sort();
        self
    }
}

/// Why a state file was not used; `as_str` is the `result` label of
/// `genesys_exporter_state_loads_total`.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no state file yet")]
    Missing,
    #[error("cannot read the state file: {0}")]
    Unreadable(#[source] std::io::Error),
    #[error("the state file ends early (a write was cut short?): {0}")]
    Truncated(#[source] serde_json::Error),
    #[error("the state file is not a valid ledger state: {0}")]
    Corrupt(String),
    #[error("the state file belongs to other settings ({0} differs)")]
    Foreign(&'static str),
    #[error("the state file was saved in the future ({saved_at}); is the clock wrong?")]
    Future { saved_at: DateTime<Utc> },
    #[error("the state file is older than the window (saved {saved_at})")]
    Expired { saved_at: DateTime<Utc> },
}

impl LoadError {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Unreadable(_) => "unreadable",
            Self::Truncated(_) => "truncated",
            Self::Corrupt(_) => "corrupt",
            Self::Foreign(_) => "foreign",
            Self::Future { .. } => "future",
            Self::Expired { .. } => "expired",
        }
    }
}

/// A state file of any version read: what every version lays out alike, with its buckets and
/// totals left as text until the version says how to read them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StateFile<'a> {
    format: String,
    version: u32,
    identity: Identity,
    saved_at: DateTime<Utc>,
    forgotten_before: Option<DateTime<Utc>>,
    /// What is watched, under the name its key's fields give (`KeyFields::owners`): queues, or
    /// agents, flows or data actions in their files.
    #[serde(alias = "agents", alias = "flows", alias = "actions")]
    queues: BTreeMap<String, QueueState>,
    /// Version 3's (group, part) pairs.
    groups: Option<Vec<(String, Option<String>)>>,
    #[serde(borrow)]
    buckets: &'a RawValue,
    /// Absent in version 1.
    #[serde(borrow)]
    totals: Option<&'a RawValue>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QueueState {
    since: DateTime<Utc>,
    established: bool,
}

/// A ledger's marks and totals as read, before they replace the empty ledger's.
struct Contents<C: Counter> {
    buckets: BTreeMap<DateTime<Utc>, HashMap<C::Key, Marks<C>>>,
    totals: HashMap<C::Key, SeriesTotal>,
}

/// The state file of one exporter.
#[derive(Debug, Clone)]
pub struct StateStore {
    path: PathBuf,
    identity: Identity,
    window: Duration,
}

impl StateStore {
    /// Opens `dir` (created if missing) and proves it writable the way every save writes, so a
    /// directory that cannot hold the state fails at start-up rather than at the first save.
    pub fn open(dir: &Path, identity: Identity, window: Duration) -> std::io::Result<Self> {
        Self::open_file(dir, FILE_NAME, identity, window)
    }

    /// [`StateStore::open`] for the file `name` in `dir`.
    pub fn open_file(
        dir: &Path,
        name: &str,
        identity: Identity,
        window: Duration,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let probe = dir.join(".write-probe");
        write_atomically(&probe, b"probe")?;
        std::fs::remove_file(&probe)?;
        Ok(Self {
            path: dir.join(name),
            identity,
            window,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The saved ledger, if it is a valid baseline at `now`, restored into `ledger` (which
    /// must be empty and of the same granularity and counters).
    pub fn load_into<C: Counter>(
        &self,
        ledger: &mut Ledger<C>,
        now: DateTime<Utc>,
    ) -> Result<(), LoadError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(LoadError::Missing),
            Err(e) => return Err(LoadError::Unreadable(e)),
        };
        self.read_into(&bytes, ledger, now)
    }

    /// [`StateStore::load_into`] from the file's `bytes`.
    fn read_into<C: Counter>(
        &self,
        bytes: &[u8],
        ledger: &mut Ledger<C>,
        now: DateTime<Utc>,
    ) -> Result<(), LoadError> {
        let state: StateFile = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                LoadError::Truncated(e)
            } else {
                LoadError::Corrupt(e.to_string())
            }
        })?;
        self.check(&state, now)?;
        let contents = match state.version {
            3 => decode::read(ledger.counters(), &state)?,
            _ => legacy::read(ledger.counters(), &state)?,
        };
        restore(ledger, state, contents);
        Ok(())
    }

    fn check(&self, state: &StateFile, now: DateTime<Utc>) -> Result<(), LoadError> {
        if state.format != FORMAT || !VERSIONS_READ.contains(&state.version) {
            return Err(LoadError::Corrupt(format!(
                "format {} version {}, expected {FORMAT} version {VERSION} or older",
                state.format, state.version
            )));
        }
        if let Some(key) = self.identity.differs(&state.identity) {
            return Err(LoadError::Foreign(key));
        }
        if state.saved_at > now + FUTURE_TOLERANCE {
            return Err(LoadError::Future {
                saved_at: state.saved_at,
            });
        }
        let window = TimeDelta::from_std(self.window).unwrap_or(TimeDelta::MAX);
        if now.signed_duration_since(state.saved_at) > window {
            return Err(LoadError::Expired {
                saved_at: state.saved_at,
            });
        }
        Ok(())
    }

    /// The ledger as file bytes, stamped `saved_at`.
    pub(crate) fn encode<C: Counter>(
        &self,
        ledger: &Ledger<C>,
        saved_at: DateTime<Utc>,
    ) -> Vec<u8> {
        let state = encode::StateOut::new(&self.identity, ledger, saved_at);
        // NB: maps of strings and numbers always serialize.
        serde_json::to_vec(&state).unwrap_or_default()
    }

    /// Removes the state file, as a state older than the counters shown is worse than none.
    pub(crate) fn discard(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Replaces the state file with `bytes`: temporary file, fsync, rename, fsync of the
    /// directory, so a reader sees the old state or the new one, never a mix.
    pub(crate) fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        write_atomically(&self.path, bytes)
    }
}

impl Identity {
    /// The setting that makes `theirs` another counting than this one, if any.
    fn differs(&self, theirs: &Identity) -> Option<&'static str> {
        if self.client_id != theirs.client_id {
            Some("client_id")
        } else if self.api_base_url != theirs.api_base_url {
            Some("api_base_url")
        } else if self.granularity_seconds != theirs.granularity_seconds {
            Some("aggregates.granularity")
        } else if self.counters != theirs.counters {
            Some("aggregates.metrics")
        } else if self.directions != theirs.directions {
            Some("directions")
        } else {
            None
        }
    }
}

/// `raw` read as `T`; a mismatch is corrupt, and `what` names the part of the file in error.
fn parse<'a, T: Deserialize<'a>>(raw: &'a RawValue, what: &str) -> Result<T, LoadError> {
    serde_json::from_str(raw.get()).map_err(|e| LoadError::Corrupt(format!("{what}: {e}")))
}

/// `value` if it can be an amount (finite, at least 0): a mark or total of `counter`.
fn amount(value: f64, what: &str, counter: &str) -> Result<f64, LoadError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(LoadError::Corrupt(format!("{what} {counter} = {value}")))
    }
}

/// The group a series key's (group, part) names; names of no group of ours are corrupt.
fn group<'a, K: SeriesKey>(
    name: &'a str,
    part: Option<&'a str>,
) -> Result<K::Group<'a>, LoadError> {
    K::parse(name, part).ok_or_else(|| {
        let fields = K::FIELDS;
        let part = part.map_or(String::new(), |part| format!(" {} {part}", fields.part));
        LoadError::Corrupt(format!("unknown {} {name}{part}", fields.group))
    })
}

/// Fills the empty `ledger` with what `state` holds.
fn restore<C: Counter>(ledger: &mut Ledger<C>, state: StateFile, contents: Contents<C>) {
    ledger.buckets = contents.buckets;
    ledger.totals = contents.totals;
    ledger.forgotten_before = state.forgotten_before;
    ledger.watched = state
        .queues
        .into_iter()
        .map(|(id, q)| {
            let watch = Watch {
                since: q.since,
                established: q.established,
            };
            (id, watch)
        })
        .collect();
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

mod decode;
mod encode;
mod legacy;
#[cfg(test)]
mod tests;
