//! Scrapes that overlap share one render.
//!
//! A render at 5,000 queues and 10,000 agents writes about 680,000 series; each scrape used to
//! write its own, so 32 scrapers held 32 renders at once and took 32 times the CPU. Here at most
//! one render is written at a time, and a scrape that arrives while one is being written shares
//! it when a render starting now would judge every queue and agent just as stale or fresh
//! (no staleness bound passed since it started). It then reads what was written so far and
//! goes on with the others. Otherwise (a bound passed, or its body was not kept from the
//! start) it waits for the next render, which starts as soon as this one is written and serves
//! every scrape waiting meanwhile. So staleness is judged as of each scrape; values that count
//! time (the oldest wait) are as of the render's start, at most one render earlier; and a scrape
//! mostly waits at most one render, at worst two.
//!
//! The render's parts (a family each, `ScrapeParts`) are written as the scrape that is furthest
//! along asks for the next one, as one scrape alone was served before. The gzip body (what
//! Prometheus asks for, a tenth of the text) is kept whole until written, for scrapes that join;
//! the text is kept only until every scrape sharing it has taken it. Once scrapes wait for the
//! next render, the rest of the current one is written at once, so a slow scraper holds up no
//! one else (its rest waits for it in memory, one body at most). A gzip body is compressed once
//! for all who ask for it. A scrape that goes away stops counting; when none is left the render
//! is dropped unfinished, which counts as not shown (new counter groups keep waiting for a
//! render that shows their zeros).

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use tokio::sync::Notify;

use super::telemetry::ServerMetrics;
use crate::metrics::registry::SelfMetrics;
use crate::metrics::{Judgement, Metrics, ScrapeParts};
use crate::sync::lock;

/// How many renders are written at once. NB: one a core was measured worse (BENCHMARKS.md,
/// many scrapers): a free slot starts a render for the one scrape that finds it, so looping
/// scrapers split into solo renders and one shared batch, and 8 scrapers' p99 went from 0.84 s
/// to 2.6 s; only two scrapes that overlap gain from a second.
const RENDERS_AT_ONCE: usize = 1;

/// Every scrape of `/metrics` goes through here.
pub(crate) struct Scrapes {
    metrics: Arc<Metrics>,
    telemetry: ServerMetrics,
    hub: Mutex<Hub>,
}

#[derive(Default)]
struct Hub {
    /// The renders being written, until their last part is.
    writing: Vec<Arc<Render>>,
    /// The render the scrapes wait for that can join none being written while every slot is
    /// busy.
    next: Option<Arc<Render>>,
}

#[derive(Default)]
struct Render {
    state: Mutex<RenderState>,
    /// A part was written, the render started, or it ended.
    changed: Notify,
}

#[derive(Default)]
struct RenderState {
    /// `None` before the start, while a scrape writes a part, and once written.
    writer: Option<Writer>,
    started: bool,
    /// How the render judges staleness, from its start.
    judgement: Option<Judgement>,
    /// A scrape is writing the next part.
    busy: bool,
    /// Scrapes wait for the next render: the rest of this one is being written at once.
    hurried: bool,
    /// Every part is written, or no scrape is left to take one.
    done: bool,
    /// The last part is written: the exporter's own metrics, judged (the polled counters'
    /// freshness) as of its writing, so a scrape arriving later joins no more.
    sealed: bool,
    plain: Sequence,
    /// The gzip body, when a scrape asked for it; kept whole until written, for the scrapes
    /// that join the render meanwhile.
    gzip: Option<Sequence>,
    /// Each scrape's place (`None`: gone), by its id.
    readers: Vec<Option<Reader>>,
}

/// What writes a render's parts, and compresses them when a scrape asked for gzip.
struct Writer {
    parts: ScrapeParts<Arc<Metrics>>,
    gzip: Option<GzEncoder<Vec<u8>>>,
}

/// One step of a render: the next part (`None`: the render is written) and its gzip bytes.
struct Written {
    plain: Option<Bytes>,
    gzip: Option<Bytes>,
    /// Every part is written now, so the last judgement is made.
    sealed: bool,
}

impl Writer {
    fn write_next(&mut self) -> Written {
        let part = self.parts.next();
        let gzip = self.gzip.as_mut().map(|encoder| {
            // NB: writing to a Vec never fails; a sync flush ends the part on a byte boundary,
            // so its compressed bytes can be sent before the next part is written.
            match &part {
                Some(part) => {
                    let _ = encoder.write_all(part);
                    let _ = encoder.flush();
                }
                None => {
                    let _ = encoder.try_finish();
                }
            }
            Bytes::from(std::mem::take(encoder.get_mut()))
        });
        Written {
            plain: part.map(Bytes::from),
            gzip,
            sealed: self.parts.is_written(),
        }
    }
}

