//! The one wall clock: every "now" that decides behaviour (freshness and staleness, channel
//! expiry and rotation, bucket windows, state ages) reads it. Production uses the system clock;
//! tests that must cover an hour of contact-centre traffic in a minute give the simulator and
//! the exporter one shared clock that runs faster than real time. Timers and timeouts stay on
//! tokio's real clock either way; a deadline in this clock's time becomes a timer through
//! [`Clock::timer_for`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

/// Cheap to clone; clones share their origin, so they always agree.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    scaled: Option<Arc<Scaled>>,
}

#[derive(Debug)]
struct Scaled {
    real_origin: Instant,
    origin: DateTime<Utc>,
    scale: f64,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that starts at the real now and advances `scale` times faster than real time.
    pub fn scaled(scale: f64) -> Self {
        Self {
            scaled: Some(Arc::new(Scaled {
                real_origin: Instant::now(),
                origin: Utc::now(),
                scale: scale.max(0.0),
            })),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.scaled {
            None => Utc::now(),
            Some(scaled) => {
                let real = scaled.real_origin.elapsed().as_secs_f64();
                let simulated_ms = (real * scaled.scale * 1000.0) as i64;
                scaled.origin + TimeDelta::milliseconds(simulated_ms)
            }
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Unix seconds now, with milliseconds.
    pub fn now_seconds(&self) -> f64 {
        self.now_ms() as f64 / 1000.0
    }

    /// How long a timer runs for `span` of this clock's time to pass: `span` itself on the
    /// system clock, shorter on a faster one (a channel due for rotation in an hour of
    /// simulated time is replaced after that hour, not after a real one).
    pub fn timer_for(&self, span: Duration) -> Duration {
        match &self.scaled {
            Some(scaled) if scaled.scale > 0.0 => span.div_f64(scaled.scale),
            _ => span,
        }
    }

    /// How much of this clock's time passes while `real` time does: the inverse of
    /// [`Clock::timer_for`] (three poll intervals of real time are three minutes on the system
    /// clock, an hour on one sixty times faster).
    pub fn span_of(&self, real: Duration) -> Duration {
        match &self.scaled {
            Some(scaled) => real.mul_f64(scaled.scale),
            None => real,
        }
    }
}

#[cfg(test)]
mod tests;
