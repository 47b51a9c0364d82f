//! `[digest]`, `[digest.email]` and `[digest.webhook]`: when the daemon sends the weekly digest,
//! and where (issue 16). Validated like the rest of the file: every problem names its table and
//! key. Secrets are never read from feeds.toml: only the name of an environment variable or a
//! file that holds them.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{Validator, duration_value};
use crate::schedule::CronSchedule;

/// `[digest]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestSettings {
    /// When the digest of the week just ended is sent.
    pub when: CronSchedule,
    /// How `when` was written, for `gleaner check` (`cron 0 8 * * MON` or `Monday 08:00`).
    pub when_text: String,
    pub week: WeekRule,
    /// Candidates per section (default: `[output] per_section`).
    pub top: Option<usize>,
    /// The first retry after a failed send; doubling, at most an hour.
    pub retry: Duration,
    pub email: Option<EmailSettings>,
    pub webhook: Option<WebhookSettings>,
}

/// Which stories a digest covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekRule {
    /// The ISO week (Monday to Sunday, UTC) that ended before the send time.
    Iso,
    /// The candidate window at the send time: since the last published issue (or
    /// `[output] window_days`).
    Window,
}

/// `[digest.email]`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<PasswordSource>,
    /// A mailbox: `Gleaner <gleaner@example.org>` or `gleaner@example.org`.
    pub from: String,
    pub to: Vec<String>,
    /// PEM certificates trusted besides the system's (a private or test CA).
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (required); port 587 by default.
    StartTls,
    /// TLS from the first byte (SMTPS); port 465 by default.
    Tls,
    /// No encryption: only to a server on this machine; port 25 by default.
    None,
}

/// Where the SMTP password is read from, at send time.
#[derive(Debug, Clone, PartialEq)]
pub enum PasswordSource {
    Env(String),
    File(PathBuf),
}

/// `[digest.webhook]`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    pub url: Url,
    pub format: WebhookFormat,
    /// The environment variable holding the HMAC-SHA256 key that signs the body.
    pub secret_env: Option<String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The digest as structured JSON.
    Json,
    /// `{"text": …}` with Slack's link syntax (also read by Discord, Matrix bridges, ntfy).
    Slack,
}

const DIGEST_KEYS: &[&str] = &[
    "cron", "timezone", "weekday", "time", "week", "top", "retry", "email", "webhook",
];
const EMAIL_KEYS: &[&str] = &[
    "host",
    "port",
    "security",
    "username",
    "password_env",
    "password_file",
    "from",
    "to",
    "ca_file",
    "timeout",
];
const WEBHOOK_KEYS: &[&str] = &["url", "format", "secret_env", "timeout"];
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
struct RawDigest {
    cron: Option<String>,
    timezone: Option<String>,
    weekday: Option<String>,
    time: Option<String>,
    week: Option<String>,
    top: Option<i64>,
    retry: Option<toml::Value>,
    email: Option<toml::Table>,
    webhook: Option<toml::Table>,
}

#[derive(Deserialize)]
struct RawEmail {
    host: Option<String>,
    port: Option<i64>,
    security: Option<String>,
    username: Option<String>,
    password_env: Option<String>,
    password_file: Option<String>,
    from: Option<String>,
    to: Option<Vec<String>>,
    ca_file: Option<String>,
    timeout: Option<toml::Value>,
}

#[derive(Deserialize)]
struct RawWebhook {
    url: Option<String>,
    format: Option<String>,
    secret_env: Option<String>,
    timeout: Option<toml::Value>,
}

/// `mon` … `sun` (or the whole name) as cron's day of the week.
fn weekday(s: &str) -> Option<(&'static str, &'static str)> {
    const DAYS: [(&str, &str); 7] = [
        ("MON", "Monday"),
        ("TUE", "Tuesday"),
        ("WED", "Wednesday"),
        ("THU", "Thursday"),
        ("FRI", "Friday"),
        ("SAT", "Saturday"),
        ("SUN", "Sunday"),
    ];
    let s = s.trim().to_ascii_lowercase();
    DAYS.into_iter()
        .find(|(short, long)| s == short.to_ascii_lowercase() || s == long.to_ascii_lowercase())
}

