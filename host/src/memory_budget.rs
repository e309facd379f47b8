//! One budget for the memory that HTTP requests make the host hold at once.
//!
//! What a request costs grows with its body: the body itself while it is read and waits,
//! then its guest's linear memory (the component's and its dependencies') and the host's
//! own buffers while it runs. Three things are charged to one host-wide counter:
//!
//! - the bytes of a body past its first [`SMALL_BODY`], as they are read;
//! - before the guest runs, an estimate of what it will take ([`estimate`]: a floor and
//!   [`RESERVED_PER_BODY_BYTE`] per byte of body), waiting for room until the queue
//!   timeout;
//! - the guest's linear memories as wasmtime creates and grows them
//!   ([`wasmtime::ResourceLimiter`]), where they pass what was reserved.
//!
//! Everything a store was charged is given back when the store is dropped. When there is no
//! room, a body being read or a reservation is answered `503` before the guest runs, and a
//! guest's growth fails the request with [`OverBudget`], also answered `503`: never a trap.
//!
//! Requests are of two classes ([`Class`]): a *large* one (a body over [`SMALL_BODY`]) may
//! fill only [`LARGE_SHARE`] of the budget, so small requests — `/v1/health` among them —
//! still find room while large ones queue. Redis and cron invocations are charged too, so
//! requests see the room they take, but they are never refused: there is nobody to answer
//! "busy" to.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;

/// A body of at most this many bytes makes a small request, and is read without a charge.
pub const SMALL_BODY: usize = 64 * 1024;

/// What every request reserves before its guest runs, whatever its body: about what
/// postloan's api takes to answer a small request (3.5 MiB of linear memory for the
/// README's assessment, 1.4 MiB for `/v1/health`).
pub const RESERVED_PER_REQUEST: usize = 4 * 1024 * 1024;

/// What a request reserves per byte of its body, beside [`RESERVED_PER_REQUEST`]: the
/// largest loan the api takes (735,069 bytes) grew the api's and its dependencies' linear
/// memories by 9.3 bytes per byte of body, and the host's own buffers by about 5 more
/// (docs/benchmarks.md).
pub const RESERVED_PER_BODY_BYTE: usize = 14;

/// The share of the budget, in quarters, that large requests together may fill.
pub const LARGE_SHARE: usize = 3;

/// A request's class, and the memory its guest is expected to take, for a body of
/// `body_length` bytes.
pub fn estimate(body_length: usize) -> (Class, usize) {
    let class = if body_length > SMALL_BODY {
        Class::Large
    } else {
        Class::Small
    };
    let estimate =
        RESERVED_PER_REQUEST.saturating_add(body_length.saturating_mul(RESERVED_PER_BODY_BYTE));
    (class, estimate)
}

/// Who is charged, and how much of the budget it may fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A request with a body of at most [`SMALL_BODY`]: up to the whole budget.
    Small,
    /// A request with a larger body: up to [`LARGE_SHARE`] quarters of the budget.
    Large,
    /// A Redis or cron invocation: charged, never refused.
    Unrefused,
}

/// The error a guest's memory growth, or a body being read, fails with when the budget has
/// no room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget {
    /// The budget, in bytes.
    pub limit: usize,
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the host's memory budget of {} MiB for requests running at once is used up",
            self.limit / (1024 * 1024)
        )
    }
}

impl std::error::Error for OverBudget {}

