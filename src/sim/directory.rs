//! The org's queues as the routing API shows them, including queues added and removed at run
//! time through `/sim/queues`. A queue's index is its identity inside the simulator (the traffic
//! model, the ledger and the publisher all key on it), so a removed queue keeps its slot and is
//! only hidden: indices never shift.

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::genesys::model::{DivisionRef, Queue};

use super::config::SimConfig;
use super::traffic::uuid;

const QUEUE_NAMES: [&str; 11] = [
    "Support",
    "Sales",
    "Billing",
    "Claims",
    "Returns",
    "Technical",
    "Onboarding",
    "Retention",
    "Renewals",
    "Escalations",
    "VIP",
];

#[derive(Debug)]
struct Slot {
    queue: Queue,
    removed: bool,
}

#[derive(Debug)]
pub(crate) struct Directory {
    slots: Vec<Slot>,
    divisions: [DivisionRef; 2],
    member_count: u32,
    /// NB: its own stream, apart from the one that drew the initial ids, so adding queues
    /// never changes the ids of the configured ones or of the presences.
    added_ids: StdRng,
}

/// Why a queue could not be added.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UnknownDivision(pub String);

impl Directory {
    /// The configured queues, with ids and divisions drawn from `ids`.
    pub(crate) fn new(config: &SimConfig, ids: &mut StdRng) -> Self {
        let divisions = ["Home", "Customer Care"].map(|name| DivisionRef {
            id: uuid(ids),
            name: name.to_owned(),
        });
        let mut directory = Self {
            slots: Vec::new(),
            divisions,
            member_count: u32::try_from(config.agents_per_queue).unwrap_or(u32::MAX),
            added_ids: StdRng::seed_from_u64(config.seed ^ 0x0add_ed9e_0e5e_ed00),
        };
        for i in 0..config.queues {
            let name = QUEUE_NAMES
                .get(i)
                .map_or_else(|| format!("Queue {}", i + 1), |name| (*name).to_owned());
            let division = directory.default_division(i);
            directory.push(uuid(ids), name, division);
        }
        directory
    }

    /// Every third queue is in the second division, so division filters have work to do.
    fn default_division(&self, index: usize) -> DivisionRef {
        self.divisions[usize::from(index % 3 == 2)].clone()
    }

    fn push(&mut self, id: String, name: String, division: DivisionRef) -> usize {
        self.slots.push(Slot {
            queue: Queue {
                self_uri: Some(format!("/api/v2/routing/queues/{id}")),
                id,
                name,
                division: Some(division),
                member_count: Some(self.member_count),
            },
            removed: false,
        });
        self.slots.len() - 1
    }

    /// Adds a queue with the next seeded id; `name` defaults to `Queue <n>` and `division_id`
    /// to the division the index rule picks.
    pub(crate) fn add(
        &mut self,
        name: Option<String>,
        division_id: Option<&str>,
    ) -> Result<(usize, Queue), UnknownDivision> {
        let index = self.slots.len();
        let division = match division_id {
            None => self.default_division(index),
            Some(id) => self
                .divisions
                .iter()
                .find(|d| d.id == id)
                .cloned()
                .ok_or_else(|| UnknownDivision(id.to_owned()))?,
        };
        let name = name.unwrap_or_else(|| format!("Queue {}", index + 1));
        let id = uuid(&mut self.added_ids);
        let index = self.push(id, name, division);
        Ok((index, self.slots[index].queue.clone()))
    }

    /// Renames the live queue with `id` and/or moves it to another division; the queue as it
    /// now is, or `None` if there is no such queue.
    pub(crate) fn update(
        &mut self,
        id: &str,
        name: Option<String>,
        division_id: Option<&str>,
    ) -> Result<Option<Queue>, UnknownDivision> {
        let division = match division_id {
            None => None,
            Some(wanted) => Some(
                self.divisions
                    .iter()
                    .find(|d| d.id == wanted)
                    .cloned()
                    .ok_or_else(|| UnknownDivision(wanted.to_owned()))?,
            ),
        };
        let Some(index) = self.index_of(id) else {
            return Ok(None);
        };
        let queue = &mut self.slots[index].queue;
        if let Some(name) = name {
            queue.name = name;
        }
        if let Some(division) = division {
            queue.division = Some(division);
        }
        Ok(Some(queue.clone()))
    }

    /// Hides the queue with `id`; its index, if it was live.
    pub(crate) fn remove(&mut self, id: &str) -> Option<usize> {
        let index = self.index_of(id)?;
        self.slots[index].removed = true;
        Some(index)
    }

    /// Live queues with their indices, in creation order.
    pub(crate) fn live(&self) -> impl Iterator<Item = (usize, &Queue)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| !slot.removed)
            .map(|(i, slot)| (i, &slot.queue))
    }

    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        self.live().find(|(_, q)| q.id == id).map(|(i, _)| i)
    }

    /// The live queue at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&Queue> {
        self.slots
            .get(index)
            .filter(|slot| !slot.removed)
            .map(|slot| &slot.queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(seed: u64) -> Directory {
        let config = SimConfig {
            seed,
            queues: 12,
            ..SimConfig::default()
        };
        Directory::new(&config, &mut StdRng::seed_from_u64(seed))
    }

    #[test]
    fn added_queues_get_reproducible_ids_and_removed_ones_keep_their_index() {
        let (mut first, mut second) = (directory(1), directory(1));
        let (index, added) = first.add(Some("Queue X".into()), None).unwrap();
        assert_eq!(second.add(Some("Queue X".into()), None).unwrap().1, added);
        assert_eq!(index, 12);
        assert_ne!(directory(2).add(None, None).unwrap().1.id, added.id);
        assert_eq!(
            added.self_uri,
            Some(format!("/api/v2/routing/queues/{}", added.id))
        );

        let removed = first.live().nth(3).map(|(_, q)| q.id.clone()).unwrap();
        assert_eq!(first.remove(&removed), Some(3));
        assert_eq!(first.remove(&removed), None);
        assert_eq!(first.index_of(&removed), None);
        assert_eq!(first.get(3), None);
        assert_eq!(first.index_of(&added.id), Some(12));
        assert_eq!(first.live().count(), 12);
    }

    #[test]
    fn a_queue_is_renamed_and_moved_in_place() {
        let mut directory = directory(7);
        let (index, queue) = directory.add(Some("Old".into()), None).unwrap();
        let other = directory.divisions[1].id.clone();
        let moved = directory.update(&queue.id, Some("New".into()), Some(&other));
        let moved = moved.unwrap().unwrap();
        assert_eq!(
            (moved.name.as_str(), moved.division.unwrap().id),
            ("New", other)
        );
        assert_eq!(directory.index_of(&queue.id), Some(index), "same identity");
        assert_eq!(directory.update("nope", None, None), Ok(None));
        let unknown = directory.update(&queue.id, None, Some("nope"));
        assert_eq!(unknown, Err(UnknownDivision("nope".into())));
    }

    #[test]
    fn a_queue_may_be_added_to_a_known_division_only() {
        let mut directory = directory(1);
        let care = directory.get(2).unwrap().division.clone().unwrap();
        let (_, queue) = directory.add(None, Some(&care.id)).unwrap();
        assert_eq!(queue.division, Some(care));
        assert_eq!(queue.name, "Queue 13");
        assert_eq!(
            directory.add(None, Some("nope")),
            Err(UnknownDivision("nope".into()))
        );
    }
}
