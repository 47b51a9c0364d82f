//! Headless Chromium as a test oracle: does a page run anything? A loopback server serves each
//! page with a strict Content-Security-Policy (a fresh nonce per server, `report-uri /csp`) and
//! injects `<script nonce=… src=/check.js>` as the first element of `<head>`, so nothing on the
//! page can precede or swallow it; `browser_check.js` listens for CSP violations and walks the
//! DOM the browser built. Its report comes back hex-encoded in an element it creates, read from
//! `chromium --dump-dom`: nothing is ever inlined into the page, so no markup can break out of
//! it (an earlier harness embedded its results in an inline script and a vector ended it). A
//! page that replaced itself (a meta refresh) is a `navigated-away` finding; a page of ours that
//! never reported fails the test.
//!
//! Markup that must be judged piece by piece (the raw vectors of the control) goes on a page of
//! harness frames, one piece per frame, each frame a page of its own that sends its report to
//! the page of frames.
//!
//! Chromium comes from `GLEANER_CHROMIUM` or `/usr/bin/chromium`. Without one the check is
//! skipped with a note, unless `GLEANER_REQUIRE_CHROMIUM` is set (CI sets it). Each run gets a
//! fresh profile; host names do not resolve and every request, loopback included, goes through
//! this server as the browser's proxy, which serves its own pages and refuses (and counts)
//! everything else; a browser that overruns its time is killed with its process group.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHECKER: &str = include_str!("browser_check.js");

/// Hosts whose https embeds the sanitizer keeps (as sandboxed iframes): frames may load them.
const EMBED_HOSTS: &str = "https://www.youtube.com https://www.youtube-nocookie.com https://youtube.com https://player.vimeo.com https://www.dailymotion.com https://w.soundcloud.com https://player.twitch.tv https://www.slideshare.net https://speakerdeck.com";

/// The browser binary, when there is one.
pub fn chromium() -> Option<PathBuf> {
    let bin = std::env::var_os("GLEANER_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if bin.is_file() {
        return Some(bin);
    }
    assert!(
        std::env::var_os("GLEANER_REQUIRE_CHROMIUM").is_none(),
        "GLEANER_REQUIRE_CHROMIUM is set but there is no browser at {} (set GLEANER_CHROMIUM)",
        bin.display()
    );
    eprintln!(
        "browser check skipped: no Chromium at {} (apt-get install chromium, or set GLEANER_CHROMIUM)",
        bin.display()
    );
    None
}

/// A random hex string: nonces, container tokens and the report's element id must be
/// unguessable to markup written before the run.
fn random_hex(bytes: usize) -> String {
    let mut s = String::new();
    for _ in 0..bytes {
        let _ = write!(s, "{:02x}", fastrand::u8(..));
    }
    s
}

/// One page the server serves.
#[derive(Clone)]
struct Page {
    html: String,
    /// A page of harness frames (`frames_page`): it may frame its own origin.
    frames: bool,
}

#[derive(Default)]
struct State {
    pages: HashMap<String, Page>,
    /// Bodies POSTed to `/csp` by the browser (`report-uri`).
    csp_reports: Vec<String>,
    /// Requests that tried to leave loopback (through us as the proxy); all refused.
    off_box: Vec<String>,
}

/// What the checker found on one page.
#[derive(Debug, Deserialize)]
pub struct Report {
    pub checker: String,
    pub url: String,
    /// Written after late violations were waited for (not only at load).
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Elements walked.
    pub walked: usize,
    /// Every CSP violation, benign (images, styles) included.
    pub csp_seen: usize,
    pub findings: Vec<Finding>,
    /// `data-id`s of the harness's containers, in document order.
    #[serde(default)]
    pub containers: Vec<String>,
    /// On a page of harness frames: each frame's own report (None: it never reported).
    #[serde(default)]
    pub frames: Vec<FrameReport>,
    /// On a page of harness frames: navigations of a frame away from its piece (a meta refresh)
    /// that the page's CSP blocked.
    #[serde(default)]
    pub frame_navigations_blocked: usize,
}

