//! Counting failures per key (an account, a client address) in a sliding window, to slow
//! down password guessing. In memory: a restart forgets, which only helps the owner.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    pub fn new(limit: usize, window: Duration) -> Self {
        Throttle {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` while `key` has reached the limit within the window.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    pub fn record_failure(&self, key: &str) {
        self.record_failure_at(key, Instant::now());
    }

    pub fn clear(&self, key: &str) {
        self.failures.lock().expect("throttle lock").remove(key);
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut map = self.failures.lock().expect("throttle lock");
        let Some(times) = map.get_mut(key) else { return Ok(()) };
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() < self.limit {
            if times.is_empty() {
                map.remove(key);
            }
            return Ok(());
        }
        let oldest = times[times.len() - self.limit];
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs().max(1))
    }

    fn record_failure_at(&self, key: &str, now: Instant) {
        let mut map = self.failures.lock().expect("throttle lock");
        // Bound memory under a flood of distinct keys: forget everything already expired.
        if map.len() > 100_000 {
            map.retain(|_, times| times.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        map.entry(key.to_string()).or_default().push(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_limit_and_releases_after_window() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert!(t.check_at("a", start).is_ok());
            t.record_failure_at("a", start);
        }
        let wait = t.check_at("a", start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, 50);
        assert!(t.check_at("b", start).is_ok(), "another key is unaffected");
        assert!(t.check_at("a", start + Duration::from_secs(61)).is_ok());
        t.record_failure_at("a", start);
        t.clear("a");
        assert!(t.check_at("a", start).is_ok());
    }
}