/// A body's chunks as written; a chunk every scrape has taken is dropped (`None`).
#[derive(Default)]
struct Sequence {
    chunks: Vec<Option<Bytes>>,
}

impl Sequence {
    /// Whether no chunk has been dropped yet.
    fn is_whole(&self) -> bool {
        self.chunks.iter().all(Option::is_some)
    }
}

#[derive(Clone, Copy)]
struct Reader {
    gzip: bool,
    taken: usize,
}

/// One scrape's view of a shared render: its body, chunk by chunk.
pub(crate) struct Scrape {
    scrapes: Arc<Scrapes>,
    render: Arc<Render>,
    id: usize,
}

impl Scrapes {
    pub(crate) fn new(metrics: Arc<Metrics>) -> Arc<Scrapes> {
        Arc::new(Scrapes {
            telemetry: ServerMetrics::of(&metrics),
            metrics,
            hub: Mutex::default(),
        })
    }

    /// A scrape: of the render being written if it judges staleness as one starting now
    /// would, else of a render starting now if a slot is free, else of the next one.
    pub(crate) fn join(self: &Arc<Self>, gzip: bool) -> Scrape {
        let mut hub = lock(&self.hub);
        let now_ms = self.metrics.clock().now_ms();
        let writing = (hub.writing.iter())
            .find(|w| lock(&w.state).admits(gzip, now_ms))
            .cloned();
        let full = hub.writing.len() >= RENDERS_AT_ONCE;
        self.telemetry.scraped(writing.is_some() || full);
        let (render, fresh) = match writing {
            Some(render) => (render, false),
            None if full => {
                // NB: scrapes now wait for the render being written, so it must not wait for
                // its slowest scrape: the rest is written at once and kept for that scrape.
                for writing in &hub.writing {
                    self.hurry(writing);
                }
                (hub.next.get_or_insert_with(Arc::default).clone(), false)
            }
            None => {
                let render = Arc::new(Render::default());
                hub.writing.push(render.clone());
                (render, true)
            }
        };
        let id = {
            let mut state = lock(&render.state);
            state.readers.push(Some(Reader { gzip, taken: 0 }));
            state.readers.len() - 1
        };
        if fresh {
            self.start(&render);
        }
        Scrape {
            scrapes: self.clone(),
            render,
            id,
        }
    }

    /// Starts `render` now, for the scrapes that joined it.
    fn start(&self, render: &Render) {
        let mut state = lock(&render.state);
        if state.started {
            return;
        }
        let now_ms = self.metrics.clock().now_ms();
        let gzip = state.readers.iter().flatten().any(|r| r.gzip);
        let parts = ScrapeParts::new(self.metrics.clone(), now_ms);
        state.judgement = Some(parts.judgement());
        state.writer = Some(Writer {
            parts,
            gzip: gzip.then(|| GzEncoder::new(Vec::new(), Compression::fast())),
        });
        state.gzip = gzip.then(Sequence::default);
        state.started = true;
        drop(state);
        render.changed.notify_waiters();
    }

    /// Writes the rest of `render` now, rather than as its fastest scrape asks.
    fn hurry(self: &Arc<Self>, render: &Arc<Render>) {
        {
            let mut state = lock(&render.state);
            if state.hurried || state.done {
                return;
            }
            state.hurried = true;
        }
        let (scrapes, render) = (self.clone(), render.clone());
        tokio::spawn(async move {
            while let Some(writer) = take_writer(&render).await {
                write_next(&scrapes, &render, writer);
            }
        });
    }

    /// `render` is written (or abandoned): its slot goes to the scrapes waiting for the next.
    fn ended(&self, render: &Arc<Render>) {
        let mut hub = lock(&self.hub);
        let before = hub.writing.len();
        hub.writing.retain(|w| !Arc::ptr_eq(w, render));
        if hub.writing.len() == before {
            return;
        }
        let waited = hub.next.take();
        if let Some(next) = waited.filter(|n| lock(&n.state).readers.iter().any(Option::is_some)) {
            hub.writing.push(next.clone());
            self.start(&next);
        }
    }
}

impl Scrape {
    /// The body's next chunk; `None` at its end.
    pub(crate) async fn next(&mut self) -> Option<Bytes> {
        loop {
            let changed = self.render.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let writer = {
                let mut state = lock(&self.render.state);
                if !state.started || state.busy {
                    None
                } else if let Some(chunk) = state.take(self.id) {
                    return Some(chunk);
                } else if state.done {
                    return None;
                } else {
                    let writer = state.writer.take();
                    state.busy = writer.is_some();
                    writer
                }
            };
            match writer {
                Some(writer) => write_next(&self.scrapes, &self.render, writer),
                None => changed.await,
            }
        }
    }
}

