//! What a transaction holds, and the reads that wait for it.

use std::sync::Arc;

use crate::{ItemKey, Partition, Recorded, Shared, State};

/// Counts a read waiting for visibility until dropped.
pub(crate) struct WaitingRead<'a>(pub(crate) &'a Shared);

impl Drop for WaitingRead<'_> {
    fn drop(&mut self) {
        self.0
            .reads_waiting
            .send_modify(|w| *w = w.saturating_sub(1));
    }
}

/// The items of one transaction (with their partitions, kept with a commit window), held
/// until released one by one or this is dropped.
pub(crate) struct Hold {
    pub(crate) shared: Arc<Shared>,
    pub(crate) tx: u64,
    pub(crate) items: Vec<(ItemKey, Option<Partition>)>,
    pub(crate) token: Option<String>,
    pub(crate) applied: bool,
}

impl State {
    /// Releases `item` if transaction `tx` holds it.
    fn release(&mut self, tx: u64, item: &ItemKey, partition: Option<&Partition>) {
        if self.held.get(item) == Some(&tx) {
            self.held.remove(item);
            if let Some(p) = partition
                && let Some(n) = self.held_partitions.get_mut(p)
            {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.held_partitions.remove(p);
                }
            }
        }
    }
}

impl Hold {
    /// Releases one item before the others: it is visible from now on.
    pub(crate) fn release(&mut self, item: &ItemKey) {
        {
            let mut state = self.shared.lock();
            if let Some(i) = self.items.iter().position(|(k, _)| k == item) {
                let (k, p) = self.items.remove(i);
                state.release(self.tx, &k, p.as_ref());
            }
        }
        self.shared.released.send_modify(|n| *n += 1);
    }

    /// Records the transaction's successful outcome under its token.
    pub(crate) fn record(&mut self, recorded: Recorded) {
        let Some(t) = self.token.take() else {
            return;
        };
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        if let Some(entry) = state.tokens.get_mut(&t) {
            entry.outcome = Some(recorded);
            entry.at = now;
        }
        // Forget expired tokens now and then.
        if state.tokens.len().is_multiple_of(1024) {
            let window = self.shared.config.idempotency_window;
            state
                .tokens
                .retain(|_, e| e.outcome.is_none() || now < e.at + window);
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            for (k, p) in &self.items {
                state.release(self.tx, k, p.as_ref());
            }
            // A token not recorded (failure, or the caller gave up) is free again.
            if let Some(t) = &self.token
                && state.tokens.get(t).is_some_and(|e| e.outcome.is_none())
            {
                state.tokens.remove(t);
            }
        }
        self.shared.released.send_modify(|n| *n += 1);
        let applied = self.applied;
        self.shared.activity.send_modify(|(h, a)| {
            *h = h.saturating_sub(1);
            if applied {
                *a = a.saturating_sub(1);
            }
        });
    }
}
