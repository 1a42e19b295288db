//! Model time: wall time dilated by a scale, or a manual clock a test freezes and steps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// The model's clock. Model time starts at zero when the clock is made. Clones share the same
/// time.
///
/// - [`Clock::scaled`]: model time = wall time elapsed × `scale`. A scale below 1 slows the
///   model down: a 10 ms hold lasts 10 ms / `scale` of wall time, while the engine's own
///   latency (wall time) shrinks by `scale` when read in model time, so the single-threaded
///   engine stops limiting what is measured.
/// - [`Clock::manual`]: model time stands still until [`Clock::advance`] or [`Clock::set`];
///   whatever waits on model time (a transaction's hold) waits until the test steps the clock.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
enum Inner {
    Scaled { origin: Instant, scale: f64 },
    Manual { now: watch::Sender<Duration> },
}

impl Clock {
    /// Wall time × `scale` (a scale that is not finite and positive is taken as 1).
    pub fn scaled(scale: f64) -> Clock {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Clock {
            inner: Arc::new(Inner::Scaled {
                origin: Instant::now(),
                scale,
            }),
        }
    }

    /// A frozen clock at model time zero, moved only by [`Clock::advance`] and [`Clock::set`].
    pub fn manual() -> Clock {
        let (now, _) = watch::channel(Duration::ZERO);
        Clock {
            inner: Arc::new(Inner::Manual { now }),
        }
    }

    /// Whether this is a manual clock.
    pub fn is_manual(&self) -> bool {
        matches!(*self.inner, Inner::Manual { .. })
    }

    /// The scale of a scaled clock (1 for a manual one).
    pub fn scale(&self) -> f64 {
        match *self.inner {
            Inner::Scaled { scale, .. } => scale,
            Inner::Manual { .. } => 1.0,
        }
    }

    /// The current model time, since the clock was made.
    pub fn now(&self) -> Duration {
        match &*self.inner {
            Inner::Scaled { origin, scale } => origin.elapsed().mul_f64(*scale),
            Inner::Manual { now } => *now.borrow(),
        }
    }

    /// Moves a manual clock forward by `by` and wakes whatever waited for a time now reached.
    /// Returns `false` (and does nothing) on a scaled clock.
    pub fn advance(&self, by: Duration) -> bool {
        match &*self.inner {
            Inner::Manual { now } => {
                now.send_modify(|t| *t += by);
                true
            }
            Inner::Scaled { .. } => false,
        }
    }

    /// Sets a manual clock to `to` (never backwards: an earlier time is ignored). Returns
    /// `false` (and does nothing) on a scaled clock.
    pub fn set(&self, to: Duration) -> bool {
        match &*self.inner {
            Inner::Manual { now } => {
                now.send_modify(|t| *t = (*t).max(to));
                true
            }
            Inner::Scaled { .. } => false,
        }
    }

    /// Model time converted to wall time at this clock's scale (a manual clock has no wall
    /// time: the duration is returned unchanged).
    pub fn to_wall(&self, model: Duration) -> Duration {
        model.div_f64(self.scale())
    }

    /// Waits until model time reaches `at`.
    pub async fn sleep_until(&self, at: Duration) {
        match &*self.inner {
            Inner::Scaled { origin, scale } => {
                let wall = *origin + at.div_f64(*scale);
                tokio::time::sleep_until(tokio::time::Instant::from_std(wall)).await;
            }
            Inner::Manual { now } => {
                let mut rx = now.subscribe();
                // The sender lives in `self`, which outlives this wait: `wait_for` cannot see
                // a closed channel here, and if it did, returning early only ends a hold.
                let _ = rx.wait_for(|t| *t >= at).await;
            }
        }
    }
}