/// The render's writer once no one else holds it; `None` once the render is done.
async fn take_writer(render: &Render) -> Option<Writer> {
    loop {
        let changed = render.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        {
            let mut state = lock(&render.state);
            if state.done {
                return None;
            }
            if state.started
                && !state.busy
                && let Some(writer) = state.writer.take()
            {
                state.busy = true;
                return Some(writer);
            }
        }
        changed.await;
    }
}

/// Writes and compresses the next part of `render` (a render's CPU, so outside the lock), then
/// shares it.
fn write_next(scrapes: &Scrapes, render: &Arc<Render>, mut writer: Writer) {
    let written = writer.write_next();
    let mut state = lock(&render.state);
    state.busy = false;
    let ended = written.plain.is_none();
    state.push(written);
    if ended {
        state.done = true;
        state.drop_taken();
    } else if !state.done {
        state.writer = Some(writer);
    }
    drop(state);
    render.changed.notify_waiters();
    if ended {
        scrapes.ended(render);
    }
}

impl Drop for Scrape {
    fn drop(&mut self) {
        let abandoned = {
            let mut state = lock(&self.render.state);
            state.readers[self.id] = None;
            state.drop_taken();
            let left = state.readers.iter().any(Option::is_some);
            if !left && !state.done {
                // NB: dropping the parts unfinished counts the render as not shown.
                state.writer = None;
                state.done = true;
                true
            } else {
                false
            }
        };
        if abandoned {
            self.scrapes.ended(&self.render);
        }
    }
}

impl RenderState {
    /// Whether a scrape at `now_ms` may join this render: it is being written, judges
    /// staleness as a render starting now would, and still holds its body from the start.
    fn admits(&self, gzip: bool, now_ms: i64) -> bool {
        let whole = match (&self.gzip, gzip) {
            (Some(body), true) => body.is_whole(),
            (None, true) => false,
            (_, false) => self.plain.is_whole(),
        };
        let open = !self.sealed && !self.done;
        whole && open && self.judgement.is_some_and(|j| j.alike_at(now_ms))
    }

    /// Reader `id`'s next chunk, if written.
    fn take(&mut self, id: usize) -> Option<Bytes> {
        let reader = self.readers[id]?;
        let sequence = match (&self.gzip, reader.gzip) {
            (Some(gzip), true) => gzip,
            _ => &self.plain,
        };
        let chunk = sequence.chunks.get(reader.taken)?.clone()?;
        if let Some(r) = self.readers[id].as_mut() {
            r.taken += 1;
        }
        self.drop_taken();
        Some(chunk)
    }

    /// Shares a written part and its gzip bytes.
    fn push(&mut self, written: Written) {
        self.sealed |= written.sealed;
        if let (Some(sequence), Some(chunk)) = (&mut self.gzip, written.gzip) {
            sequence.chunks.push(Some(chunk));
        }
        if let Some(part) = written.plain {
            self.plain.chunks.push(Some(part));
        }
        self.drop_taken();
    }

    /// Drops the chunks every remaining scrape has taken; the gzip body's only once written.
    fn drop_taken(&mut self) {
        for gzip in [false, true] {
            if gzip && !self.done {
                continue;
            }
            let least = (self.readers.iter().flatten())
                .filter(|r| r.gzip == gzip && (self.gzip.is_some() || !gzip))
                .map(|r| r.taken)
                .min();
            let sequence = match (gzip, &mut self.gzip) {
                (false, _) => &mut self.plain,
                (true, Some(gzip)) => gzip,
                (true, None) => continue,
            };
            let least = least.unwrap_or(sequence.chunks.len());
            for chunk in sequence.chunks.iter_mut().take(least) {
                *chunk = None;
            }
        }
    }
}

/// Whether an `Accept-Encoding` value admits gzip (RFC 9110 §12.5.3: listed with a q above 0,
/// or admitted by `*` and not refused by name).
pub(crate) fn accepts_gzip(header: Option<&str>) -> bool {
    let Some(header) = header else {
        return false;
    };
    let mut any = None;
    for item in header.split(',') {
        let mut fields = item.split(';');
        let coding = fields.next().unwrap_or("").trim();
        let q = fields
            .filter_map(|f| f.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            return q > 0.0;
        }
        if coding == "*" {
            any = Some(q > 0.0);
        }
    }
    any.unwrap_or(false)
}

#[cfg(test)]
mod tests;