/// `HH:MM` or `HH:MM:SS` → (h, m, s).
fn clock(s: &str) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let n: Vec<u32> = parts
        .iter()
        .map(|p| (p.len() == 2).then(|| p.parse().ok()).flatten())
        .collect::<Option<_>>()?;
    let (h, m, sec) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    (h < 24 && m < 60 && sec < 60).then_some((h, m, sec))
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Validator<'_> {
    pub(super) fn digest(
        &mut self,
        raw: Option<&Spanned<toml::Table>>,
        base_dir: &Path,
    ) -> Option<DigestSettings> {
        let table = raw?;
        let d = self.section::<RawDigest>(table, DIGEST_KEYS, "[digest]")?;
        let at = table.span().start;
        let ctx = "[digest]";
        let tz = match d.timezone.as_deref() {
            None => chrono_tz::UTC,
            Some(name) => match chrono_tz::Tz::from_str(name.trim()) {
                Ok(tz) => tz,
                Err(_) => {
                    self.push(
                        at,
                        ctx,
                        Some("timezone"),
                        format!("`{name}` is not an IANA time zone (e.g. \"Europe/Berlin\")"),
                    );
                    return None;
                }
            },
        };
        let tz_text = d
            .timezone
            .as_deref()
            .map_or(String::from("UTC"), |t| t.trim().to_string());
        let (expr, when_text) = match (&d.cron, &d.weekday, &d.time) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                self.push(
                    at,
                    ctx,
                    Some("cron"),
                    "give either `cron` or `weekday` and `time`, not both".into(),
                );
                return None;
            }
            (Some(c), None, None) => (c.clone(), format!("cron `{}` ({tz_text})", c.trim())),
            (None, w, t) => {
                let w = w.as_deref().unwrap_or("mon");
                let t = t.as_deref().unwrap_or("08:00");
                let Some((dow, day)) = weekday(w) else {
                    self.push(
                        at,
                        ctx,
                        Some("weekday"),
                        format!("`{w}` is not a day of the week (mon … sun)"),
                    );
                    return None;
                };
                let Some((h, m, s)) = clock(t) else {
                    self.push(
                        at,
                        ctx,
                        Some("time"),
                        format!("`{t}` is not a time of day like \"08:00\" or \"08:00:30\""),
                    );
                    return None;
                };
                (
                    format!("{s} {m} {h} * * {dow}"),
                    format!("{day} {} ({tz_text})", t.trim()),
                )
            }
        };
        let when = match CronSchedule::parse(&expr, tz) {
            Ok(c) => c,
            Err(m) => {
                self.push(at, ctx, Some("cron"), m);
                return None;
            }
        };
        let week = match d.week.as_deref().map(str::trim) {
            None | Some("iso") => WeekRule::Iso,
            Some("window") => WeekRule::Window,
            Some(other) => {
                self.push(
                    at,
                    ctx,
                    Some("week"),
                    format!("`{other}`: use \"iso\" (the ISO week just ended) or \"window\" (the candidate window)"),
                );
                WeekRule::Iso
            }
        };
        let top = match d.top {
            None => None,
            Some(n) if (1..=1000).contains(&n) => Some(n as usize),
            Some(n) => {
                self.push(at, ctx, Some("top"), format!("is {n}: use 1 to 1000"));
                None
            }
        };
        let mut retry = Duration::from_secs(60);
        if let Some(r) = &d.retry {
            match duration_value(r) {
                Ok(r) => retry = r,
                Err(m) => self.push(at, ctx, Some("retry"), m),
            }
        }
        let email = d.email.as_ref().and_then(|t| self.email(t, at, base_dir));
        let webhook = d.webhook.as_ref().and_then(|t| self.webhook(t, at));
        if d.email.is_none() && d.webhook.is_none() {
            self.push(
                at,
                ctx,
                None,
                "nowhere to send the digest: add [digest.email] or [digest.webhook]".into(),
            );
        }
        Some(DigestSettings {
            when,
            when_text,
            week,
            top,
            retry,
            email,
            webhook,
        })
    }

    /// `table` without `key`, which is reported with `message` when it is there (a secret
    /// written into feeds.toml is a mistake that deserves more than "unknown key").
    fn without_secret(
        &mut self,
        table: &toml::Table,
        key: &str,
        at: usize,
        ctx: &str,
        message: &str,
    ) -> toml::Table {
        let mut table = table.clone();
        if table.remove(key).is_some() {
            self.push(at, ctx, Some(key), message.to_string());
        }
        table
    }

    /// The offset of `[digest.<name>]`, else of `[digest]`.
    fn sub_table(&self, name: &str, digest_at: usize) -> usize {
        self.table_offset(&format!("digest.{name}"))
            .unwrap_or(digest_at)
    }

    fn email(
        &mut self,
        table: &toml::Table,
        digest_at: usize,
        base_dir: &Path,
    ) -> Option<EmailSettings> {
        let at = self.sub_table("email", digest_at);
        let ctx = "[digest.email]";
        let table = self.without_secret(
            table,
            "password",
            at,
            ctx,
            "a password is never read from feeds.toml: name an environment variable \
             (password_env) or a file (password_file) that holds it",
        );
        let raw: RawEmail = self.section_at(&table, at, EMAIL_KEYS, ctx)?;
        let before = self.problems.len();
        let host = raw.host.map(|h| h.trim().to_string()).unwrap_or_default();
        if host.is_empty() {
            self.push(
                at,
                ctx,
                Some("host"),
                "is required (the SMTP server's name)".into(),
            );
        }
        let security = match raw.security.as_deref().map(str::trim) {
            None | Some("starttls") => Security::StartTls,
            Some("tls") => Security::Tls,
            Some("none") => Security::None,
            Some(other) => {
                self.push(
                    at,
                    ctx,
                    Some("security"),
                    format!("`{other}`: use \"starttls\", \"tls\" or \"none\""),
                );
                Security::StartTls
            }
        };
        if security == Security::None && !host.is_empty() && !is_loopback(&host) {
            self.push(
                at,
                ctx,
                Some("security"),
                format!(
                    "\"none\" sends the digest and the password in clear: it is only allowed to a server on this machine, not to `{host}`"
                ),
            );
        }
        let port = match raw.port {
            None => match security {
                Security::StartTls => 587,
                Security::Tls => 465,
                Security::None => 25,
            },
            Some(p) => match u16::try_from(p) {
                Ok(p) if p > 0 => p,
                _ => {
                    self.push(at, ctx, Some("port"), format!("is {p}: use 1 to 65535"));
                    0
                }
            },
        };
        let password = match (raw.password_env, raw.password_file) {
            (Some(_), Some(_)) => {
                self.push(
                    at,
                    ctx,
                    Some("password_file"),
                    "give password_env or password_file, not both".into(),
                );
                None
            }
            (Some(e), None) => Some(PasswordSource::Env(e.trim().to_string())),
            (None, Some(f)) => Some(PasswordSource::File(base_dir.join(f.trim()))),
            (None, None) => None,
        };
        if password.is_some() && raw.username.is_none() {
            self.push(
                at,
                ctx,
                Some("username"),
                "is required with a password (the SMTP login)".into(),
            );
        }
        if raw.username.is_some() && password.is_none() {
            self.push(
                at,
                ctx,
                Some("username"),
                "needs password_env or password_file".into(),
            );
        }
        let from = raw.from.unwrap_or_default();
        if from.trim().is_empty() {
            self.push(
                at,
                ctx,
                Some("from"),
                "is required (the sender's address)".into(),
            );
        } else if let Err(e) = from.parse::<lettre::message::Mailbox>() {
            self.push(
                at,
                ctx,
                Some("from"),
                format!("`{from}` is not an e-mail address: {e}"),
            );
        }
        let to = raw.to.unwrap_or_default();
        if to.is_empty() {
            self.push(
                at,
                ctx,
                Some("to"),
                "is required: a list of addresses, e.g. [\"editor@example.org\"]".into(),
            );
        }
        for t in &to {
            if let Err(e) = t.parse::<lettre::message::Mailbox>() {
                self.push(
                    at,
                    ctx,
                    Some("to"),
                    format!("`{t}` is not an e-mail address: {e}"),
                );
            }
        }
        let ca_file = raw.ca_file.map(|f| base_dir.join(f.trim()));
        let mut timeout = DEFAULT_TIMEOUT;
        if let Some(t) = &raw.timeout {
            match duration_value(t) {
                Ok(t) => timeout = t,
                Err(m) => self.push(at, ctx, Some("timeout"), m),
            }
        }
        (self.problems.len() == before).then(|| EmailSettings {
            host,
            port,
            security,
            username: raw.username,
            password,
            from: from.trim().to_string(),
            to,
            ca_file,
            timeout,
        })
    }

    fn webhook(&mut self, table: &toml::Table, digest_at: usize) -> Option<WebhookSettings> {
        let at = self.sub_table("webhook", digest_at);
        let ctx = "[digest.webhook]";
        let table = self.without_secret(
            table,
            "secret",
            at,
            ctx,
            "a secret is never read from feeds.toml: name the environment variable that holds it (secret_env)",
        );
        let raw: RawWebhook = self.section_at(&table, at, WEBHOOK_KEYS, ctx)?;
        let before = self.problems.len();
        let url = match raw.url.as_deref().map(|u| Url::parse(u.trim())) {
            Some(Ok(u)) if matches!(u.scheme(), "http" | "https") => Some(u),
            Some(_) => {
                self.push(
                    at,
                    ctx,
                    Some("url"),
                    format!(
                        "`{}` is not an http(s) URL",
                        raw.url.as_deref().unwrap_or("")
                    ),
                );
                None
            }
            None => {
                self.push(at, ctx, Some("url"), "is required".into());
                None
            }
        };
        let format = match raw.format.as_deref().map(str::trim) {
            None | Some("json") => WebhookFormat::Json,
            Some("slack") => WebhookFormat::Slack,
            Some(other) => {
                self.push(
                    at,
                    ctx,
                    Some("format"),
                    format!("`{other}`: use \"json\" or \"slack\""),
                );
                WebhookFormat::Json
            }
        };
        let mut timeout = DEFAULT_TIMEOUT;
        if let Some(t) = &raw.timeout {
            match duration_value(t) {
                Ok(t) => timeout = t,
                Err(m) => self.push(at, ctx, Some("timeout"), m),
            }
        }
        let url = url?;
        (self.problems.len() == before).then(|| WebhookSettings {
            url,
            format,
            secret_env: raw.secret_env.map(|s| s.trim().to_string()),
            timeout,
        })
    }
}