impl Report {
    fn navigated_away(url: &str, dom: &str) -> Report {
        Report {
            checker: "gleaner".into(),
            url: url.into(),
            is_final: true,
            walked: 1,
            csp_seen: 0,
            findings: vec![Finding {
                kind: "navigated-away".into(),
                el: None,
                container: None,
                attr: None,
                value: None,
                proto: None,
                dir: None,
                blocked: None,
                sample: None,
                snippet: Some(dom.chars().take(240).collect()),
            }],
            containers: Vec::new(),
            frames: Vec::new(),
            frame_navigations_blocked: 0,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct FrameReport {
    pub id: String,
    pub report: Option<serde_json::Value>,
    /// The frame's document was replaced after it reported at load (its piece navigated it).
    #[serde(default)]
    pub navigated_away: bool,
}

/// One thing on a page that could run script.
#[derive(Debug, Deserialize, Clone)]
pub struct Finding {
    /// `csp`, `element`, `handler-attr`, `dangerous-url`, `dangerous-style`, `srcdoc`,
    /// `unsandboxed-frame`, `shadow-root`, `navigated-away`.
    pub kind: String,
    pub el: Option<String>,
    /// The harness container it sits in (a story id, a vector index), else the list item.
    pub container: Option<String>,
    pub attr: Option<String>,
    pub value: Option<String>,
    pub proto: Option<String>,
    pub dir: Option<String>,
    pub blocked: Option<String>,
    pub sample: Option<String>,
    pub snippet: Option<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind)?;
        for (k, v) in [
            ("el", &self.el),
            ("attr", &self.attr),
            ("proto", &self.proto),
            ("value", &self.value),
            ("dir", &self.dir),
            ("blocked", &self.blocked),
            ("sample", &self.sample),
            ("in", &self.container),
            ("html", &self.snippet),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                write!(f, " {k}={v:?}")?;
            }
        }
        Ok(())
    }
}

/// The loopback server pages are checked on; one per test, on its own thread and runtime.
pub struct BrowserServer {
    pub addr: SocketAddr,
    /// Marks the harness's own containers (`data-k`) and frames (`data-h`).
    pub token: String,
    result_id: String,
    state: Arc<Mutex<State>>,
}

