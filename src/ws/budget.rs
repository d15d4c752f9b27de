//! One budget of bytes for the messages every socket holds at once.
//!
//! A socket's own limit (`--echo-max-message-bytes`, 16 MiB by default) bounds one message; this
//! bounds them all together, so that a class sending files at once, or one client opening many
//! sockets, cannot take the server's memory. Two kinds of bytes are counted, where they are
//! held: a message being reassembled (its buffer's capacity, charged as the data arrives, never
//! in advance from the frame header) and a frame a socket built itself waiting to be written
//! (the echo of a message). A message whose next bytes would go beyond the budget ends its
//! connection with 1013 "try again later" (RFC 6455 §7.4.1, IANA registry); the socket's
//! outgoing frames are charged without refusal (their message's bytes were just given back), so
//! the budget may be passed by at most one frame per socket, momentarily.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

/// The bytes all sockets hold, against a fixed limit (`--ws-memory-bytes`).
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
}

impl MemoryBudget {
    /// A budget of `limit` bytes, shared by the sockets that get a [`Lease`] on it.
    pub fn new(limit: usize) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes held now, by every lease together.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// One holder's share of a [`MemoryBudget`]; what it holds is given back when it is dropped.
#[derive(Debug)]
pub struct Lease {
    budget: Arc<MemoryBudget>,
    bytes: usize,
}

impl Lease {
    pub fn new(budget: Arc<MemoryBudget>) -> Lease {
        Lease { budget, bytes: 0 }
    }

    /// Takes `more` bytes if the budget has them; `false` (nothing taken) if not.
    pub fn try_grow(&mut self, more: usize) -> bool {
        let limit = self.budget.limit;
        let taken = self
            .budget
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(more).filter(|total| *total <= limit)
            })
            .is_ok();
        if taken {
            self.bytes += more;
        }
        taken
    }

    /// Takes `more` bytes whatever the budget has left (see the module doc for when).
    pub fn grow(&mut self, more: usize) {
        self.budget.used.fetch_add(more, Ordering::Relaxed);
        self.bytes += more;
    }

    /// Gives back `less` bytes (at most what this lease holds).
    pub fn shrink(&mut self, less: usize) {
        let less = less.min(self.bytes);
        self.budget.used.fetch_sub(less, Ordering::Relaxed);
        self.bytes -= less;
    }

    /// The limit of the budget this lease shares.
    pub fn budget_limit(&self) -> usize {
        self.budget.limit
    }

    /// Bytes this lease holds.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.shrink(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_share_the_limit_and_give_back_on_drop() {
        let budget = MemoryBudget::new(100);
        let mut a = Lease::new(budget.clone());
        let mut b = Lease::new(budget.clone());
        assert!(a.try_grow(60));
        assert!(!b.try_grow(41), "beyond the limit");
        assert!(b.try_grow(40));
        assert_eq!(budget.used(), 100);
        a.shrink(10);
        assert_eq!(budget.used(), 90);
        drop(a);
        assert_eq!(budget.used(), 40);
        b.grow(100);
        assert_eq!(budget.used(), 140, "grow does not refuse");
        drop(b);
        assert_eq!(budget.used(), 0);
    }
}
