//! IVR flows (docs/genesys-api.md#ivr-flows): the org's flows, outcomes and milestones as the
//! Architect listings show them (`rest`), the flow aggregates query, and their part of the
//! truth. What happens in the flows is the model's (`model/ivr.rs`); this gives it names.

pub(crate) mod events;
pub(crate) mod rest;

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::genesys::model::{DivisionRef, Flow, FlowPart};
use crate::sim::model::ivr::{CALL_FLOW, CHAT_FLOW, Facet, FlowMetric, Ivr};
use crate::sim::model::traffic::{Model, uuid};

/// Outcome names, numbered once they run out.
const OUTCOMES: [&str; 4] = [
    "Caller identified",
    "Payment taken",
    "Balance read out",
    "Callback booked",
];
/// Milestone names, numbered once they run out.
const MILESTONES: [&str; 4] = [
    "Language chosen",
    "Menu choice made",
    "Account found",
    "Survey offered",
];

/// The names and ids of what the model's IVR runs.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    pub flows: Vec<Flow>,
    pub outcomes: Vec<FlowPart>,
    pub milestones: Vec<FlowPart>,
}

impl Catalog {
    pub(crate) fn new(ivr: &Ivr, seed: u64, division: &DivisionRef) -> Self {
        // NB: ids from a stream of their own, so they never move the queues' or agents'.
        let mut ids = StdRng::seed_from_u64(seed ^ 0xf10e_ca7a_1095);
        let mut numbered: BTreeMap<&str, usize> = BTreeMap::new();
        let flows = (ivr.plans.iter())
            .map(|plan| {
                let n = numbered.entry(plan.flow_type).or_default();
                *n += 1;
                Flow {
                    id: uuid(&mut ids),
                    name: format!("{} {n}", flow_title(plan.flow_type)),
                    flow_type: plan.flow_type.to_owned(),
                    division: Some(division.clone()),
                    active: true,
                }
            })
            .collect();
        let outcomes = parts(&mut ids, &OUTCOMES, ivr.size.outcomes, division);
        let milestones = parts(&mut ids, &MILESTONES, ivr.size.milestones, division);
        Self {
            flows,
            outcomes,
            milestones,
        }
    }

    /// The index of the flow with `id`.
    pub(crate) fn flow_index(&self, id: &str) -> Option<usize> {
        self.flows.iter().position(|flow| flow.id == id)
    }

    /// The index of the outcome with `name_or_id`.
    pub(crate) fn outcome_index(&self, name_or_id: &str) -> Option<usize> {
        (self.outcomes.iter()).position(|o| o.id == name_or_id || o.name == name_or_id)
    }

    /// Everything the IVR ever recorded, lagged or not, named: per flow, each group of the
    /// flow aggregates query (its dimensions) with each metric's count and, for timers, its
    /// millisecond sum; and the transfers to each queue and media type.
    pub(crate) fn truth(&self, model: &Model, queue_ids: &[String]) -> Value {
        let ivr = &model.ivr;
        let flows: Vec<Value> = (self.flows.iter().enumerate())
            .map(|(index, flow)| {
                let mut groups: Vec<(&Facet, Value)> = (ivr.totals.iter())
                    .filter(|((f, _), _)| *f == index)
                    .map(|((_, facet), stats)| {
                        let metrics: serde_json::Map<String, Value> = (FlowMetric::ALL.iter())
                            .filter(|m| stats.of(**m).count > 0)
                            .map(|m| {
                                let stat = stats.of(*m);
                                let value = if m.is_timer() {
                                    json!({"count": stat.count, "sum": stat.sum})
                                } else {
                                    json!({"count": stat.count})
                                };
                                (m.name().to_owned(), value)
                            })
                            .collect();
                        (
                            facet,
                            json!({"group": self.dimensions(facet), "metrics": metrics}),
                        )
                    })
                    .collect();
                groups.sort_by_key(|(facet, _)| **facet);
                let transfers: Vec<Value> = (ivr.transfers.iter())
                    .filter(|((f, ..), _)| *f == index)
                    .filter_map(|((_, queue, media), count)| {
                        let media = model.media_types.get(*media)?;
                        let queue = queue_ids.get(*queue).filter(|id| !id.is_empty())?;
                        Some(json!({"queueId": queue, "mediaType": media, "count": count}))
                    })
                    .collect();
                let groups: Vec<Value> = groups.into_iter().map(|(_, g)| g).collect();
                json!({"flow": flow, "groups": groups, "transfers": transfers,
                    "inFlow": ivr.in_flow(index)})
            })
            .collect();
        json!({"flows": flows, "outcomes": self.outcomes, "milestones": self.milestones})
    }

    /// A facet's dimensions as the flow aggregates query names them.
    pub(crate) fn dimensions(&self, facet: &Facet) -> BTreeMap<&'static str, String> {
        let mut dimensions = BTreeMap::new();
        match *facet {
            Facet::Entry => {}
            Facet::Left { reason, transfer } => {
                dimensions.insert("exitReason", reason.to_owned());
                if let Some(transfer) = transfer {
                    dimensions.insert("transferType", transfer.to_owned());
                }
            }
            Facet::Outcome { outcome, success } => {
                if let Some(part) = self.outcomes.get(outcome) {
                    dimensions.insert("flowOutcomeId", part.id.clone());
                }
                let value = if success { "SUCCESS" } else { "FAILURE" };
                dimensions.insert("flowOutcomeValue", value.to_owned());
            }
            Facet::Milestone(milestone) => {
                if let Some(part) = self.milestones.get(milestone) {
                    dimensions.insert("flowMilestoneId", part.id.clone());
                }
            }
        }
        dimensions
    }
}

fn flow_title(flow_type: &str) -> &'static str {
    match flow_type {
        CALL_FLOW => "Inbound call flow",
        CHAT_FLOW => "Inbound chat flow",
        "INQUEUECALL" => "In-queue flow",
        _ => "Bot",
    }
}

fn parts(ids: &mut StdRng, names: &[&str], count: usize, division: &DivisionRef) -> Vec<FlowPart> {
    (0..count)
        .map(|n| FlowPart {
            id: uuid(ids),
            name: match names.get(n) {
                Some(name) => (*name).to_owned(),
                None => format!("{} {}", names[n % names.len()], n / names.len() + 1),
            },
            division: Some(division.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests;