impl BrowserServer {
    pub fn start() -> BrowserServer {
        let state = Arc::new(Mutex::new(State::default()));
        let (nonce, token, result_id) = (
            random_hex(16),
            random_hex(12),
            format!("r{}", random_hex(12)),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let cfg = Served {
            addr,
            nonce,
            token: token.clone(),
            result_id: result_id.clone(),
            state: state.clone(),
        };
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let cfg = Arc::new(cfg);
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        continue;
                    };
                    let cfg = cfg.clone();
                    tokio::spawn(async move {
                        let _ = handle(sock, &cfg).await;
                    });
                }
            });
        });
        BrowserServer {
            addr,
            token,
            result_id,
            state,
        }
    }

    /// Serves `html` at `path` (the checker is injected when it is requested).
    pub fn page(&self, path: &str, html: String) -> String {
        self.put(path, html, false)
    }

    /// Serves, at `path`, a page of one harness frame per `(id, markup)`: each piece is the body
    /// of a page of its own at `path/N` (in a container), so that one piece can neither swallow
    /// nor clobber another and every finding belongs to exactly one piece. Chromium allows
    /// 1,000 frames per page, nested ones included: keep batches well below.
    pub fn frames_page(&self, path: &str, pieces: &[(String, String)]) -> String {
        let pages: Vec<(String, String)> = pieces
            .iter()
            .map(|(id, markup)| {
                let body = self.containers(&[(id.clone(), markup.clone())]);
                (id.clone(), standalone("piece", &body))
            })
            .collect();
        self.frames_of_pages(path, &pages)
    }

    /// Serves, at `path`, a page of one harness frame per `(id, page)`, each page served as it
    /// is at `path/N`. Framed, a page cannot navigate itself away off loopback (the frame page's
    /// CSP blocks it), so its checker always gets to report.
    pub fn frames_of_pages(&self, path: &str, pages: &[(String, String)]) -> String {
        let mut top = String::from(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>frames</title></head><body>\n",
        );
        for (n, (id, html)) in pages.iter().enumerate() {
            let sub = format!("{path}/{n}");
            let _ = writeln!(
                top,
                "<iframe data-h=\"{}\" data-id=\"{}\" src=\"{sub}\" width=\"300\" height=\"60\"></iframe>",
                self.token,
                esc(id),
            );
            self.put(&sub, html.clone(), false);
        }
        top.push_str("</body></html>\n");
        self.put(path, top, true)
    }

    fn put(&self, path: &str, html: String, frames: bool) -> String {
        self.state
            .lock()
            .unwrap()
            .pages
            .insert(path.to_string(), Page { html, frames });
        format!("http://{}{}", self.addr, path)
    }

    /// Wraps `(id, html)` pieces in the harness's containers, for one page.
    pub fn containers(&self, pieces: &[(String, String)]) -> String {
        let mut s = String::new();
        for (id, html) in pieces {
            let _ = writeln!(
                s,
                "<article data-k=\"{}\" data-id=\"{}\">{html}</article>",
                self.token,
                esc(id)
            );
        }
        s
    }

    /// CSP reports the browser POSTed so far.
    pub fn csp_reports(&self) -> Vec<String> {
        self.state.lock().unwrap().csp_reports.clone()
    }

    /// Requests that tried to leave loopback so far (all refused).
    pub fn off_box_requests(&self) -> Vec<String> {
        self.state.lock().unwrap().off_box.clone()
    }

    /// [`check`](Self::check) for several pages, `parallel` browsers at a time; reports in the
    /// order of `urls`.
    pub async fn check_all(
        &self,
        chromium: &Path,
        urls: &[String],
        parallel: usize,
        limit: Duration,
    ) -> Vec<Report> {
        use futures_util::StreamExt;
        futures_util::stream::iter(urls)
            .map(|u| self.check(chromium, u, limit))
            .buffered(parallel)
            .collect()
            .await
    }

    /// Loads `url` in a fresh headless Chromium and returns the checker's report: a
    /// `navigated-away` finding when the page replaced itself. Panics (fails closed) when the
    /// browser overruns `limit` or fails, or the checker never reported.
    pub async fn check(&self, chromium: &Path, url: &str, limit: Duration) -> Report {
        let profile = tempfile::tempdir().unwrap();
        let dump = profile.path().join("dom.html");
        let log = profile.path().join("chromium.log");
        let mut cmd = std::process::Command::new(chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-sync",
            "--disable-component-update",
            "--mute-audio",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        // No network: names do not resolve, and every request goes to us as its proxy (loopback
        // included), where ours are served and anything else is refused and counted.
        .arg("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
        .arg(format!("--proxy-server=http://{}", self.addr))
        .arg("--proxy-bypass-list=<-loopback>")
        // Virtual time runs the page's timers without waiting for them in real time; the
        // checker waits 0.5 s of it for late violations (frames pages up to 20 s).
        .arg("--virtual-time-budget=30000")
        .arg("--dump-dom")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&dump).unwrap())
        .stderr(std::fs::File::create(&log).unwrap());
        // Its own process group, so that a timeout kills the renderers with it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = std::process::Command::new("kill")
                    .arg("-KILL")
                    .arg(format!("-{}", child.id()))
                    .status();
                let _ = child.wait();
                panic!(
                    "chromium overran {limit:?} on {url}; its log:\n{}",
                    tail(&std::fs::read_to_string(&log).unwrap_or_default())
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let dom = std::fs::read_to_string(&dump).unwrap_or_default();
        if status.success() && !dom.contains("src=\"/check.js?frames=") && !dom.is_empty() {
            // Not our document any more: something on the page navigated it away (a meta
            // refresh), which is a finding of its own.
            return Report::navigated_away(url, &dom);
        }
        let report = self.report_in(&dom).unwrap_or_else(|e| {
            panic!(
                "no checker report from {url} ({e}; chromium {status}); its log:\n{}\nthe DOM began:\n{}",
                tail(&std::fs::read_to_string(&log).unwrap_or_default()),
                dom.chars().take(2000).collect::<String>()
            )
        });
        assert_eq!(report.checker, "gleaner");
        assert!(report.walked > 0, "the checker walked no elements on {url}");
        eprintln!(
            "chromium: {url} checked in {:.1}s",
            (Instant::now() + limit - deadline).as_secs_f64()
        );
        report
    }

    /// The report the checker wrote into `<pre id=RESULT>` as hex.
    fn report_in(&self, dom: &str) -> Result<Report, String> {
        let marker = format!("<pre id=\"{}\">", self.result_id);
        let mut found = dom.match_indices(&marker);
        let (at, _) = found.next().ok_or("no report element")?;
        if found.next().is_some() {
            return Err("two report elements".into());
        }
        let hex: String = dom[at + marker.len()..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        if !dom[at + marker.len() + hex.len()..].starts_with("</pre>") || hex.len() % 2 == 1 {
            return Err("a malformed report element".into());
        }
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        serde_json::from_slice(&bytes).map_err(|e| format!("an unreadable report: {e}"))
    }
}

/// A minimal standalone page around `body` (the checker goes first in its head).
pub fn standalone(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n{body}</body></html>\n",
        esc(title)
    )
}

