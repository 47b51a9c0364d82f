//! Pure schedule math: when is a feed due next? Time (`now`) and randomness (`rng`) are
//! arguments, so every rule here is tested with an injected clock and a seeded generator.
//!
//! - A schedule is an interval (`every = "30m"`) or a cron expression (`cron = "0 */2 * * *"`)
//!   read with crontab semantics: 5 fields (or 6 with seconds first), 0 or 7 = Sunday,
//!   day-of-month OR day-of-week, in an optional IANA `timezone` (UTC otherwise). The `croner`
//!   crate implements exactly that (the `cron` crate is Quartz-style: seconds first, 1 = Sunday,
//!   AND) and resolves DST: a run in a skipped hour happens right after the jump, a run in a
//!   repeated hour happens once.
//! - After a success the next run is the schedule's next time, never earlier than what the
//!   publisher asked for (`<ttl>`, `Cache-Control: max-age`, `Expires`, capped at
//!   [`MAX_HINT`]), plus jitter of 0–`jitter` of the interval (at most [`MAX_CRON_JITTER`] for
//!   cron, whose times the editor chose).
//! - After a failure: exponential backoff, interval × 2^(failures−1), capped at [`MAX_BACKOFF`],
//!   jittered. A feed failing for `dead_after` is marked dead (still retried at the cap).
//! - 429/503: the server's `Retry-After`, else 1–2 h; never sooner than the normal schedule,
//!   and not a failure. 410: never again.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::model::FeedState;

/// Publisher hints never lengthen an interval beyond this.
pub const MAX_HINT: Duration = Duration::from_secs(24 * 3600);
/// Backoff never waits longer than this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(7 * 24 * 3600);
/// Cron runs are delayed by jitter at most this much.
pub const MAX_CRON_JITTER: Duration = Duration::from_secs(10 * 60);
/// Intervals below this get a warning: publishers may block such clients.
pub const POLITE_MINIMUM: Duration = Duration::from_secs(5 * 60);

/// When a feed is polled.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Every(Duration),
    Cron(Box<CronSchedule>),
}

/// A cron expression in a time zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    pub expr: String,
    cron: Cron,
    pub tz: Tz,
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr && self.tz == other.tz
    }
}

impl CronSchedule {
    /// Parses crontab syntax (5 fields, or 6 with seconds first) in `tz`.
    pub fn parse(expr: &str, tz: Tz) -> Result<CronSchedule, String> {
        let fields = expr.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(format!(
                "`{expr}` has {fields} fields; expected 5 (minute hour day-of-month month day-of-week) or 6 with seconds first"
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .dom_and_dow(false)
            .alternative_weekdays(false)
            .build()
            .parse(expr)
            .map_err(|e| format!("`{expr}` is not a valid cron expression: {e}"))?;
        let s = CronSchedule {
            expr: expr.trim().to_string(),
            cron,
            tz,
        };
        // An expression that never matches (30 February) is an error now, not a silent feed.
        s.next_after(DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(365 * 50))
            .ok_or_else(|| format!("`{expr}` never matches"))?;
        Ok(s)
    }

    /// The last run at or before `t`.
    pub fn last_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.tz);
        self.cron
            .find_previous_occurrence(&local, true)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The first run strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.tz);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }
}

impl Schedule {
    /// Parses `every` (humantime) or `cron` (+ optional IANA timezone); exactly one is given.
    pub fn parse(
        every: Option<&str>,
        cron: Option<&str>,
        timezone: Option<&str>,
    ) -> Result<Schedule, String> {
        let tz = match timezone {
            Some(name) => Tz::from_str(name.trim())
                .map_err(|_| format!("`{name}` is not an IANA time zone like \"Europe/Berlin\""))?,
            None => Tz::UTC,
        };
        match (every, cron) {
            (Some(_), Some(_)) => Err("give either `every` or `cron`, not both".into()),
            (Some(e), None) => {
                if timezone.is_some() {
                    return Err("`timezone` applies to `cron` only".into());
                }
                let d = humantime::parse_duration(e.trim()).map_err(|err| {
                    format!("`{e}` is not a duration like \"30m\" or \"1h\": {err}")
                })?;
                if d < Duration::from_secs(1) {
                    return Err(format!("`{e}` is shorter than one second"));
                }
                Ok(Schedule::Every(d))
            }
            (None, Some(c)) => CronSchedule::parse(c, tz).map(|c| Schedule::Cron(Box::new(c))),
            (None, None) => Err("give `every` or `cron`".into()),
        }
    }

