//! Delivering the weekly digest (issue 16): when it is due, what is sent, and the record that
//! makes each (week, channel) go out exactly once.
//!
//! - **When.** `[digest]` gives a schedule (cron, or weekday + time, in a time zone). At any
//!   moment the digest that is due is the one of the last scheduled time at or before now: it
//!   covers the ISO week (UTC) before the one that time falls in (or, with `week = "window"`,
//!   the candidate window at that time), and is labelled with that week. So a daemon that was
//!   down at the scheduled time sends the missed week once when it starts, and a schedule that
//!   fires more than once a week still sends each week once. Scheduled times before the daemon
//!   first ran with a `[digest]` (recorded in the database) are not missed sends: a new
//!   schedule starts at its next time.
//! - **Exactly once.** Each (week, channel) has a row in `deliveries`: it is marked `sending`
//!   (committed) before anything is sent, and `sent` or `failed` after. A `sent` row is never
//!   sent again, whatever restarts, reloads or manual sends come later. A failed send is tried
//!   again after `[digest] retry`, doubling, at most an hour apart, for as long as its week is
//!   the one due. A row left `sending` by a crash is sent again: the crash may have come before
//!   the server had it. Only a crash in the instant between the server's acceptance and the
//!   commit sends a week twice; the e-mail then carries the same `Message-ID` and the webhook
//!   the same `X-Gleaner-Delivery`, so that receivers can tell.
//! - **What.** One multipart/alternative e-mail (the Markdown digest as text, the HTML digest
//!   with inline styles and no scripts) to every `to`; one JSON POST per webhook, signed with
//!   HMAC-SHA256 when a secret is configured.

mod email;
mod webhook;

use chrono::{DateTime, Datelike, Utc};
use sha2::Digest as _;

use crate::config::{Config, DigestSettings, WebhookFormat, WeekRule};
use crate::desk::{self, DeskError};
use crate::model::{SendReport, Sent};
use crate::output;
use crate::store::Store;

use email::send as send_email;
use webhook::send as send_webhook;

/// What would make a send fail now, found without sending (`gleaner check`): a password or
/// secret whose variable is not set or whose file cannot be read, an unreadable CA file.
pub fn problems(settings: &DigestSettings) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = &settings.email
        && let Err(p) = email::ready(e)
    {
        out.push(format!("email: {p}"));
    }
    if let Some(w) = &settings.webhook
        && let Err(p) = webhook::secret(w)
    {
        out.push(format!("webhook: {p}"));
    }
    out
}

/// The longest wait between two attempts of a failed delivery.
const MAX_RETRY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The week a send scheduled at `fire` covers: the ISO week before the one `fire` is in.
pub fn week_for(fire: DateTime<Utc>) -> String {
    let monday = fire.date_naive()
        - chrono::Duration::days(i64::from(fire.weekday().num_days_from_monday()));
    desk::week_of(
        (monday - chrono::Duration::days(7))
            .and_hms_opt(12, 0, 0)
            .expect("noon exists")
            .and_utc(),
    )
}

/// When a failed delivery is tried again: `retry` after the first attempt, doubling.
pub fn retry_at(settings: &DigestSettings, attempts: i64, now: DateTime<Utc>) -> DateTime<Utc> {
    let factor = 1u32 << attempts.clamp(1, 12).saturating_sub(1);
    let wait = settings.retry.saturating_mul(factor).min(MAX_RETRY);
    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
}

/// The earlier of two optional times.
fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A digest rendered for every channel.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub week: String,
    pub subject: String,
    /// The Markdown digest: the e-mail's text part.
    pub text: String,
    /// The HTML digest made for mail: the e-mail's HTML part.
    pub html: String,
    /// The same for every attempt of a week: `<digest-2026-W48.1a2b3c4d@example.org>`.
    pub message_id: String,
    pub json: Vec<u8>,
    pub slack: Vec<u8>,
}

impl Rendered {
    pub fn new(d: &output::digest::Digest, from: Option<&str>) -> Rendered {
        let domain = from
            .and_then(|f| f.rsplit_once('@'))
            .map(|(_, d)| d.trim_end_matches('>').trim().to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "gleaner.invalid".into());
        let hash = sha2::Sha256::digest(format!("{}\n{}", d.newsletter, d.week).as_bytes());
        let hex = crate::text::hex(&hash[..4]);
        Rendered {
            week: d.week.clone(),
            subject: output::digest::subject(d),
            text: output::digest::markdown(d),
            html: output::digest::mail_html(d),
            message_id: format!("<digest-{}.{hex}@{domain}>", d.week),
            json: serde_json::to_vec_pretty(&output::digest::webhook_json(d)).unwrap_or_default(),
            slack: serde_json::to_vec(&output::digest::slack(d)).unwrap_or_default(),
        }
    }

