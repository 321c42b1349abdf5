//! Counters as Prometheus must see them, whichever source's table holds them (the queues'
//! conversation counters, the agents' time in status).
//!
//! Prometheus takes the first sample of a series as its base: a counter series that appears
//! already at 3 hides those 3 conversations from `increase()`, and a restarted exporter whose
//! counter jumps from 0 straight past its old value is not even seen to reset. So a counter
//! group appears at 0, and the totals it is given are held back until two finished renders of
//! `/metrics` have shown those zeros: a scrape Prometheus lost (one that timed out under load)
//! would otherwise let its first sample be the total, and the first increase vanish from
//! `increase()`. A group that never had data costs no series at all.
//!
//! Counters are set to totals, not incremented: the producer (the ledger's owner) decides
//! what a series has counted, and a restarted exporter resumes a series Prometheus already
//! holds at its saved total instead of 0. What is held back is one total per group, however
//! many increments arrive before a render, so it never grows without a scrape.

use std::sync::atomic::{AtomicU64, Ordering};

/// The counters of one group (a queue's media type and direction; an agent's status), which
/// exist once it has had data.
#[derive(Debug, Clone)]
pub(crate) struct CounterGroup {
    /// In exported units, one per counter of the group's set.
    pub(crate) values: Vec<f64>,
    /// The render count when the group was created; later totals wait until a render has
    /// shown its first values.
    created_at_render: u64,
    /// The latest totals held back until then.
    pending: Option<Vec<f64>>,
    /// Once a finished render has shown the first values: one past the highest render
    /// finished when that was first seen, so a later finished render is a second showing.
    first_seen_shown: Option<u64>,
}

impl CounterGroup {
    /// Whether the render numbered `render` writes the group: one that started before the
    /// group was created leaves it to later renders, so a slow scrape overtaken by a faster one
    /// never shows a new group after its zeros were shown elsewhere and its totals released.
    pub(crate) fn shown_by(&self, render: u64) -> bool {
        self.created_at_render <= render
    }

    pub(crate) fn is_pending(&self) -> bool {
        self.pending.is_some()
    }
}

/// How many renders of `/metrics` have started, and one past the highest-numbered that has
/// finished: what decides when a counter group's held totals may show. One per store, shared
/// by every table holding counters.
#[derive(Debug, Default)]
pub(crate) struct Renders {
    started: AtomicU64,
    finished: AtomicU64,
}

impl Renders {
    /// Numbers a new render.
    pub(super) fn start(&self) -> u64 {
        self.started.fetch_add(1, Ordering::SeqCst)
    }

    /// The render numbered `render` has written every part.
    pub(super) fn finish(&self, render: u64) {
        self.finished.fetch_max(render + 1, Ordering::SeqCst);
    }

    /// The number of the latest render started, as if it were the one asking (for a
    /// reference rendering that shows every group that exists).
    pub(crate) fn latest(&self) -> u64 {
        self.started.load(Ordering::SeqCst).saturating_sub(1)
    }

    /// A group whose first values are `values`.
    pub(crate) fn new_group(&self, values: Vec<f64>) -> CounterGroup {
        CounterGroup {
            values,
            // NB: called under the entry's lock, which a render takes to write the entry: any
            // render counted from here on writes the entry after this, so shows the values.
            created_at_render: self.started.load(Ordering::SeqCst),
            pending: None,
            first_seen_shown: None,
        }
    }

    /// Sets the group in `slot` to `values`, creating it at 0 first unless `shown_before`: a
    /// scrape of an earlier process showed the series, so Prometheus holds a value for it and
    /// the group resumes at `values` at once. Either way, later totals wait until two renders
    /// have shown the group's first values.
    pub(crate) fn set(
        &self,
        slot: &mut Option<CounterGroup>,
        values: Vec<f64>,
        shown_before: bool,
    ) {
        match slot {
            Some(counters) => match self.shown_twice(counters) {
                true => {
                    counters.values = values;
                    counters.pending = None;
                }
                false => counters.pending = Some(values),
            },
            None if shown_before => *slot = Some(self.new_group(values)),
            None => {
                let zeros = vec![0.0; values.len()];
                let counters = slot.insert(self.new_group(zeros));
                counters.pending = Some(values);
            }
        }
    }