    /// The first regular run after `t`, ignoring hints and jitter.
    pub fn next_after(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Schedule::Every(d) => t + chrono_duration(*d),
            // Validated at parse time to match again; a year is a safe fallback regardless.
            Schedule::Cron(c) => c.next_after(t).unwrap_or(t + chrono::Duration::days(365)),
        }
    }

    /// The length of one period around `t`: the interval, or the gap between the next two
    /// cron runs. Backoff and jitter are proportional to it.
    pub fn period_at(&self, t: DateTime<Utc>) -> Duration {
        match self {
            Schedule::Every(d) => *d,
            Schedule::Cron(_) => {
                let a = self.next_after(t);
                let b = self.next_after(a);
                (b - a).to_std().unwrap_or(Duration::from_secs(3600))
            }
        }
    }

    /// The next `n` regular runs after `t` (for `gleaner check`).
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut cur = t;
        for _ in 0..n {
            cur = self.next_after(cur);
            out.push(cur);
        }
        out
    }

    /// Whether this polls more often than publishers like.
    pub fn is_aggressive(&self, now: DateTime<Utc>) -> bool {
        self.period_at(now) < POLITE_MINIMUM
    }
}

impl fmt::Display for Schedule {
    /// A stable, readable spec; stored with the plan so a changed schedule is noticed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every(d) => write!(f, "every {}", humantime::format_duration(*d)),
            Schedule::Cron(c) if c.tz == Tz::UTC => write!(f, "cron {}", c.expr),
            Schedule::Cron(c) => write!(f, "cron {} ({})", c.expr, c.tz),
        }
    }
}

/// The `[schedule]` section: the default schedule and the policy knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub default: Schedule,
    /// Fraction of the period added at random, 0.0–1.0.
    pub jitter: f64,
    /// A feed failing this long is marked dead.
    pub dead_after: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            default: Schedule::Every(Duration::from_secs(3600)),
            jitter: 0.25,
            dead_after: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// What the publisher said about caching, from the last response.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Hints {
    pub ttl: Option<Duration>,
    pub max_age: Option<Duration>,
    pub expires: Option<DateTime<Utc>>,
}

/// How a fetch ended, as far as scheduling cares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// 200 or 304.
    Success,
    /// Any error; `failures` counts this one.
    Failure { failures: u32 },
    /// 429/503, with the time the server asked for if it did. A 503 counts as a failure
    /// (`failures` is set) for deciding when the feed is dead; a 429 does not.
    RateLimited {
        until: Option<DateTime<Utc>>,
        failures: Option<u32>,
    },
    /// 410.
    Gone,
}

/// The scheduler's decision for a feed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// `None`: never again (gone).
    pub next_due: Option<DateTime<Utc>>,
    pub state: FeedState,
}

/// Plans the next fetch after `event` at `now`. `failing_since` is the last success (or when
/// the feed was added), used to decide when a failing feed is dead.
pub fn plan(
    schedule: &Schedule,
    policy: &Policy,
    event: Event,
    hints: &Hints,
    failing_since: DateTime<Utc>,
    now: DateTime<Utc>,
    rng: &mut fastrand::Rng,
) -> Plan {
    match event {
        Event::Gone => Plan {
            next_due: None,
            state: FeedState::Gone,
        },
        Event::Success => Plan {
            next_due: Some(regular_next(schedule, policy, hints, now, rng)),
            state: FeedState::Active,
        },
        Event::RateLimited { until, failures } => {
            let asked =
                until.unwrap_or_else(|| now + chrono::Duration::seconds(3600 + rng.i64(0..=3600)));
            let regular = regular_next(schedule, policy, &Hints::default(), now, rng);
            let dead = failures.is_some() && is_dead(policy, failing_since, now);
            Plan {
                next_due: Some(asked.max(regular)),
                state: if dead {
                    FeedState::Dead
                } else {
                    FeedState::Active
                },
            }
        }
        Event::Failure { failures } => {
            let period = schedule.period_at(now);
            let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(30));
            let backoff = period.saturating_mul(factor).min(MAX_BACKOFF);
            let wait = backoff + jitter(backoff, policy.jitter, rng);
            let dead = is_dead(policy, failing_since, now);
            Plan {
                next_due: Some(now + chrono_duration(wait.min(MAX_BACKOFF))),
                state: if dead {
                    FeedState::Dead
                } else {
                    FeedState::Active
                },
            }
        }
    }
}