impl DigestSettings {
    /// The channels configured, by the name deliveries are recorded under.
    pub fn channels(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.email.is_some() {
            out.push("email");
        }
        if self.webhook.is_some() {
            out.push("webhook");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn parse(s: &str) -> Result<Config, String> {
        Config::parse(s, std::path::Path::new("/cfg")).map_err(|e| e.to_string())
    }

    #[test]
    fn weekday_and_time_or_cron() {
        let c = parse(
            "[digest]\nweekday = \"monday\"\ntime = \"07:30\"\ntimezone = \"Europe/Berlin\"\n[digest.webhook]\nurl = \"https://hooks.example/x\"\n",
        )
        .unwrap();
        let d = c.digest.unwrap();
        assert_eq!(d.when.expr, "0 30 7 * * MON");
        assert_eq!(d.when_text, "Monday 07:30 (Europe/Berlin)");
        assert_eq!(d.channels(), ["webhook"]);
        let c = parse(
            "[digest]\ncron = \"0 9 * * 1\"\nweek = \"window\"\ntop = 5\n[digest.email]\nhost = \"smtp.example.org\"\nusername = \"u\"\npassword_file = \"secret.txt\"\nfrom = \"Gleaner <g@example.org>\"\nto = [\"a@example.org\", \"b@example.org\"]\n",
        )
        .unwrap();
        let d = c.digest.unwrap();
        assert_eq!(d.week, super::WeekRule::Window);
        assert_eq!(d.top, Some(5));
        let e = d.email.unwrap();
        assert_eq!((e.port, e.security), (587, super::Security::StartTls));
        assert_eq!(
            e.password,
            Some(super::PasswordSource::File("/cfg/secret.txt".into()))
        );
        assert!(parse("").unwrap().digest.is_none());
    }

    #[test]
    fn problems_name_their_key() {
        for (text, want) in [
            ("[digest]\n", "nowhere to send the digest"),
            (
                "[digest]\nweekday = \"someday\"\n[digest.webhook]\nurl = \"https://h.example/\"\n",
                "weekday",
            ),
            (
                "[digest]\ntime = \"25:00\"\n[digest.webhook]\nurl = \"https://h.example/\"\n",
                "time",
            ),
            (
                "[digest]\ncron = \"0 9 * * 1\"\ntime = \"08:00\"\n[digest.webhook]\nurl = \"https://h.example/\"\n",
                "not both",
            ),
            (
                "[digest]\n[digest.email]\nhost = \"smtp.example.org\"\npassword = \"hunter2\"\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\n",
                "never read from feeds.toml",
            ),
            (
                "[digest]\n[digest.email]\nhost = \"smtp.example.org\"\nsecurity = \"none\"\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\n",
                "only allowed to a server on this machine",
            ),
            (
                "[digest]\n[digest.email]\nhost = \"127.0.0.1\"\nfrom = \"not an address\"\nto = [\"b@example.org\"]\n",
                "not an e-mail address",
            ),
            (
                "[digest]\n[digest.webhook]\nurl = \"ftp://h.example/\"\n",
                "not an http(s) URL",
            ),
            (
                "[digest]\n[digest.webhook]\nurl = \"https://h.example/\"\nformat = \"teams\"\n",
                "\"json\" or \"slack\"",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(want), "{text}\n→ {e}");
            assert!(e.contains("line"), "{e}");
        }
    }
}