    /// Makes sure the group in `slot` exists, `width` counters at 0 if new: a group with data
    /// in the window keeps its series through a restart, so Prometheus sees no gap.
    pub(crate) fn ensure(&self, slot: &mut Option<CounterGroup>, width: usize) {
        if slot.is_none() {
            *slot = Some(self.new_group(vec![0.0; width]));
        }
    }

    /// Whether a finished render has shown the group's first values: every render numbered
    /// from its creation on writes it, and writes it after its creation.
    pub(crate) fn first_values_shown(&self, counters: &CounterGroup) -> bool {
        counters.created_at_render < self.finished.load(Ordering::SeqCst)
    }

    /// Whether two finished renders have shown the group's first values, so that one
    /// scrape Prometheus lost (a timeout under load) cannot hide them: the first time a
    /// finished render is seen to have shown them, the highest finished is marked; a render
    /// finished past the mark is a second one (numbered after its creation, so it showed them
    /// too while they were held).
    fn shown_twice(&self, counters: &mut CounterGroup) -> bool {
        let finished = self.finished.load(Ordering::SeqCst);
        if !self.first_values_shown(counters) {
            return false;
        }
        match counters.first_seen_shown {
            Some(mark) => mark < finished,
            None => {
                counters.first_seen_shown = Some(finished);
                false
            }
        }
    }

    /// Shows the group's held totals once two finished renders have shown its first values.
    /// Every group is asked before each render, so each is marked at the first render after
    /// one showed it, and later totals of a long-shown group move at once.
    pub(crate) fn release(&self, counters: &mut CounterGroup) {
        if self.shown_twice(counters)
            && let Some(values) = counters.pending.take()
        {
            counters.values = values;
        }
    }
}

/// One counter series of an entry that has several of one counter, told apart by a part (a
/// flow's exit reason, a data action's response status): created when first set, at 0 if new.
#[derive(Debug)]
pub(crate) struct PartSeries<C> {
    pub(crate) counter: C,
    pub(crate) part: Option<Box<str>>,
    pub(crate) slot: Option<CounterGroup>,
}

/// An entry's part series, each a group of one counter.
#[derive(Debug)]
pub(crate) struct PartCounters<C>(Vec<PartSeries<C>>);

impl<C> Default for PartCounters<C> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<C: Copy + PartialEq> PartCounters<C> {
    fn find(&self, counter: C, part: Option<&str>) -> Option<&PartSeries<C>> {
        (self.0.iter()).find(|s| s.counter == counter && s.part.as_deref() == part)
    }

    /// Sets the series to `value`, with the store's rule for a new series and `shown_before`.
    pub(crate) fn set(
        &mut self,
        renders: &Renders,
        (counter, part): (C, Option<&str>),
        value: f64,
        shown_before: bool,
    ) {
        self.with(counter, part, |slot| {
            renders.set(slot, vec![value], shown_before)
        });
    }

    /// Makes sure the series exists, at 0 if new.
    pub(crate) fn ensure(&mut self, renders: &Renders, (counter, part): (C, Option<&str>)) {
        self.with(counter, part, |slot| renders.ensure(slot, 1));
    }

    /// Whether a finished render has shown the series.
    pub(crate) fn shown(&self, renders: &Renders, (counter, part): (C, Option<&str>)) -> bool {
        (self.find(counter, part).and_then(|s| s.slot.as_ref()))
            .is_some_and(|slot| renders.first_values_shown(slot))
    }

    /// Shows the held totals whose first values two finished renders showed.
    pub(crate) fn release(&mut self, renders: &Renders) {
        for slot in self.0.iter_mut().filter_map(|s| s.slot.as_mut()) {
            renders.release(slot);
        }
    }

    /// `counter`'s series with their values.
    pub(crate) fn of(&self, counter: C) -> impl Iterator<Item = (&str, f64)> {
        (self.0.iter().filter(move |s| s.counter == counter))
            .filter_map(|s| Some((s.part.as_deref().unwrap_or(""), s.slot.as_ref()?.values[0])))
    }

    fn with(
        &mut self,
        counter: C,
        part: Option<&str>,
        write: impl FnOnce(&mut Option<CounterGroup>),
    ) {
        let series =
            (self.0.iter_mut()).find(|s| s.counter == counter && s.part.as_deref() == part);
        if let Some(series) = series {
            return write(&mut series.slot);
        }
        let mut slot = None;
        write(&mut slot);
        if slot.is_some() {
            let part = part.map(Box::from);
            self.0.push(PartSeries {
                counter,
                part,
                slot,
            });
        }
    }
}