fn is_dead(policy: &Policy, failing_since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - failing_since >= chrono_duration(policy.dead_after)
}

/// The next run after a success: the schedule, pushed back by publisher hints, plus jitter.
fn regular_next(
    schedule: &Schedule,
    policy: &Policy,
    hints: &Hints,
    now: DateTime<Utc>,
    rng: &mut fastrand::Rng,
) -> DateTime<Utc> {
    let hinted = [
        hints.ttl,
        hints.max_age,
        hints.expires.and_then(|e| (e - now).to_std().ok()),
    ]
    .into_iter()
    .flatten()
    .max()
    .map(|h| h.min(MAX_HINT));
    match schedule {
        Schedule::Every(d) => {
            let interval = hinted.map_or(*d, |h| h.max(*d));
            now + chrono_duration(interval + jitter(interval, policy.jitter, rng))
        }
        Schedule::Cron(_) => {
            let earliest = now + chrono_duration(hinted.unwrap_or_default());
            // The first cron run at or after what the publisher allows.
            let next = schedule.next_after(earliest - chrono::Duration::seconds(1));
            let max = jitter(schedule.period_at(now), policy.jitter, rng).min(MAX_CRON_JITTER);
            next + chrono_duration(max)
        }
    }
}

/// A random delay in `[0, fraction × period]`.
fn jitter(period: Duration, fraction: f64, rng: &mut fastrand::Rng) -> Duration {
    if fraction <= 0.0 {
        return Duration::ZERO;
    }
    period.mul_f64(fraction.min(1.0) * rng.f64())
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(365 * 100))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cron(expr: &str, tz: Option<&str>) -> Schedule {
        Schedule::parse(None, Some(expr), tz).unwrap()
    }

    fn no_jitter() -> Policy {
        Policy {
            jitter: 0.0,
            ..Policy::default()
        }
    }

    fn rng() -> fastrand::Rng {
        fastrand::Rng::with_seed(7)
    }

    #[test]
    fn crontab_semantics_sunday_is_0_and_7_and_dom_or_dow() {
        let now = t("2026-11-25T12:00:00Z"); // a Wednesday
        for expr in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN"] {
            assert_eq!(
                cron(expr, None).next_after(now),
                t("2026-11-29T09:00:00Z"),
                "{expr}"
            );
        }
        // Vixie cron: day-of-month OR day-of-week. The 1st of the month, or any Monday.
        let s = cron("0 8 1 * 1", None);
        assert_eq!(s.next_after(now), t("2026-11-30T08:00:00Z")); // Monday the 30th
        assert_eq!(
            s.next_after(t("2026-11-30T09:00:00Z")),
            t("2026-12-01T08:00:00Z")
        ); // the 1st
    }

    #[test]
    fn seconds_first_form_and_steps() {
        let now = t("2026-11-25T12:00:00Z");
        assert_eq!(
            cron("30 0 */2 * * *", None).next_after(now),
            t("2026-11-25T12:00:30Z")
        );
        assert_eq!(
            cron("0 */2 * * *", None).next_after(now),
            t("2026-11-25T14:00:00Z")
        );
    }

    #[test]
    fn invalid_schedules_are_errors() {
        for (every, cron, tz) in [
            (None, Some("0 9 * *"), None),
            (None, Some("61 * * * *"), None),
            (None, Some("0 0 30 2 *"), None),
            (None, Some("0 9 * * *"), Some("Mars/Olympus")),
            (Some("soon"), None, None),
            (Some("500ms"), None, None),
            (Some("1h"), Some("0 * * * *"), None),
            (Some("1h"), None, Some("UTC")),
        ] {
            assert!(
                Schedule::parse(every, cron, tz).is_err(),
                "{every:?} {cron:?} {tz:?}"
            );
        }
        assert_eq!(
            Schedule::parse(Some("1s"), None, None),
            Ok(Schedule::Every(Duration::from_secs(1)))
        );
    }

    #[test]
    fn timezone_and_dst_gap_does_not_lose_a_run() {
        // Europe/Berlin skips 02:00–03:00 on 2026-03-29.
        let s = cron("30 2 * * *", Some("Europe/Berlin"));
        let runs = s.upcoming(t("2026-03-27T12:00:00Z"), 3);
        let berlin = |d: &DateTime<Utc>| {
            d.with_timezone(&chrono_tz::Europe::Berlin)
                .format("%d %H:%M")
                .to_string()
        };
        let local: Vec<String> = runs.iter().map(berlin).collect();
        assert_eq!(local, ["28 02:30", "29 03:00", "30 02:30"]);
    }

    #[test]
    fn dst_repeated_hour_runs_once() {
        // Europe/Berlin repeats 02:00–03:00 on 2026-10-25.
        let s = cron("30 2 * * *", Some("Europe/Berlin"));
        let runs = s.upcoming(t("2026-10-24T12:00:00Z"), 3);
        assert_eq!(runs[0], t("2026-10-25T00:30:00Z")); // 02:30 CEST
        assert_eq!(runs[1], t("2026-10-26T01:30:00Z")); // next day 02:30 CET, not 02:30 CET today
        // Asked from inside the repeated hour (after the first 02:30), it does not run again.
        assert_eq!(
            s.next_after(t("2026-10-25T01:10:00Z")),
            t("2026-10-26T01:30:00Z")
        );
    }

    #[test]
    fn success_follows_the_interval_with_bounded_jitter() {
        let s = Schedule::Every(Duration::from_secs(1800));
        let now = t("2026-11-25T12:00:00Z");
        let policy = Policy::default();
        let mut rng = rng();
        let mut seen = Vec::new();
        for _ in 0..500 {
            let p = plan(
                &s,
                &policy,
                Event::Success,
                &Hints::default(),
                now,
                now,
                &mut rng,
            );
            let wait = (p.next_due.unwrap() - now).num_seconds();
            assert!((1800..=1800 + 450).contains(&wait), "{wait}");
            seen.push(wait);
        }
        // Jitter really varies: both ends of the range are reached.
        assert!(seen.iter().any(|w| *w < 1800 + 45) && seen.iter().any(|w| *w > 1800 + 405));
    }

    #[test]
    fn publisher_hints_lengthen_but_never_shorten_and_are_capped() {
        let s = Schedule::Every(Duration::from_secs(3600));
        let now = t("2026-11-25T12:00:00Z");
        let p = |h: Hints| {
            plan(&s, &no_jitter(), Event::Success, &h, now, now, &mut rng())
                .next_due
                .unwrap()
                - now
        };
        assert_eq!(
            p(Hints {
                ttl: Some(Duration::from_secs(7200)),
                ..Default::default()
            })
            .num_seconds(),
            7200
        );
        assert_eq!(
            p(Hints {
                max_age: Some(Duration::from_secs(60)),
                ..Default::default()
            })
            .num_seconds(),
            3600
        );
        assert_eq!(
            p(Hints {
                expires: Some(now + chrono::Duration::hours(3)),
                ..Default::default()
            })
            .num_seconds(),
            3 * 3600
        );
        assert_eq!(
            p(Hints {
                ttl: Some(Duration::from_secs(9 * 86400)),
                ..Default::default()
            })
            .num_seconds(),
            86400
        );
        // A cron schedule waits for the first run the publisher allows.
        let c = cron("0 * * * *", None);
        let next = plan(
            &c,
            &no_jitter(),
            Event::Success,
            &Hints {
                ttl: Some(Duration::from_secs(5400)),
                ..Default::default()
            },
            now,
            now,
            &mut rng(),
        );
        assert_eq!(next.next_due, Some(t("2026-11-25T14:00:00Z")));
    }

    #[test]
    fn failures_back_off_exponentially_up_to_a_week_and_then_die() {
        let s = Schedule::Every(Duration::from_secs(1800));
        let now = t("2026-11-25T12:00:00Z");
        let waits: Vec<i64> = (1..=12)
            .map(|n| {
                let p = plan(
                    &s,
                    &no_jitter(),
                    Event::Failure { failures: n },
                    &Hints::default(),
                    now,
                    now,
                    &mut rng(),
                );
                assert_eq!(p.state, FeedState::Active);
                (p.next_due.unwrap() - now).num_minutes()
            })
            .collect();
        assert_eq!(waits[..5], [30, 60, 120, 240, 480]);
        assert_eq!(*waits.last().unwrap(), 7 * 24 * 60);
        // Failing for 30 days: dead, but still retried.
        let p = plan(
            &s,
            &Policy::default(),
            Event::Failure { failures: 40 },
            &Hints::default(),
            now - chrono::Duration::days(31),
            now,
            &mut rng(),
        );
        assert_eq!(p.state, FeedState::Dead);
        assert!(p.next_due.unwrap() <= now + chrono::Duration::days(7));
    }

    #[test]
    fn rate_limits_use_retry_after_or_one_to_two_hours_never_sooner_than_the_schedule() {
        let s = Schedule::Every(Duration::from_secs(600));
        let now = t("2026-11-25T12:00:00Z");
        let until = now + chrono::Duration::minutes(90);
        let p = plan(
            &s,
            &no_jitter(),
            Event::RateLimited {
                until: Some(until),
                failures: None,
            },
            &Hints::default(),
            now,
            now,
            &mut rng(),
        );
        assert_eq!(p.next_due, Some(until));
        let p = plan(
            &s,
            &no_jitter(),
            Event::RateLimited {
                until: Some(now + chrono::Duration::seconds(5)),
                failures: None,
            },
            &Hints::default(),
            now,
            now,
            &mut rng(),
        );
        assert_eq!(p.next_due, Some(now + chrono::Duration::minutes(10)));
        let mut r = rng();
        for _ in 0..100 {
            let p = plan(
                &s,
                &no_jitter(),
                Event::RateLimited {
                    until: None,
                    failures: None,
                },
                &Hints::default(),
                now,
                now,
                &mut r,
            );
            let wait = (p.next_due.unwrap() - now).num_minutes();
            assert!((60..=120).contains(&wait), "{wait}");
            assert_eq!(p.state, FeedState::Active);
        }
        // A 503 for longer than dead_after makes the feed dead; a 429 never does.
        let long_ago = now - chrono::Duration::days(40);
        let p = plan(
            &s,
            &Policy::default(),
            Event::RateLimited {
                until: None,
                failures: Some(90),
            },
            &Hints::default(),
            long_ago,
            now,
            &mut r,
        );
        assert_eq!(p.state, FeedState::Dead);
        let p = plan(
            &s,
            &Policy::default(),
            Event::RateLimited {
                until: None,
                failures: None,
            },
            &Hints::default(),
            long_ago,
            now,
            &mut r,
        );
        assert_eq!(p.state, FeedState::Active);
    }

    #[test]
    fn gone_is_never_again() {
        let s = Schedule::Every(Duration::from_secs(60));
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let p = plan(
            &s,
            &Policy::default(),
            Event::Gone,
            &Hints::default(),
            now,
            now,
            &mut rng(),
        );
        assert_eq!(
            p,
            Plan {
                next_due: None,
                state: FeedState::Gone
            }
        );
    }

    #[test]
    fn spec_strings_are_stable() {
        assert_eq!(
            Schedule::Every(Duration::from_secs(1800)).to_string(),
            "every 30m"
        );
        assert_eq!(
            cron("0 9 * * 1", Some("Europe/Berlin")).to_string(),
            "cron 0 9 * * 1 (Europe/Berlin)"
        );
        assert_eq!(cron("0 9 * * 1", None).to_string(), "cron 0 9 * * 1");
    }
}
