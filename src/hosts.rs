//! Politeness per host: at most `per_host` requests in flight to one host, and at least
//! `host_delay` between the starts of two requests to it. One [`HostGate`] lives as long as
//! the process (or the daemon's config), so the gap also holds across rounds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Shared per-host limits.
#[derive(Debug)]
pub struct HostGate {
    per_host: usize,
    delay: Duration,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

#[derive(Debug)]
struct Host {
    slots: Arc<Semaphore>,
    /// When the next request to this host may start.
    next_start: tokio::sync::Mutex<Instant>,
}

/// Held while a request to a host is in flight.
#[derive(Debug)]
pub struct HostPass {
    _permit: OwnedSemaphorePermit,
}

impl HostGate {
    pub fn new(per_host: usize, delay: Duration) -> HostGate {
        HostGate {
            per_host: per_host.max(1),
            delay,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request to `host` may start, and returns the pass to hold meanwhile.
    pub async fn enter(&self, host: &str) -> HostPass {
        let host = {
            let mut hosts = self.hosts.lock().expect("host table lock");
            hosts
                .entry(host.to_ascii_lowercase())
                .or_insert_with(|| {
                    Arc::new(Host {
                        slots: Arc::new(Semaphore::new(self.per_host)),
                        next_start: tokio::sync::Mutex::new(Instant::now()),
                    })
                })
                .clone()
        };
        let permit = host
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        if !self.delay.is_zero() {
            // Starts are spaced by `delay`, in the order requests arrive here.
            let mut next = host.next_start.lock().await;
            let now = Instant::now();
            if *next > now {
                tokio::time::sleep_until(*next).await;
            }
            *next = Instant::now() + self.delay;
        }
        HostPass { _permit: permit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn starts_to_one_host_are_spaced_and_other_hosts_are_not_held_up() {
        let gate = Arc::new(HostGate::new(4, Duration::from_secs(2)));
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let _p = gate.enter("github.com").await;
            starts.push(t0.elapsed());
        }
        assert_eq!(
            starts,
            [
                Duration::ZERO,
                Duration::from_secs(2),
                Duration::from_secs(4)
            ]
        );
        let before = t0.elapsed();
        let _p = gate.enter("blog.example").await;
        assert_eq!(t0.elapsed(), before);
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_per_host_in_flight() {
        let gate = Arc::new(HostGate::new(2, Duration::ZERO));
        let a = gate.enter("h").await;
        let _b = gate.enter("h").await;
        let g = gate.clone();
        let third = tokio::spawn(async move {
            let _c = g.enter("h").await;
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!third.is_finished(), "a third request must wait");
        drop(a);
        third.await.unwrap();
    }
}
