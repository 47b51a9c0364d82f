//! Issue 16: the weekly digest delivered by e-mail (a real SMTP server, Python's aiosmtpd, on
//! 127.0.0.1, `support/smtp.rs`) and by webhook (a real HTTP receiver on 127.0.0.1), exactly
//! once per week and channel, by hand and by the daemon. Skipped with a note when aiosmtpd is
//! missing, unless GLEANER_REQUIRE_SMTP=1 (CI sets it; `.ci/run` installs aiosmtpd).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::server::{Route, Server};
use crate::support::smtp::{Smtp, smtp_available};
use crate::support::{Workspace, stderr, stdout};

const WEEK: &str = "2026-W48";

/// These tests run the binary and real servers from plain threads: blocking waits are right.
#[allow(clippy::disallowed_methods)]
fn pause(d: Duration) {
    std::thread::sleep(d);
}

const SEND: &[&str] = &["digest", "--week", WEEK, "--send"];

/// Runs the binary in `ws` with one more environment variable.
fn gleaner_with(ws: &Workspace, args: &[&str], (key, value): (&str, &str)) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(args)
        .current_dir(ws.path("."))
        .env(key, value)
        .output()
        .unwrap()
}

/// One request the receiver got: its headers, its body, the status it answered.
type Request = (Vec<(String, String)>, Vec<u8>, u16);

/// Stories of 2026-W48 (Mon 23 – Sun 29 November), one with a script in its title.
fn feed() -> String {
    let item = |guid: &str, title: &str, link: &str, date: &str| {
        format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title><link>{link}</link><description>A story.</description><pubDate>{date}</pubDate></item>\n"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>Ops</title><link>https://ops.example/</link>\n{}{}</channel></rss>\n",
        item(
            "k1",
            "&lt;script&gt;alert(1)&lt;/script&gt; Kubernetes postmortem",
            "https://ops.example/k8s",
            "Tue, 24 Nov 2026 09:00:00 GMT"
        ),
        item(
            "k2",
            "Terraform at scale",
            "https://ops.example/tf",
            "Thu, 26 Nov 2026 09:00:00 GMT"
        ),
    )
}

/// A webhook receiver on 127.0.0.1: answers each request with the next status of `statuses`
/// (the last one repeats) and records the headers and body of each.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    fn start(statuses: &[u16]) -> Receiver {
        Receiver::slow(statuses, Duration::ZERO)
    }

    /// The same, holding each answer for `delay` after the request was recorded (a send that
    /// is under way for that long).
    fn slow(statuses: &[u16], delay: Duration) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook/SECRET-PATH", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let (g, statuses) = (got.clone(), statuses.to_vec());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let (head, body_start) = loop {
                    let Ok(n) = s.read(&mut chunk) else {
                        break (None, 0);
                    };
                    if n == 0 {
                        break (None, 0);
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break (Some(String::from_utf8_lossy(&buf[..i]).to_string()), i + 4);
                    }
                };
                let Some(head) = head else { continue };
                let headers: Vec<(String, String)> = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .map_or(0, |(_, v)| v.parse().unwrap());
                let mut body = buf[body_start..].to_vec();
                while body.len() < len {
                    let Ok(n) = s.read(&mut chunk) else { break };
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                let mut got = g.lock().unwrap();
                let status = statuses[got.len().min(statuses.len() - 1)];
                got.push((headers, body, status));
                drop(got);
                pause(delay);
                let reply = if status == 200 {
                    "ok"
                } else {
                    "receiver is down for a test"
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                    reply.len()
                );
            }
        });
        Receiver { url, got }
    }

    fn requests(&self) -> Vec<Request> {
        self.got.lock().unwrap().clone()
    }
}