/// Escapes text for an HTML attribute value or text node (the harness's own markup only).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.contains("dbus")).collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Findings of one harness frame's report (None: the frame never reported, which counts).
pub fn frame_findings(frame: &FrameReport) -> Option<Vec<Finding>> {
    let report = frame.report.as_ref()?;
    let mut findings: Vec<Finding> =
        serde_json::from_value(report.get("findings")?.clone()).ok()?;
    if frame.navigated_away {
        findings.push(Report::navigated_away("", "").findings.remove(0));
    }
    Some(findings)
}

struct Served {
    addr: SocketAddr,
    nonce: String,
    token: String,
    result_id: String,
    state: Arc<Mutex<State>>,
}

impl Served {
    fn csp(&self, frames: bool) -> String {
        let frame_src = if frames {
            "'self'".to_string()
        } else {
            EMBED_HOSTS.to_string()
        };
        format!(
            "default-src 'none'; script-src 'nonce-{}' 'report-sample'; img-src * data: blob:; \
             media-src * data: blob:; font-src * data:; style-src 'unsafe-inline' 'report-sample'; \
             frame-src {frame_src}; base-uri 'none'; form-action 'none'; report-uri /csp",
            self.nonce
        )
    }

    /// The page with the checker as the first element of its `<head>`.
    fn inject(&self, html: &str, frames: bool) -> Option<String> {
        let lower = html.to_ascii_lowercase();
        let head = lower.find("<head>")? + "<head>".len();
        // The opening tag of the real head: nothing but a doctype, comments and <html …> before.
        let before = &lower[..head];
        if before.matches('<').count() > 3 {
            return None;
        }
        Some(format!(
            "{}<script nonce=\"{}\" src=\"/check.js?frames={}\"></script>{}",
            &html[..head],
            self.nonce,
            u8::from(frames),
            &html[head..]
        ))
    }
}

async fn handle(mut sock: TcpStream, cfg: &Served) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 || buf.len() > 256 * 1024 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request = lines.next().unwrap_or_default().split(' ');
    let method = request.next().unwrap_or_default().to_string();
    let mut target = request.next().unwrap_or("/").to_string();
    let length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);

    // Chromium uses us as its proxy for everything: serve what is ours, refuse and count the
    // rest.
    if let Some(path) = target.strip_prefix(&format!("http://{}", cfg.addr)) {
        target = if path.is_empty() {
            "/".into()
        } else {
            path.to_string()
        };
    }
    if method == "CONNECT" || !target.starts_with('/') {
        cfg.state
            .lock()
            .unwrap()
            .off_box
            .push(format!("{method} {target}"));
        return respond(&mut sock, 403, &[], b"").await;
    }
    if method == "POST" && target == "/csp" {
        let mut body = buf[head_end..].to_vec();
        while body.len() < length.min(1 << 20) {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        cfg.state
            .lock()
            .unwrap()
            .csp_reports
            .push(String::from_utf8_lossy(&body).into_owned());
        return respond(&mut sock, 204, &[], b"").await;
    }
    if let Some(query) = target.strip_prefix("/check.js?") {
        let frames = query == "frames=1";
        let js = format!(
            "const CFG = {};\n{CHECKER}",
            serde_json::json!({"result": cfg.result_id, "token": cfg.token, "frames": frames})
        );
        // Cacheable: a page of 300 frames then compiles it once, not 300 times.
        let h = [
            ("Content-Type", "text/javascript; charset=utf-8".to_string()),
            ("Cache-Control", "max-age=3600".to_string()),
        ];
        return respond(&mut sock, 200, &h, js.as_bytes()).await;
    }
    let page = cfg.state.lock().unwrap().pages.get(&target).cloned();
    let Some(page) = page else {
        return respond(&mut sock, 404, &[], b"not found").await;
    };
    let Some(html) = cfg.inject(&page.html, page.frames) else {
        // A page the checker cannot be put first in is not checked: fail loudly.
        return respond(&mut sock, 500, &[], b"no <head> to put the checker in").await;
    };
    let h = [
        ("Content-Type", "text/html; charset=utf-8".to_string()),
        ("Content-Security-Policy", cfg.csp(page.frames)),
        ("Cache-Control", "no-store".to_string()),
    ];
    respond(&mut sock, 200, &h, html.as_bytes()).await
}

async fn respond(
    sock: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body).await?;
    sock.shutdown().await
}
