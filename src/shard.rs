//! Splitting the monitored queues over several exporters (`shard: i/N`), for an org whose
//! queues are more than one process or one OAuth client's API budget should carry. Every
//! instance resolves the same listing and keeps the queues whose id hashes to its index, so the
//! split needs no coordination: no queue is in two shards, none is in no shard, and a queue stays
//! in its shard while it exists (the hash is of its id alone).

use std::fmt;
use std::str::FromStr;

/// This instance's part: shard `index` of `count`. `0/1`, the default, is every queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Self { index: 0, count: 1 }
    }
}

/// FNV-1a (64 bit): written out because the split must be the same on every build and every
/// platform for as long as shards run side by side, which `std`'s hasher does not promise.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Shard {
    pub fn new(index: u32, count: u32) -> Result<Self, String> {
        if count == 0 || index >= count {
            return Err(format!(
                "{index}/{count} is not a shard: use i/N with N at least 1 and i from 0 to N-1"
            ));
        }
        Ok(Self { index, count })
    }

    /// Whether the queue with `queue_id` is this instance's.
    /// Whether this instance watches what is the org's once, not a queue's: the trunks and
    /// Edges, which every shard would otherwise export and alert on again.
    pub fn owns_the_org(&self) -> bool {
        self.index == 0
    }

    pub fn owns(&self, queue_id: &str) -> bool {
        fnv1a(queue_id) % u64::from(self.count) == u64::from(self.index)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parsed = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) => Self::new(index, count),
            None => Err(format!(
                "`{text}` is not a shard: use i/N, e.g. 0/3 for the first of three"
            )),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl serde::Serialize for Shard {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Shard {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
