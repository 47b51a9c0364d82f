//! Who is logged in to the desk: one session per successful `/login`, each with its own
//! random id (the cookie's value), ended by `/logout`, by going unused for `[serve]
//! session_idle`, or `session_max` after it began. Kept in memory: a restart logs everyone
//! out. Time is an argument (`now`), read by the caller, so tests drive it without sleeping.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The most sessions kept at once. An editor logs in from a few browsers; the cap only
/// bounds memory if something logs in over and over (with the token, so it is not a guess).
pub const MAX_SESSIONS: usize = 1000;

/// The live sessions and how long they may last.
pub struct Sessions {
    idle: Duration,
    max: Duration,
    cap: usize,
    /// By the SHA-256 of the id, not the id: a hash map's lookup is not constant-time, and
    /// what its timing could tell about a guessed id is then about its hash, which says
    /// nothing about any id that would match.
    live: HashMap<[u8; 32], Session>,
}

#[derive(Debug, Clone, Copy)]
struct Session {
    started: Instant,
    used: Instant,
}

impl Sessions {
    pub fn new(idle: Duration, max: Duration, cap: usize) -> Sessions {
        Sessions {
            idle,
            max,
            cap: cap.max(1),
            live: HashMap::new(),
        }
    }

    /// A new session id: 32 bytes from the OS CSPRNG, as hex (a cookie-safe value).
    pub fn new_id() -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(crate::text::hex(&bytes))
    }

    /// Starts session `id` at `now`. Expired sessions are dropped first, so the map holds
    /// only live ones; at the cap, the one unused the longest goes.
    pub fn open(&mut self, id: &str, now: Instant) {
        let (idle, max) = (self.idle, self.max);
        self.live.retain(|_, s| !s.expired(idle, max, now));
        while self.live.len() >= self.cap {
            let Some(oldest) = self
                .live
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            self.live.remove(&oldest);
        }
        self.live.insert(
            key(id),
            Session {
                started: now,
                used: now,
            },
        );
    }

    /// Whether `id` is a live session at `now`. A live one counts as used at `now` (the idle
    /// time starts again); an expired one is dropped.
    pub fn check(&mut self, id: &str, now: Instant) -> bool {
        let k = key(id);
        let Some(s) = self.live.get_mut(&k) else {
            return false;
        };
        if s.expired(self.idle, self.max, now) {
            self.live.remove(&k);
            return false;
        }
        s.used = s.used.max(now);
        true
    }

    /// Ends session `id` (logout): its cookie no longer works, wherever it was copied to.
    pub fn close(&mut self, id: &str) -> bool {
        self.live.remove(&key(id)).is_some()
    }

    /// The cookie's `Max-Age`: the absolute lifetime, in whole seconds rounded up (the idle
    /// timeout is the server's to enforce: the browser cannot know when the desk was used).
    pub fn max_age(&self) -> u64 {
        self.max.as_secs() + u64::from(self.max.subsec_nanos() > 0)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.live.len()
    }
}

impl Session {
    fn expired(&self, idle: Duration, max: Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.used) >= idle
            || now.saturating_duration_since(self.started) >= max
    }
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Duration = Duration::from_secs(3600);

    fn sessions(cap: usize) -> Sessions {
        Sessions::new(12 * H, 7 * 24 * H, cap)
    }

    #[test]
    fn ids_are_random_hex() {
        let (a, b) = (Sessions::new_id().unwrap(), Sessions::new_id().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_session_ends_after_idling_and_use_keeps_it() {
        let t0 = Instant::now();
        let mut s = sessions(10);
        s.open("a", t0);
        assert!(s.check("a", t0 + 11 * H));
        // Used at 11h: alive until 23h.
        assert!(s.check("a", t0 + 22 * H));
        assert!(s.check("a", t0 + 33 * H));
        assert!(!s.check("a", t0 + 45 * H));
        assert_eq!(s.len(), 0, "an expired session is dropped when looked up");
        assert!(!s.check("a", t0 + 45 * H));
        assert!(!s.check("b", t0));
    }

    #[test]
    fn a_session_ends_at_its_absolute_lifetime_however_used() {
        let t0 = Instant::now();
        let mut s = sessions(10);
        s.open("a", t0);
        let mut t = t0;
        while t + H < t0 + 7 * 24 * H {
            t += H;
            assert!(s.check("a", t), "{:?}", t - t0);
        }
        assert!(!s.check("a", t0 + 7 * 24 * H));
    }

    #[test]
    fn logout_ends_only_that_session() {
        let t0 = Instant::now();
        let mut s = sessions(10);
        s.open("a", t0);
        s.open("b", t0);
        assert!(s.close("a"));
        assert!(!s.close("a"));
        assert!(!s.check("a", t0));
        assert!(s.check("b", t0));
    }

    #[test]
    fn opening_drops_the_expired_and_at_the_cap_the_least_recently_used() {
        let t0 = Instant::now();
        let mut s = sessions(3);
        s.open("old", t0);
        s.open("a", t0 + 10 * H);
        s.open("b", t0 + 10 * H);
        // At 13h "old" has idled 13h: it goes, and nothing else needs to.
        s.open("c", t0 + 13 * H);
        assert_eq!(s.len(), 3);
        assert!(!s.check("old", t0 + 13 * H));
        // Full: "a" is used, so "b" is the one unused the longest.
        assert!(s.check("a", t0 + 14 * H));
        s.open("d", t0 + 15 * H);
        assert_eq!(s.len(), 3);
        assert!(!s.check("b", t0 + 15 * H));
        for id in ["a", "c", "d"] {
            assert!(s.check(id, t0 + 15 * H), "{id}");
        }
    }

    #[test]
    fn the_cookie_lives_as_long_as_the_session_may() {
        assert_eq!(sessions(1).max_age(), 7 * 24 * 3600);
        let s = Sessions::new(H, Duration::from_millis(1500), 1);
        assert_eq!(s.max_age(), 2);
    }
}
