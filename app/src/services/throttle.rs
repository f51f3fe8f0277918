//! Counting failures per key (an account, a client address) in a sliding window, to slow
//! down password guessing. In memory: a restart forgets, which only helps the owner.
//!
//! An attempt is counted *before* its password is checked ([`Throttle::reserve`]) and
//! taken back when it succeeds: counting after the check let a burst of parallel guesses
//! all pass the check before the first failure was recorded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window every sign-in and reveal limit counts over.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Wrong passwords for one account from one client address: a person mistyping a few
/// times is fine; a guesser is slowed to a crawl.
pub const LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: usize = 5;
/// Wrong passwords for one account from everywhere: high enough that a stranger cannot
/// lock the owner out in passing, low enough to stop guessing from many addresses.
pub const LOGIN_FAILURES_PER_ACCOUNT: usize = 50;
/// Failed sign-ins from one client address, whatever the account.
pub const LOGIN_FAILURES_PER_ADDRESS: usize = 20;
/// Wrong passwords when revealing a secret, per signed-in user.
pub const REVEAL_FAILURES_PER_USER: usize = 5;

#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// An attempt counted against a key until [`Throttle::release`] takes it back.
#[derive(Debug)]
#[must_use = "release the reservation when the attempt succeeds"]
pub struct Reservation {
    key: String,
    at: Instant,
}

impl Throttle {
    pub fn new(limit: usize, window: Duration) -> Self {
        Throttle {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt as a failure up front, or `Err(seconds to wait)` when `key` has
    /// reached the limit within the window. However many attempts arrive at once, at most
    /// `limit` get a reservation.
    pub fn reserve(&self, key: &str) -> Result<Reservation, u64> {
        self.reserve_at(key, Instant::now())
    }

    /// Takes back one attempt: it succeeded, or it never got to check a password.
    pub fn release(&self, reservation: Reservation) {
        let mut map = self.failures.lock().expect("throttle lock");
        if let Some(times) = map.get_mut(&reservation.key) {
            if let Some(i) = times.iter().position(|t| *t == reservation.at) {
                times.remove(i);
            }
            if times.is_empty() {
                map.remove(&reservation.key);
            }
        }
    }

    /// How many more attempts `key` has in the window before it is locked.
    pub fn remaining(&self, key: &str) -> usize {
        let now = Instant::now();
        let map = self.failures.lock().expect("throttle lock");
        let counted = map.get(key).map_or(0, |times| {
            times.iter().filter(|t| now.duration_since(**t) < self.window).count()
        });
        self.limit.saturating_sub(counted)
    }

    /// Forgets every failure of `key` (the owner proved who they are).
    pub fn clear(&self, key: &str) {
        self.failures.lock().expect("throttle lock").remove(key);
    }

    fn reserve_at(&self, key: &str, now: Instant) -> Result<Reservation, u64> {
        let mut map = self.failures.lock().expect("throttle lock");
        // Bound memory under a flood of distinct keys: forget everything already expired.
        if map.len() > 100_000 {
            map.retain(|_, times| times.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        let times = map.entry(key.to_string()).or_default();
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() >= self.limit {
            let oldest = times[times.len() - self.limit];
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        times.push(now);
        Ok(Reservation {
            key: key.to_string(),
            at: now,
        })
    }
}

/// Reserves an attempt on every `(throttle, key)` pair, or none: when one refuses, the
/// reservations already made are taken back and its wait is returned.
pub fn reserve_all(pairs: &[(&Throttle, &str)]) -> Result<Vec<Reservation>, u64> {
    let mut made: Vec<Reservation> = Vec::with_capacity(pairs.len());
    for (throttle, key) in pairs {
        match throttle.reserve(key) {
            Ok(r) => made.push(r),
            Err(wait) => {
                for (r, (t, _)) in made.into_iter().zip(pairs) {
                    t.release(r);
                }
                return Err(wait);
            }
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_limit_and_releases_after_window() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            let _failed = t.reserve_at("a", start).unwrap();
        }
        let wait = t.reserve_at("a", start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, 50);
        assert!(t.reserve_at("b", start).is_ok(), "another key is unaffected");
        assert!(t.reserve_at("a", start + Duration::from_secs(61)).is_ok());
        t.clear("a");
        assert!(t.reserve_at("a", start).is_ok());
    }

    #[test]
    fn a_released_attempt_does_not_count() {
        let t = Throttle::new(2, Duration::from_secs(60));
        for _ in 0..10 {
            let ok = t.reserve("a").expect("released attempts leave room");
            t.release(ok);
        }
        let _one = t.reserve("a").unwrap();
        let _two = t.reserve("a").unwrap();
        assert!(t.reserve("a").is_err(), "two unreleased attempts reach the limit");
    }

    #[test]
    fn at_most_the_limit_is_reserved_however_many_arrive_at_once() {
        let t = std::sync::Arc::new(Throttle::new(5, Duration::from_secs(60)));
        let granted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..32).map(|_| s.spawn(|| t.reserve("a").is_ok())).collect();
            handles.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
        });
        assert_eq!(granted, 5);
    }

    #[test]
    fn reserve_all_takes_back_what_it_made_when_one_refuses() {
        let open = Throttle::new(10, Duration::from_secs(60));
        let full = Throttle::new(1, Duration::from_secs(60));
        let _taken = full.reserve("k").unwrap();
        assert!(reserve_all(&[(&open, "k"), (&full, "k")]).is_err());
        let made = reserve_all(&[(&open, "k")]).unwrap();
        assert_eq!(made.len(), 1);
        for _ in 0..8 {
            let _more = open.reserve("k").unwrap();
        }
        assert!(open.reserve("k").is_ok(), "the refused call left no reservation behind");
        assert!(open.reserve("k").is_err());
    }
}
