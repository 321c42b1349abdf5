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
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_is_utc_now() {
        let clock = Clock::system();
        let drift = (clock.now() - Utc::now()).num_milliseconds().abs();
        assert!(drift < 1_000, "{drift} ms");
    }

    #[test]
    fn a_scaled_clock_runs_faster_and_its_clones_agree() {
        let clock = Clock::scaled(1_000.0);
        let copy = clock.clone();
        let start = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let elapsed = (copy.now() - start).num_milliseconds();
        assert!(
            elapsed >= 20_000,
            "20 ms real is at least 20 s simulated: {elapsed}"
        );
        assert!(copy.now() >= clock.now() - TimeDelta::seconds(1));
        assert_eq!(
            clock.timer_for(Duration::from_secs(3_600)),
            Duration::from_millis(3_600)
        );
        assert_eq!(
            Clock::system().timer_for(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
        assert_eq!(
            clock.span_of(Duration::from_millis(3_600)),
            Duration::from_secs(3_600)
        );
        assert_eq!(
            Clock::system().span_of(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
    }
}
