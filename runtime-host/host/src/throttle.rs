//! Failed authentication, slowed: after `limit` answers of 401 to one client address within
//! a window, that address is answered 429 with `Retry-After` until the window ends, whatever
//! it sends. Guessing tokens or webhook secrets then costs a window per `limit` guesses.
//! In memory, per process; at most [`MAX_ADDRESSES`] addresses are tracked.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses tracked at once; beyond it, expired windows are dropped, then the oldest.
pub const MAX_ADDRESSES: usize = 65_536;

#[derive(Debug)]
pub struct Throttle {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Throttle {
    /// `limit` failures per `window` and address; 0 turns the throttle off.
    pub fn new(limit: u32, window: Duration) -> Throttle {
        Throttle { limit, window, failures: Mutex::new(HashMap::new()) }
    }

    /// How long `addr` must wait, when it is throttled.
    pub fn wait(&self, addr: IpAddr, now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (start, count) = *failures.get(&addr)?;
        let end = start + self.window;
        (count >= self.limit && now < end).then(|| end - now)
    }

    /// Records a failed authentication of `addr`.
    pub fn failed(&self, addr: IpAddr, now: Instant) {
        if self.limit == 0 {
            return;
        }
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(&addr) {
            let window = self.window;
            failures.retain(|_, (start, _)| now.duration_since(*start) < window);
            if failures.len() >= MAX_ADDRESSES
                && let Some(oldest) = failures.iter().min_by_key(|(_, (start, _))| *start).map(|(a, _)| *a)
            {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(addr).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn an_address_is_throttled_after_the_limit_until_its_window_ends() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..3 {
            assert_eq!(t.wait(A, now), None, "failure {i}");
            t.failed(A, now + Duration::from_secs(i));
        }
        assert_eq!(t.wait(A, now + Duration::from_secs(10)), Some(Duration::from_secs(50)));
        assert_eq!(t.wait(B, now), None, "another address is not affected");
        assert_eq!(t.wait(A, now + Duration::from_secs(60)), None, "the window ended");
        t.failed(A, now + Duration::from_secs(61));
        assert_eq!(t.wait(A, now + Duration::from_secs(61)), None, "a new window starts at one failure");
    }

    #[test]
    fn zero_turns_it_off_and_the_table_stays_bounded() {
        let off = Throttle::new(0, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..10 {
            off.failed(A, now);
        }
        assert_eq!(off.wait(A, now), None);
        let t = Throttle::new(1, Duration::from_secs(60));
        for i in 0..(MAX_ADDRESSES as u32 + 10) {
            t.failed(IpAddr::V4(std::net::Ipv4Addr::from(i)), now + Duration::from_nanos(u64::from(i)));
        }
        assert_eq!(t.failures.lock().unwrap().len(), MAX_ADDRESSES);
    }
}