/// `/metrics` as `gleaner run --serve` answers it over `ws`, read with a plain HTTP/1.0 GET.
fn daemon_metrics(ws: &Workspace) -> String {
    let desk = crate::serve::Desk::start_with(ws, &["run", "--serve", "--listen", "127.0.0.1:0"]);
    let addr = desk
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(conn, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    answer
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A workspace that has polled the W48 feed, with `digest` appended to its config.
fn workspace(server: &Server, digest: &str) -> Workspace {
    let ws = Workspace::new();
    let url = server.route("/feed", Route::feed(feed()));
    ws.write_config("", &[("Ops", &url)]);
    let mut text = std::fs::read_to_string(ws.config_path()).unwrap();
    text.push_str("[output]\ntitle = \"Ops Weekly\"\n");
    text.push_str(digest);
    ws.write_config_text(&text);
    // Polled on the week's last day: the stories were seen in the week they cover.
    let o = gleaner_with(&ws, &["poll"], ("GLEANER_NOW", "2026-11-29T12:00:00Z"));
    assert!(o.status.success(), "{}", stderr(&o));
    ws
}

fn email_config(port: u16, extra: &str) -> String {
    format!(
        "[digest]\n[digest.email]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Gleaner <gleaner@example.org>\"\nto = [\"editor@example.org\", \"co-editor@example.org\"]\ntimeout = \"3s\"\n{extra}"
    )
}

#[test]
fn the_digest_arrives_once_by_email_with_both_parts_and_no_script() {
    if !smtp_available() {
        return;
    }
    let server = Server::start();
    let ws0 = Workspace::new();
    let smtp = Smtp::start(&ws0, "smtp", &[]);
    let ws = workspace(&server, &email_config(smtp.port, ""));

    // A dry run shows what would go out, and sends nothing.
    let dry = ws.gleaner(&["digest", "--week", WEEK, "--send", "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let d = stdout(&dry);
    assert!(
        d.contains("Subject: Ops Weekly: candidate digest, week 2026-W48"),
        "{d}"
    );
    assert!(
        d.contains("To: editor@example.org, co-editor@example.org"),
        "{d}"
    );
    assert!(d.contains("nothing sent"), "{d}");
    pause(Duration::from_millis(300));
    assert!(smtp.messages().is_empty());

    let sent = ws.gleaner(SEND);
    assert!(
        sent.status.success(),
        "{}\n{}",
        stdout(&sent),
        stderr(&sent)
    );
    assert!(
        stdout(&sent)
            .contains("email: week 2026-W48 sent to editor@example.org, co-editor@example.org"),
        "{}",
        stdout(&sent)
    );
    let m = smtp.messages();
    assert_eq!(m.len(), 1, "{m:#?}");
    let m = &m[0];
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(m["subject"], "Ops Weekly: candidate digest, week 2026-W48");
    assert!(
        m["message_id"]
            .as_str()
            .unwrap()
            .starts_with("<digest-2026-W48.")
    );
    assert!(m["message_id"].as_str().unwrap().ends_with("@example.org>"));
    assert_eq!(m["header_from"], "Gleaner <gleaner@example.org>");
    assert_eq!(
        m["to"],
        serde_json::json!(["editor@example.org", "co-editor@example.org"])
    );
    let text = m["text"].as_str().unwrap();
    let html = m["html"].as_str().unwrap();
    assert!(text.contains("Terraform at scale"), "{text}");
    assert!(html.contains("Terraform at scale"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Kubernetes postmortem"),
        "{html}"
    );
    for bad in ["<script", "<style", "javascript:", "onerror"] {
        assert!(!html.to_ascii_lowercase().contains(bad), "{bad} in {html}");
    }

    // Sent is sent: again, nothing goes out.
    let again = ws.gleaner(SEND);
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("already sent at"),
        "{}",
        stdout(&again)
    );
    // A copy for someone else is a one-off, to that address only.
    let copy = ws.gleaner(&[
        "digest",
        "--week",
        WEEK,
        "--send",
        "--to",
        "guest@example.org",
    ]);
    assert!(copy.status.success(), "{}", stderr(&copy));
    assert!(stdout(&copy).contains("not recorded"), "{}", stdout(&copy));
    let m = smtp.messages();
    assert_eq!(m.len(), 2);
    assert_eq!(m[1]["to"], serde_json::json!(["guest@example.org"]));
    // status says what was sent.
    let status = stdout(&ws.gleaner(&["status"]));
    assert!(status.contains("2026-W48 email    sent"), "{status}");
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A CA and a server certificate for 127.0.0.1 it signed.
fn test_ca(ws: &Workspace) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "gleaner test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let (ca_path, cert_path, key_path) =
        (ws.path("ca.pem"), ws.path("cert.pem"), ws.path("key.pem"));
    std::fs::write(&ca_path, pem("CERTIFICATE", ca_cert.der())).unwrap();
    std::fs::write(&cert_path, pem("CERTIFICATE", cert.der())).unwrap();
    std::fs::write(&key_path, pem("PRIVATE KEY", &key.serialize_der())).unwrap();
    (ca_path, cert_path, key_path)
}

#[test]
fn starttls_is_trusted_through_the_test_ca_refused_without_it_and_auth_is_used() {
    if !smtp_available() {
        return;
    }
    let server = Server::start();
    let ws0 = Workspace::new();
    let (ca, cert, key) = test_ca(&ws0);
    let smtp = Smtp::start(
        &ws0,
        "smtp",
        &[
            "--starttls",
            cert.to_str().unwrap(),
            key.to_str().unwrap(),
            "--auth",
            "gleaner:s3cret-pass",
        ],
    );
    let base = |extra: &str| {
        format!(
            "[digest]\nretry = \"1s\"\n[digest.email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nusername = \"gleaner\"\npassword_env = \"GLEANER_TEST_SMTP_PASSWORD\"\nfrom = \"gleaner@example.org\"\nto = [\"editor@example.org\"]\ntimeout = \"5s\"\n{extra}",
            smtp.port
        )
    };
    // Without the CA the certificate is refused: nothing is sent, the failure is recorded.
    let ws = workspace(&server, &base(""));
    let refused = gleaner_with(&ws, SEND, ("GLEANER_TEST_SMTP_PASSWORD", "s3cret-pass"));
    assert!(!refused.status.success());
    let out = stdout(&refused);
    assert!(
        out.contains("email: week 2026-W48 FAILED (attempt 1)"),
        "{out}"
    );
    assert!(
        out.contains("rejected: it is not signed by a trusted certificate authority"),
        "{out}"
    );
    eprintln!("without ca_file: {}", out.trim());
    assert!(!out.contains("s3cret-pass") && !stderr(&refused).contains("s3cret-pass"));
    assert!(smtp.messages().is_empty());
    let status = stdout(&ws.gleaner(&["status"]));
    assert!(status.contains("FAILING after 1 attempt"), "{status}");

    // With it (and the password from the environment), one message over TLS, logged in.
    let mut text = std::fs::read_to_string(ws.config_path()).unwrap();
    text.push_str(&format!("ca_file = \"{}\"\n", ca.display()));
    ws.write_config_text(&text);
    let missing_pw = ws.gleaner(SEND);
    assert!(!missing_pw.status.success());
    assert!(
        stdout(&missing_pw).contains("GLEANER_TEST_SMTP_PASSWORD (password_env) is not set"),
        "{}",
        stdout(&missing_pw)
    );
    let check = stdout(&ws.gleaner(&["check"]));
    assert!(
        check.contains("warning: email: the environment variable GLEANER_TEST_SMTP_PASSWORD"),
        "{check}"
    );
    let ok = gleaner_with(&ws, SEND, ("GLEANER_TEST_SMTP_PASSWORD", "s3cret-pass"));
    assert!(ok.status.success(), "{}\n{}", stdout(&ok), stderr(&ok));
    let m = smtp.messages();
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0]["tls"], true);
    assert_eq!(m[0]["auth"], "gleaner");
    let status = stdout(&ws.gleaner(&["status"]));
    assert!(status.contains("2026-W48 email    sent"), "{status}");
}

#[test]
fn a_rejecting_a_down_and_a_hanging_server_each_fail_clearly_in_time() {
    if !smtp_available() {
        return;
    }
    let server = Server::start();
    let ws0 = Workspace::new();
    let reject = Smtp::start(&ws0, "reject", &["--mode", "reject"]);
    // Down: a port nothing listens on.
    let down = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Hanging: accepts and never says a word.
    let hang = TcpListener::bind("127.0.0.1:0").unwrap();
    let hang_port = hang.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut keep = Vec::new();
        for s in hang.incoming() {
            keep.push(s);
        }
    });
    for (port, want) in [
        (reject.port, "554"),
        (down, "refused"),
        (hang_port, "did not finish within"),
    ] {
        let ws = workspace(&server, &email_config(port, ""));
        let start = Instant::now();
        let o = ws.gleaner(SEND);
        let took = start.elapsed();
        assert!(!o.status.success(), "{port}");
        let out = stdout(&o).to_lowercase();
        assert!(
            out.contains("failed (attempt 1)") && out.contains(want),
            "{want}: {out}"
        );
        assert!(took < Duration::from_secs(15), "{want}: took {took:?}");
        eprintln!(
            "{want}: {:.1} s: {}",
            took.as_secs_f64(),
            stdout(&o)
                .lines()
                .find(|l| l.contains("FAILED"))
                .unwrap_or("")
        );
        assert!(
            stderr(&o).contains("1 of 1 channel failed"),
            "{}",
            stderr(&o)
        );
        let status = stdout(&ws.gleaner(&["status"]));
        assert!(status.contains("FAILING after 1 attempt"), "{status}");
    }
    assert!(reject.messages().is_empty());
}

