//! The org's queues as the routing API shows them, including queues added and removed at run
//! time through `/sim/queues`. A queue's index is its identity inside the simulator (the traffic
//! model, the ledger and the publisher all key on it), so a removed queue keeps its slot and is
//! only hidden: indices never shift.

use std::collections::HashMap;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::genesys::model::{DivisionRef, Queue};

use super::traffic::uuid;
use crate::sim::config::SimConfig;

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
    /// Queue id → slot index: requests name queues by id, up to 100 at a time, and a scan of
    /// every slot per id made that quadratic at thousands of queues. Ids never change.
    index: HashMap<String, usize>,
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
            index: HashMap::new(),
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

    /// The org's home division, where what belongs to no queue lives.
    pub(crate) fn home_division(&self) -> DivisionRef {
        self.divisions[0].clone()
    }

    /// Every third queue is in the second division, so division filters have work to do.
    fn default_division(&self, index: usize) -> DivisionRef {
        self.divisions[usize::from(index % 3 == 2)].clone()
    }

    fn push(&mut self, id: String, name: String, division: DivisionRef) -> usize {
        self.index.insert(id.clone(), self.slots.len());
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
        let index = *self.index.get(id)?;
        self.get(index).map(|_| index)
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
mod tests;
