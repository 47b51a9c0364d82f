//! The brake on guessing the token: a client that failed [`LIMIT`] times within [`WINDOW`]
//! is refused (429, `Retry-After`) without its guess being checked, until the oldest of those
//! failures is older than the window. A success clears the client's count. A client is its
//! peer address — the one the TCP connection comes from; `X-Forwarded-For` is not believed,
//! since anyone can send it. Time is an argument (`now`), so tests drive it.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// Failed attempts allowed per client within [`WINDOW`].
pub const LIMIT: usize = 5;
/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The most clients tracked at once: enough for any real desk, and a bound on memory when
/// many addresses guess.
pub const MAX_CLIENTS: usize = 10_000;

/// Recent failures by client.
pub struct Throttle {
    limit: usize,
    window: Duration,
    cap: usize,
    /// The times of each client's last `limit` failures, oldest first.
    failures: HashMap<IpAddr, VecDeque<Instant>>,
}

impl Throttle {
    pub fn new(limit: usize, window: Duration, cap: usize) -> Throttle {
        Throttle {
            limit: limit.max(1),
            window,
            cap: cap.max(1),
            failures: HashMap::new(),
        }
    }

    /// An attempt by `client` at `now`. `Err(retry_after)` when it is refused; otherwise it
    /// counts as a failure at once, and [`Throttle::succeeded`] takes it back. (Counting it
    /// before the check means that guesses sent all at once cannot all get in before the
    /// first one is counted.)
    pub fn attempt(&mut self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let client = client_of(client);
        let window = self.window;
        if let Some(times) = self.failures.get_mut(&client) {
            while times
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= window)
            {
                times.pop_front();
            }
            if times.len() >= self.limit {
                let oldest = times[0];
                return Err(window.saturating_sub(now.saturating_duration_since(oldest)));
            }
        } else if self.failures.len() >= self.cap {
            self.make_room(now);
        }
        let times = self.failures.entry(client).or_default();
        times.push_back(now);
        while times.len() > self.limit {
            times.pop_front();
        }
        Ok(())
    }

    /// `client` got in: its failures are forgotten (this attempt's included).
    pub fn succeeded(&mut self, client: IpAddr) {
        self.failures.remove(&client_of(client));
    }

    /// Drops the clients whose failures have all aged out; if that frees nothing, the one
    /// whose last failure is the oldest.
    fn make_room(&mut self, now: Instant) {
        let window = self.window;
        self.failures.retain(|_, times| {
            times
                .back()
                .is_some_and(|t| now.saturating_duration_since(*t) < window)
        });
        if self.failures.len() >= self.cap {
            let stalest = self
                .failures
                .iter()
                .min_by_key(|(_, times)| times.back().copied())
                .map(|(c, _)| *c);
            if let Some(c) = stalest {
                self.failures.remove(&c);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.failures.len()
    }
}

/// Who counts as one client: an IPv4 address (also when it comes IPv4-mapped), or an IPv6
/// /64 — one host commonly holds a whole /64, and would otherwise get five guesses per
/// address in it.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// `Retry-After` in whole seconds, rounded up (0 would invite an immediate retry).
pub fn retry_after_secs(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Duration = Duration::from_secs(60);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn five_failures_in_the_window_refuse_the_sixth_until_the_oldest_ages_out() {
        let t0 = Instant::now();
        let mut t = Throttle::new(LIMIT, WINDOW, MAX_CLIENTS);
        let a = ip("192.0.2.1");
        for i in 0..5 {
            assert_eq!(t.attempt(a, t0 + i * M), Ok(()), "attempt {i}");
        }
        // The first failure (at 0) counts until 15m: refused for the 10m left.
        assert_eq!(t.attempt(a, t0 + 5 * M), Err(10 * M));
        // Refusals are not failures: they do not push the end further out.
        assert_eq!(t.attempt(a, t0 + 14 * M), Err(M));
        // Another client is not affected.
        assert_eq!(t.attempt(ip("192.0.2.2"), t0 + 5 * M), Ok(()));
        // At 15m the first failure has aged out: one more guess, then refused again until
        // the second (at 1m) ages out.
        assert_eq!(t.attempt(a, t0 + 15 * M), Ok(()));
        assert_eq!(t.attempt(a, t0 + 15 * M), Err(M));
        assert_eq!(t.attempt(a, t0 + 16 * M), Ok(()));
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_refuse() {
        let t0 = Instant::now();
        let mut t = Throttle::new(LIMIT, WINDOW, MAX_CLIENTS);
        for i in 0..50 {
            assert_eq!(t.attempt(ip("192.0.2.1"), t0 + i * 4 * M), Ok(()), "{i}");
        }
    }

    #[test]
    fn a_success_clears_the_count() {
        let t0 = Instant::now();
        let mut t = Throttle::new(LIMIT, WINDOW, MAX_CLIENTS);
        let a = ip("192.0.2.1");
        for _ in 0..4 {
            t.attempt(a, t0).unwrap();
        }
        t.attempt(a, t0).unwrap();
        t.succeeded(a);
        assert_eq!(t.len(), 0);
        for _ in 0..5 {
            assert_eq!(t.attempt(a, t0), Ok(()));
        }
        assert!(t.attempt(a, t0).is_err());
    }

    #[test]
    fn an_ipv6_64_is_one_client_and_mapped_ipv4_is_ipv4() {
        let t0 = Instant::now();
        let mut t = Throttle::new(LIMIT, WINDOW, MAX_CLIENTS);
        for i in 0..5 {
            let addr = ip(&format!("2001:db8:1:2::{i:x}"));
            assert_eq!(t.attempt(addr, t0), Ok(()));
        }
        assert!(t.attempt(ip("2001:db8:1:2:ffff::1"), t0).is_err());
        assert_eq!(t.attempt(ip("2001:db8:1:3::1"), t0), Ok(()));
        for _ in 0..5 {
            t.attempt(ip("::ffff:192.0.2.9"), t0).unwrap();
        }
        assert!(t.attempt(ip("192.0.2.9"), t0).is_err());
    }

    #[test]
    fn the_map_stays_bounded() {
        let t0 = Instant::now();
        let mut t = Throttle::new(LIMIT, WINDOW, 3);
        t.attempt(ip("192.0.2.1"), t0).unwrap();
        t.attempt(ip("192.0.2.2"), t0 + M).unwrap();
        t.attempt(ip("192.0.2.3"), t0 + 2 * M).unwrap();
        // Full, nothing aged out: the stalest client (.1) goes.
        t.attempt(ip("192.0.2.4"), t0 + 3 * M).unwrap();
        assert_eq!(t.len(), 3);
        assert!(!t.failures.contains_key(&ip("192.0.2.1")));
        // Later, all have aged out: they go and the newcomer is alone.
        t.attempt(ip("192.0.2.5"), t0 + 30 * M).unwrap();
        assert_eq!(t.len(), 1);
        // A client already tracked never evicts anyone.
        for i in 0..4 {
            t.attempt(ip("192.0.2.5"), t0 + 30 * M + i * M).unwrap();
        }
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(60_001)), 61);
        assert_eq!(retry_after_secs(10 * M), 600);
    }
}