#[test]
fn the_webhook_is_signed_retried_after_a_500_and_not_resent_after_success() {
    let server = Server::start();
    let hook = Receiver::start(&[500, 200]);
    let ws = workspace(
        &server,
        &format!(
            "[digest]\n[digest.webhook]\nurl = \"{}\"\nsecret_env = \"GLEANER_TEST_HOOK_KEY\"\ntimeout = \"3s\"\n",
            hook.url
        ),
    );
    let send = || gleaner_with(&ws, SEND, ("GLEANER_TEST_HOOK_KEY", "k3y"));
    let first = send();
    assert!(!first.status.success());
    let out = stdout(&first);
    assert!(
        out.contains("webhook: week 2026-W48 FAILED (attempt 1): http://127.0.0.1:"),
        "{out}"
    );
    assert!(
        out.contains("answered 500 Internal Server Error: receiver is down for a test"),
        "{out}"
    );
    // The URL's path (where chat services keep their secret) is never shown.
    assert!(!out.contains("SECRET-PATH"), "{out}");
    // The daemon's /metrics shows the failing delivery (its schedule is new: it sends nothing).
    let metrics = daemon_metrics(&ws);
    assert!(
        metrics.lines().any(
            |l| l == "gleaner_digest_failing_attempts{channel=\"webhook\",week=\"2026-W48\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        !metrics.contains("gleaner_digest_last_sent_timestamp_seconds{"),
        "{metrics}"
    );
    let second = send();
    assert!(second.status.success(), "{}", stdout(&second));
    let metrics = daemon_metrics(&ws);
    let sent_at: i64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("gleaner_digest_last_sent_timestamp_seconds{channel=\"webhook\"} ")
        })
        .unwrap_or_else(|| panic!("no last-sent time in {metrics}"))
        .parse()
        .unwrap();
    assert!(
        (chrono::Utc::now().timestamp() - sent_at).abs() < 120,
        "{sent_at}"
    );
    assert!(
        !metrics.contains("gleaner_digest_failing_attempts{"),
        "{metrics}"
    );
    let third = send();
    assert!(
        stdout(&third).contains("already sent"),
        "{}",
        stdout(&third)
    );
    let got = hook.requests();
    assert_eq!(got.len(), 2, "one failure, one success, nothing after");
    for (headers, body, _) in &got {
        assert_eq!(header(headers, "content-type"), Some("application/json"));
        assert_eq!(
            header(headers, "x-gleaner-delivery"),
            Some("digest-2026-W48")
        );
        // The signature is HMAC-SHA256 of the body under the key, recomputed here.
        let want = {
            use hmac::Mac;
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"k3y").unwrap();
            mac.update(body);
            let hex: String = mac
                .finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("sha256={hex}")
        };
        assert_eq!(header(headers, "x-gleaner-signature"), Some(want.as_str()));
        let json: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(json["week"], "2026-W48");
        assert_eq!(json["title"], "Ops Weekly: candidate digest, week 2026-W48");
        let titles: Vec<&str> = json["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["items"].as_array().unwrap())
            .map(|i| i["title"].as_str().unwrap())
            .collect();
        assert!(titles.contains(&"Terraform at scale"), "{json:#}");
    }
    // Slack's format: {"text": …} with <url|title> links.
    let slack = Receiver::start(&[200]);
    let ws2 = workspace(
        &server,
        &format!(
            "[digest]\n[digest.webhook]\nurl = \"{}\"\nformat = \"slack\"\n",
            slack.url
        ),
    );
    assert!(ws2.gleaner(SEND).status.success());
    let got = slack.requests();
    assert_eq!(got.len(), 1);
    assert!(header(&got[0].0, "x-gleaner-signature").is_none());
    let json: serde_json::Value = serde_json::from_slice(&got[0].1).unwrap();
    let text = json["text"].as_str().unwrap();
    assert!(
        text.contains("<https://ops.example/tf|Terraform at scale>"),
        "{text}"
    );
}