    /// The webhook body for `format`.
    pub fn webhook_body(&self, format: WebhookFormat) -> &[u8] {
        match format {
            WebhookFormat::Json => &self.json,
            WebhookFormat::Slack => &self.slack,
        }
    }
}

/// The digest for `week` (an ISO week label) by `settings`' rule, as of `fire`.
async fn render(
    config: &Config,
    settings: &DigestSettings,
    store: &Store,
    week: &str,
    fire: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Rendered, DeskError> {
    let (since, until) = match settings.week {
        WeekRule::Iso => {
            let since = desk::parse_week(week).map_err(DeskError::Invalid)?;
            (since, since + chrono::Duration::days(7))
        }
        WeekRule::Window => (desk::window_start(config, store, fire, None).await?, fire),
    };
    let d = desk::digest_between(config, store, week, since, until, settings.top, now).await?;
    let from = settings.email.as_ref().map(|e| e.from.as_str());
    Ok(Rendered::new(&d, from))
}

/// Sends `rendered` on `channel`, recording the attempt; `Already` when it was sent before.
async fn deliver(
    settings: &DigestSettings,
    store: &Store,
    channel: &'static str,
    rendered: &Rendered,
    now: DateTime<Utc>,
) -> Result<SendReport, DeskError> {
    let week = rendered.week.clone();
    let Some(attempts) = store.begin_delivery(&week, channel, now).await? else {
        let at = store
            .delivery(&week, channel)
            .await?
            .and_then(|d| d.sent_at)
            .unwrap_or(now);
        return Ok(SendReport {
            channel,
            week,
            result: Sent::Already(at),
        });
    };
    let result = send(settings, channel, rendered, None).await;
    let finished = Utc::now().max(now);
    let result = match result {
        Ok(to) => {
            store.delivery_sent(&week, channel, finished).await?;
            Sent::Sent(to)
        }
        Err(error) => {
            let retry = retry_at(settings, attempts, finished);
            store.delivery_failed(&week, channel, &error, retry).await?;
            Sent::Failed {
                error,
                attempts,
                retry: Some(retry),
            }
        }
    };
    Ok(SendReport {
        channel,
        week,
        result,
    })
}

/// Sends on one channel, nothing recorded; `to` replaces the e-mail's recipients.
async fn send(
    settings: &DigestSettings,
    channel: &str,
    rendered: &Rendered,
    to: Option<&[String]>,
) -> Result<String, String> {
    match channel {
        "email" => {
            let e = settings.email.as_ref().ok_or("no [digest.email]")?;
            let to = to.unwrap_or(&e.to);
            send_email(e, to, rendered).await?;
            Ok(format!("to {} via {}:{}", to.join(", "), e.host, e.port))
        }
        _ => {
            let w = settings.webhook.as_ref().ok_or("no [digest.webhook]")?;
            send_webhook(w, rendered).await?;
            Ok(format!("to {}", crate::text::url_without_path(&w.url)))
        }
    }
}

/// What is due at `now`: the week of the last scheduled time at or before it (and not before
/// `since`, when the daemon first had this schedule), the channels that have not had that week
/// and may be tried now, and the earliest later time something else becomes due.
struct Due {
    fire: Option<(DateTime<Utc>, String)>,
    channels: Vec<&'static str>,
    next: Option<DateTime<Utc>>,
}

async fn due(
    settings: &DigestSettings,
    store: &Store,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
) -> Result<Due, DeskError> {
    let mut due = Due {
        fire: None,
        channels: Vec::new(),
        next: settings.when.next_after(now),
    };
    let Some(fire) = settings
        .when
        .last_at_or_before(now)
        .filter(|&fire| fire >= since)
    else {
        return Ok(due);
    };
    let week = week_for(fire);
    for channel in settings.channels() {
        match store.delivery(&week, channel).await? {
            Some(d) if d.state == "sent" => {}
            Some(d) if d.state == "failed" && d.next_attempt.is_some_and(|t| t > now) => {
                due.next = earliest(due.next, d.next_attempt);
            }
            _ => due.channels.push(channel),
        }
    }
    due.fire = Some((fire, week));
    Ok(due)
}

/// What the daemon does at `now`: sends the week that is due on every channel that has not
/// had it (and whose retry time has come). Returns what happened and when to look again.
pub async fn run_due(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<(Vec<SendReport>, Option<DateTime<Utc>>), DeskError> {
    let Some(settings) = &config.digest else {
        return Ok((Vec::new(), None));
    };
    let since = store.digest_schedule_since(now).await?;
    let Due {
        fire,
        channels,
        mut next,
    } = due(settings, store, now, since).await?;
    let Some((fire, week)) = fire.filter(|_| !channels.is_empty()) else {
        return Ok((Vec::new(), next));
    };
    let rendered = render(config, settings, store, &week, fire, now).await?;
    let mut out = Vec::new();
    for channel in channels {
        let o = deliver(settings, store, channel, &rendered, now).await?;
        if let Sent::Failed { retry: Some(t), .. } = &o.result {
            next = earliest(next, Some(*t));
        }
        out.push(o);
    }
    Ok((out, next))
}

/// When the daemon should call [`run_due`] next: now when something is due, else the next
/// scheduled time or retry. Reads only.
pub async fn next_check(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DeskError> {
    let Some(settings) = &config.digest else {
        return Ok(None);
    };
    let since = store.digest_schedule_known().await?.unwrap_or(now);
    let due = due(settings, store, now, since).await?;
    Ok(if due.channels.is_empty() {
        due.next
    } else {
        Some(now)
    })
}

/// `gleaner digest --week W --send`: sends week `week` now on every configured channel that
/// has not had it (recorded, so the daemon will not send it again), or, with `to`, by e-mail to
/// those addresses only (a one-off, not recorded). With `dry_run` nothing is sent or recorded:
/// the outcomes say what would be.
pub async fn send_week(
    config: &Config,
    store: &Store,
    week: &str,
    to: Option<&[String]>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<Vec<SendReport>, DeskError> {
    let settings = config.digest.as_ref().ok_or_else(|| {
        DeskError::Invalid(
            "no [digest] in the config: add [digest] with [digest.email] or [digest.webhook] (README: \"The digest by e-mail and webhook\")".into(),
        )
    })?;
    let since = desk::parse_week(week).map_err(DeskError::Invalid)?;
    let label = desk::week_of(since);
    let until = since + chrono::Duration::days(7);
    // A manual send covers the ISO week asked for, whatever the schedule's rule.
    let d = desk::digest_between(config, store, &label, since, until, settings.top, now).await?;
    let rendered = Rendered::new(&d, settings.email.as_ref().map(|e| e.from.as_str()));
    let channels: Vec<&'static str> = match to {
        Some(_) => {
            if settings.email.is_none() {
                return Err(DeskError::Invalid(
                    "--to sends by e-mail, and there is no [digest.email] in the config".into(),
                ));
            }
            vec!["email"]
        }
        None => settings.channels(),
    };
    let mut out = Vec::new();
    for channel in channels {
        let result = if dry_run {
            Sent::Preview(preview(settings, channel, &rendered, to))
        } else if let Some(to) = to {
            match send(settings, channel, &rendered, Some(to)).await {
                Ok(t) => Sent::Sent(format!("{t} (a one-off: not recorded)")),
                Err(error) => Sent::Failed {
                    error,
                    attempts: 1,
                    retry: None,
                },
            }
        } else {
            deliver(settings, store, channel, &rendered, now)
                .await?
                .result
        };
        out.push(SendReport {
            channel,
            week: label.clone(),
            result,
        });
    }
    Ok(out)
}

/// What a channel would send, for `--dry-run`.
fn preview(
    settings: &DigestSettings,
    channel: &str,
    r: &Rendered,
    to: Option<&[String]>,
) -> String {
    match (channel, &settings.email, &settings.webhook) {
        ("email", Some(e), _) => format!(
            "From: {}\nTo: {}\nSubject: {}\nMessage-ID: {}\nvia {}:{} ({:?}); a text part of {} bytes and an HTML part of {} bytes:\n\n{}",
            e.from,
            to.unwrap_or(&e.to).join(", "),
            r.subject,
            r.message_id,
            e.host,
            e.port,
            e.security,
            r.text.len(),
            r.html.len(),
            r.text
        ),
        (_, _, Some(w)) => format!(
            "POST {} ({:?}{}), {} bytes:\n{}",
            crate::text::url_without_path(&w.url),
            w.format,
            if w.secret_env.is_some() {
                ", signed"
            } else {
                ""
            },
            r.webhook_body(w.format).len(),
            String::from_utf8_lossy(r.webhook_body(w.format))
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_send_covers_the_iso_week_before_its_own() {
        // Monday 2026-11-30 08:00 is in 2026-W49: the week just ended is W48.
        assert_eq!(week_for(t("2026-11-30T08:00:00Z")), "2026-W48");
        // Sunday evening is still in W48: the week before it is W47.
        assert_eq!(week_for(t("2026-11-29T20:00:00Z")), "2026-W47");
        // Across a year: Monday 2027-01-04 is in 2027-W01; the week before is 2026-W53.
        assert_eq!(week_for(t("2027-01-04T08:00:00Z")), "2026-W53");
    }

    #[test]
    fn retries_double_up_to_an_hour() {
        let c = Config::parse(
            "[digest]\nretry = \"1m\"\n[digest.webhook]\nurl = \"https://h.example/\"\n",
            std::path::Path::new("."),
        )
        .unwrap();
        let s = c.digest.unwrap();
        let now = t("2026-11-30T08:00:00Z");
        let wait = |n| (retry_at(&s, n, now) - now).num_seconds();
        assert_eq!((wait(1), wait(2), wait(3)), (60, 120, 240));
        assert_eq!(wait(10), 3600);
    }
}