/// The host-wide budget: a limit and what is charged on it.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: Mutex<usize>,
    /// Woken whenever a charge is given back.
    freed: Notify,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            used: Mutex::new(0),
            freed: Notify::new(),
        })
    }

    /// The budget, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// What is charged on it now, in bytes.
    pub fn used(&self) -> usize {
        *self.lock()
    }

    /// A charge of nothing yet, for one request or invocation of `class`.
    pub fn charge(self: &Arc<Self>, class: Class) -> Charge {
        Charge {
            budget: self.clone(),
            class,
            charged: 0,
            in_use: 0,
            last_growth: 0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        // The counter is a plain number: a panic elsewhere cannot leave it half-written.
        self.used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How far `class` may fill the budget; `None`: without a bound.
    fn ceiling(&self, class: Class) -> Option<usize> {
        match class {
            Class::Small => Some(self.limit),
            Class::Large => Some(self.limit / 4 * LARGE_SHARE),
            Class::Unrefused => None,
        }
    }

    /// Takes `bytes` if they fit under `class`'s ceiling.
    fn take(&self, bytes: usize, class: Class) -> bool {
        let mut used = self.lock();
        let total = used.saturating_add(bytes);
        if self.ceiling(class).is_some_and(|ceiling| total > ceiling) {
            return false;
        }
        *used = total;
        true
    }

    fn give_back(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let mut used = self.lock();
        *used = used.saturating_sub(bytes);
        drop(used);
        self.freed.notify_waiters();
    }
}

/// What one request or invocation holds of the budget: what its body and its reservation
/// took, or its guest's linear memories once they are larger. Given back when dropped
/// (with the store).
#[derive(Debug)]
pub struct Charge {
    budget: Arc<MemoryBudget>,
    class: Class,
    /// Taken from the budget.
    charged: usize,
    /// The store's linear memories together.
    in_use: usize,
    /// The last growth allowed, undone if wasmtime then fails it.
    last_growth: usize,
}

impl Charge {
    /// Charges `bytes` the host holds for the request (a body as it is read); an error
    /// when they do not fit.
    pub fn hold(&mut self, bytes: usize) -> Result<(), OverBudget> {
        if !self.budget.take(bytes, self.class) {
            return Err(self.over());
        }
        self.charged += bytes;
        Ok(())
    }

    /// Reserves `bytes` more (no more than the class may ever hold), waiting until
    /// `deadline` for room; false if there was none by then.
    pub async fn reserve(&mut self, bytes: usize, deadline: Instant) -> bool {
        let most = self
            .budget
            .ceiling(self.class)
            .map_or(bytes, |ceiling| ceiling.saturating_sub(self.charged));
        let bytes = bytes.min(most);
        let deadline = tokio::time::Instant::from_std(deadline);
        loop {
            // Listen before looking, so a release between the two is not missed.
            let freed = self.budget.freed.notified();
            let mut freed = std::pin::pin!(freed);
            freed.as_mut().enable();
            if self.budget.take(bytes, self.class) {
                self.charged += bytes;
                return true;
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return false;
            }
        }
    }

    /// Takes over what `other` holds.
    pub fn absorb(&mut self, mut other: Charge) {
        self.charged += std::mem::take(&mut other.charged);
    }

    /// Accounts the store's memories growing by `bytes` (a memory created counts as grown
    /// from zero); an error when the budget cannot hold them.
    pub fn grow(&mut self, bytes: usize) -> Result<(), OverBudget> {
        let in_use = self.in_use.saturating_add(bytes);
        if in_use > self.charged {
            let more = in_use - self.charged;
            if !self.budget.take(more, self.class) {
                return Err(self.over());
            }
            self.charged = in_use;
        }
        self.in_use = in_use;
        self.last_growth = bytes;
        Ok(())
    }

    /// Undoes the last growth, which wasmtime allowed and then failed.
    pub fn growth_failed(&mut self) {
        self.in_use = self.in_use.saturating_sub(self.last_growth);
        self.last_growth = 0;
    }

    /// The store's linear memories together, in bytes.
    pub fn in_use(&self) -> usize {
        self.in_use
    }

    /// What this charge holds of the budget, in bytes.
    pub fn charged(&self) -> usize {
        self.charged
    }

    fn over(&self) -> OverBudget {
        OverBudget {
            limit: self.budget.limit,
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.give_back(self.charged);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const MIB: usize = 1024 * 1024;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_millis(50)
    }

    #[test]
    fn a_request_is_estimated_by_its_body() {
        assert_eq!(estimate(0), (Class::Small, 4 * MIB));
        assert_eq!(
            estimate(64 * 1024),
            (Class::Small, 4 * MIB + 14 * 64 * 1024)
        );
        assert_eq!(
            estimate(64 * 1024 + 1),
            (Class::Large, 4 * MIB + 14 * (64 * 1024 + 1))
        );
        assert_eq!(estimate(usize::MAX), (Class::Large, usize::MAX));
    }

    #[test]
    fn growth_within_the_reservation_takes_nothing_more() {
        block_on(async {
            let budget = MemoryBudget::new(10 * MIB);
            let mut charge = budget.charge(Class::Small);
            assert!(charge.reserve(4 * MIB, soon()).await);
            assert_eq!(budget.used(), 4 * MIB);
            charge.grow(3 * MIB).unwrap();
            assert_eq!(budget.used(), 4 * MIB);
            charge.grow(2 * MIB).unwrap();
            assert_eq!((budget.used(), charge.in_use()), (5 * MIB, 5 * MIB));
            drop(charge);
            assert_eq!(budget.used(), 0);
        });
    }

    #[test]
    fn growth_past_the_budget_fails_and_takes_nothing() {
        let budget = MemoryBudget::new(10 * MIB);
        let mut first = budget.charge(Class::Small);
        let mut second = budget.charge(Class::Small);
        first.grow(7 * MIB).unwrap();
        assert_eq!(second.grow(4 * MIB), Err(OverBudget { limit: 10 * MIB }));
        assert_eq!((budget.used(), second.in_use()), (7 * MIB, 0));
        second.grow(3 * MIB).unwrap();
        assert_eq!(budget.used(), 10 * MIB);
    }

    #[test]
    fn a_failed_growth_is_undone_but_stays_charged_until_the_store_goes() {
        let budget = MemoryBudget::new(10 * MIB);
        let mut charge = budget.charge(Class::Small);
        charge.grow(2 * MIB).unwrap();
        charge.grow(3 * MIB).unwrap();
        charge.growth_failed();
        assert_eq!(charge.in_use(), 2 * MIB);
        // Taken is taken: the store gives it all back when it is dropped.
        assert_eq!(budget.used(), 5 * MIB);
        drop(charge);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn large_requests_leave_a_quarter_to_small_ones() {
        block_on(async {
            let budget = MemoryBudget::new(16 * MIB);
            let mut large = budget.charge(Class::Large);
            // A body held, then a reservation: 12 MiB is all large requests may fill.
            large.hold(2 * MIB).unwrap();
            assert!(large.reserve(10 * MIB, soon()).await);
            let mut another = budget.charge(Class::Large);
            assert_eq!(another.hold(MIB), Err(OverBudget { limit: 16 * MIB }));
            assert!(!another.reserve(MIB, soon()).await);
            assert_eq!(large.grow(13 * MIB), Err(OverBudget { limit: 16 * MIB }));
            // The last quarter is the small requests'.
            let mut small = budget.charge(Class::Small);
            assert!(small.reserve(4 * MIB, soon()).await);
            assert_eq!(budget.used(), 16 * MIB);
            drop((large, small));
            assert_eq!(budget.used(), 0);
        });
    }

    #[test]
    fn a_reservation_waits_for_room_and_is_capped_at_what_its_class_may_hold() {
        block_on(async {
            let budget = MemoryBudget::new(16 * MIB);
            let mut held = budget.charge(Class::Small);
            assert!(held.reserve(14 * MIB, soon()).await);
            let waiting = {
                let budget = budget.clone();
                tokio::spawn(async move {
                    let mut charge = budget.charge(Class::Small);
                    let deadline = Instant::now() + Duration::from_secs(10);
                    // More than the budget: capped at all of it, admitted once it is free.
                    charge
                        .reserve(40 * MIB, deadline)
                        .await
                        .then(|| charge.charged())
                })
            };
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(held);
            assert_eq!(waiting.await.unwrap(), Some(16 * MIB));
            assert_eq!(budget.used(), 0);
        });
    }

    #[test]
    fn an_absorbed_charge_is_given_back_once() {
        let budget = MemoryBudget::new(16 * MIB);
        let mut body = budget.charge(Class::Large);
        body.hold(3 * MIB).unwrap();
        let mut request = budget.charge(Class::Large);
        request.absorb(body);
        assert_eq!((budget.used(), request.charged()), (3 * MIB, 3 * MIB));
        drop(request);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn an_invocation_is_charged_but_never_refused() {
        block_on(async {
            let budget = MemoryBudget::new(10 * MIB);
            let mut trigger = budget.charge(Class::Unrefused);
            trigger.grow(12 * MIB).unwrap();
            assert_eq!(budget.used(), 12 * MIB);
            assert!(!budget.charge(Class::Small).reserve(MIB, soon()).await);
            drop(trigger);
            assert!(budget.charge(Class::Small).reserve(MIB, soon()).await);
        });
    }
}