/// A weekly 6-field cron (seconds first, UTC) for `at`: its time on its day of the week.
fn cron_at(at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{} {} {} * * {}",
        at.second(),
        at.minute(),
        at.hour(),
        at.weekday().num_days_from_sunday()
    )
}

/// The week a daemon sends at `fire`: the ISO week just ended (the daemon runs on the real
/// clock, so this is not always W48).
fn week_before(fire: chrono::DateTime<chrono::Utc>) -> String {
    let w = chrono::Datelike::iso_week(&(fire - chrono::Duration::days(7)));
    format!("{}-W{:02}", w.year(), w.week())
}

/// Waits until `status` shows the webhook delivery of the week a send at `fire` covers.
fn wait_until_sent(ws: &Workspace, fire: chrono::DateTime<chrono::Utc>, limit: Duration) {
    let want = format!("{} webhook  sent", week_before(fire));
    wait_for("the delivery to be recorded", limit, || {
        stdout(&ws.gleaner(&["status"])).contains(&want)
    });
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        pause(Duration::from_millis(100));
    }
}

#[test]
fn the_daemon_sends_once_per_scheduled_time_survives_kill_9_and_sends_a_missed_week_late() {
    let server = Server::start();
    // A send a few seconds away; the first attempt fails (500) and is retried after 1 s.
    let hook = Receiver::start(&[500, 200]);
    let fire = chrono::Utc::now() + chrono::Duration::seconds(4);
    let ws = workspace(
        &server,
        &format!(
            "[digest]\ncron = \"{}\"\nretry = \"1s\"\n[digest.webhook]\nurl = \"{}\"\ntimeout = \"3s\"\n",
            cron_at(fire),
            hook.url
        ),
    );
    let check = stdout(&ws.gleaner(&["check"]));
    assert!(check.contains("next send"), "{check}");
    let mut daemon = ws.start_daemon();
    wait_for("the send and its retry", Duration::from_secs(30), || {
        hook.requests().iter().any(|r| r.2 == 200)
    });
    assert!(chrono::Utc::now() >= fire);
    // Kill -9 right after the send was recorded, and start again: nothing more is sent.
    wait_until_sent(&ws, fire, Duration::from_secs(10));
    daemon.signal("KILL");
    let _ = daemon.child.wait();
    let mut again = ws.start_daemon();
    pause(Duration::from_secs(4));
    assert!(again.is_running(), "{}", again.log());
    let got = hook.requests();
    assert_eq!(
        got.iter().map(|r| r.2).collect::<Vec<_>>(),
        [500, 200],
        "one failure, its retry, nothing after a restart"
    );
    let log = daemon.log();
    assert!(log.contains("FAILED (attempt 1)"), "{log}");
    again.signal("TERM");
    let _ = again.child.wait();

    // Down over the send time: a daemon that ran before it, stopped, and started again after
    // it sends that week once, late.
    let late = Receiver::start(&[200]);
    let fire = chrono::Utc::now() + chrono::Duration::seconds(3);
    let ws2 = workspace(
        &server,
        &format!(
            "[digest]\ncron = \"{}\"\n[digest.webhook]\nurl = \"{}\"\n",
            cron_at(fire),
            late.url
        ),
    );
    let mut before = ws2.start_daemon();
    wait_for("the daemon to start", Duration::from_secs(10), || {
        before.log().contains("gleaner running")
    });
    before.signal("TERM");
    let _ = before.child.wait();
    assert!(chrono::Utc::now() < fire, "stopped before the send time");
    pause((fire - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(1));
    assert!(late.requests().is_empty());
    let mut after = ws2.start_daemon();
    wait_for("the late send", Duration::from_secs(20), || {
        !late.requests().is_empty()
    });
    pause(Duration::from_secs(3));
    assert_eq!(late.requests().len(), 1);
    after.signal("TERM");
    let _ = after.child.wait();

    // A new schedule whose time passed this week does not send at once: it waits for its next
    // time (a week away).
    let fresh = Receiver::start(&[200]);
    let ws3 = workspace(
        &server,
        &format!(
            "[digest]\ncron = \"{}\"\n[digest.webhook]\nurl = \"{}\"\n",
            cron_at(chrono::Utc::now() - chrono::Duration::seconds(30)),
            fresh.url
        ),
    );
    let mut d3 = ws3.start_daemon();
    wait_for("the daemon to start", Duration::from_secs(10), || {
        d3.log().contains("gleaner running")
    });
    pause(Duration::from_secs(2));
    assert!(fresh.requests().is_empty());
    d3.signal("TERM");
    let _ = d3.child.wait();
}

#[test]
fn sighup_before_during_and_after_a_send_neither_skips_nor_repeats_the_week() {
    let server = Server::start();
    // The receiver holds its answer for 2 s: a SIGHUP lands while the send is under way.
    let hook = Receiver::slow(&[200], Duration::from_secs(2));
    let fire = chrono::Utc::now() + chrono::Duration::seconds(5);
    let ws = workspace(
        &server,
        &format!(
            "[digest]\ncron = \"{}\"\n[digest.webhook]\nurl = \"{}\"\ntimeout = \"10s\"\n",
            cron_at(fire),
            hook.url
        ),
    );
    let mut daemon = ws.start_daemon();
    let reloads = |d: &crate::support::Daemon| d.log().matches("reloaded").count();
    wait_for("the daemon to start", Duration::from_secs(10), || {
        daemon.log().contains("gleaner running")
    });
    // Before the send time: the reload keeps the schedule.
    daemon.signal("HUP");
    wait_for("the first reload", Duration::from_secs(10), || {
        reloads(&daemon) == 1
    });
    assert!(chrono::Utc::now() < fire, "the first SIGHUP came too late");
    wait_for("the send to start", Duration::from_secs(20), || {
        !hook.requests().is_empty()
    });
    // During the send.
    daemon.signal("HUP");
    wait_for("the second reload", Duration::from_secs(10), || {
        reloads(&daemon) == 2
    });
    wait_until_sent(&ws, fire, Duration::from_secs(20));
    // After it.
    daemon.signal("HUP");
    wait_for("the third reload", Duration::from_secs(10), || {
        reloads(&daemon) == 3
    });
    pause(Duration::from_secs(3));
    assert!(daemon.is_running(), "{}", daemon.log());
    assert_eq!(
        hook.requests().len(),
        1,
        "one send across three reloads:\n{}",
        daemon.log()
    );
    daemon.signal("TERM");
    let _ = daemon.child.wait();
}
