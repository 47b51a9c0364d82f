//! Issue 7 end to end in a real browser: headless Chromium, driven over the DevTools protocol
//! (through `--remote-debugging-pipe`: fd 3 and 4, wired to named pipes by `sh`, so neither a
//! WebSocket client nor `unsafe` is needed), opens the candidates page of `gleaner serve` and
//! uses the keyboard — `j` to move, `p` to pick, `x` to reject, `e` to write a blurb, `s` to
//! snooze, `/` to filter — then opens the draft and publishes. The database and `out/curated.atom` must
//! reflect it; a screenshot of the page goes to the test's temp dir.
//!
//! Chromium reaches only loopback: every other request goes to a proxy on a closed port.

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::serve::Desk;
use crate::support::{Route, Server, Workspace, browser, rss, stderr};

/// A DevTools connection over the pipe pair, with one attached page session.
struct Cdp {
    to: std::fs::File,
    from: mpsc::Receiver<Value>,
    next: u64,
    session: Option<String>,
    child: std::process::Child,
}

impl Drop for Cdp {
    fn drop(&mut self) {
        // The renderers and helpers exit when the browser process is gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Cdp {
    fn launch(chromium: &std::path::Path, dir: &std::path::Path) -> Cdp {
        let (fifo_in, fifo_out) = (dir.join("cdp-in"), dir.join("cdp-out"));
        for f in [&fifo_in, &fifo_out] {
            assert!(Command::new("mkfifo").arg(f).status().unwrap().success());
        }
        let child = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" --headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check --disable-extensions --disable-background-networking --proxy-server=http://127.0.0.1:9 --window-size=1200,900 --user-data-dir=\"$3\" --remote-debugging-pipe about:blank 3<\"$1\" 4>\"$2\"")
            .arg(chromium)
            .arg(&fifo_in)
            .arg(&fifo_out)
            .arg(dir.join("profile"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Opening a FIFO blocks until its other end is opened: the shell opens them in order.
        let to = std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo_in)
            .unwrap();
        let from_file = std::fs::File::open(&fifo_out).unwrap();
        let (tx, from) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(from_file);
            let mut buf = Vec::new();
            while reader.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                buf.pop_if(|b| *b == 0);
                if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                    && tx.send(v).is_err()
                {
                    break;
                }
                buf.clear();
            }
        });
        Cdp {
            to,
            from,
            next: 0,
            session: None,
            child,
        }
    }

    /// Sends a command (to the page session once attached) and waits for its answer.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no answer to {method}"));
            if v["id"] == id {
                return match v.get("error") {
                    Some(e) => Err(e.clone()),
                    None => Ok(v["result"].clone()),
                };
            }
        }
    }

    fn attach(&mut self) {
        let target = self.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        self.session = Some(attached["sessionId"].as_str().unwrap().to_string());
    }

    fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true}),
        );
        r["result"]["value"].clone()
    }

    /// Waits until `js` evaluates to true (a page loaded after a navigation or a form post).
    fn wait_for(&mut self, js: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // Mid-navigation the evaluation may fail: try again.
            let expression =
                format!("(function(){{try{{return !!({js});}}catch(e){{return false;}}}})()");
            let r = self.try_call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            );
            if r.is_ok_and(|r| r["result"]["value"] == json!(true)) {
                return;
            }
            assert!(Instant::now() < deadline, "never true: {js}");
            // A pause that reads (and drops) the browser's events meanwhile; this runs on a
            // blocking thread, not on the runtime.
            let _ = self.from.recv_timeout(Duration::from_millis(100));
        }
    }

    fn key(&mut self, key: &str) {
        for kind in ["keyDown", "keyUp"] {
            let mut p = json!({"type": kind, "key": key});
            if kind == "keyDown" && key.chars().count() == 1 {
                p["text"] = json!(key);
            }
            if key == "Enter" {
                p["code"] = json!("Enter");
                p["windowsVirtualKeyCode"] = json!(13);
                if kind == "keyDown" {
                    p["text"] = json!("\r");
                }
            }
            self.call("Input.dispatchKeyEvent", p);
        }
    }

    fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({"text": text}));
    }
}

/// Standard base64, for the screenshot.
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &c)| {
            acc | (u32::from(value(c)) << (18 - 6 * i))
        });
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[tokio::test]
async fn the_editor_picks_rejects_writes_a_blurb_and_publishes_with_the_keyboard() {
    let Some(chromium) = browser::chromium() else {
        return;
    };
    let server = Server::start();
    let ws = Workspace::new();
    let date = (chrono::Utc::now() - chrono::Duration::hours(6)).to_rfc2822();
    let feed = rss(
        "Ops",
        &[
            (
                "a",
                "Kubernetes alpha",
                "https://blog.example/a",
                "<p>kubernetes kubernetes kubernetes</p>",
            ),
            (
                "b",
                "Kubernetes beta",
                "https://blog.example/b",
                "<p>kubernetes kubernetes</p>",
            ),
            (
                "c",
                "Kubernetes gamma",
                "https://blog.example/c",
                "<p>kubernetes</p>",
            ),
            (
                "d",
                "Kubernetes delta",
                "https://blog.example/d",
                "<p>kubernetes</p>",
            ),
        ],
    )
    .replace("Mon, 07 Apr 2014 09:00:00 GMT", &date);
    let url = server.route("/ops", Route::feed(feed));
    ws.write_config_text(&format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nhost_delay = \"0s\"\n\
         [keywords]\nkubernetes = 3\n[[feeds]]\nname = \"Ops\"\nurl = \"{url}\"\n"
    ));
    let out = ws.gleaner(&["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let desk = Desk::start(&ws);
    let base = desk.base.clone();
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("desk-candidates.png");
    let dir = ws.dir.path().to_path_buf();

    // The browser is driven from a blocking thread (the pipes are blocking files).
    let titles = tokio::task::spawn_blocking(move || {
        let mut cdp = Cdp::launch(&chromium, &dir);
        cdp.attach();
        cdp.call("Page.enable", json!({}));
        cdp.call("Page.navigate", json!({"url": format!("{base}/")}));
        let ready = "document.readyState === 'complete' && document.querySelectorAll('li.item').length";
        cdp.wait_for(&format!("{ready} === 4"));
        let first = |cdp: &mut Cdp| {
            cdp.eval("document.querySelector('li.item.sel .head a').textContent")
                .as_str()
                .unwrap()
                .to_string()
        };
        // `/` filters: nothing matches "zzz", everything matches again when it is cleared.
        cdp.key("/");
        cdp.type_text("zzz");
        cdp.wait_for("document.querySelectorAll('li.item:not([hidden])').length === 0");
        cdp.eval("(function(){var f=document.getElementById('filter'); f.value=''; f.dispatchEvent(new Event('input')); f.blur(); return true;})()");
        cdp.wait_for("document.querySelectorAll('li.item:not([hidden])').length === 4");

        let png = cdp.call("Page.captureScreenshot", json!({"format": "png"}));
        std::fs::write(&shot, base64_decode(png["data"].as_str().unwrap())).unwrap();
        eprintln!("screenshot: {}", shot.display());

        // j selects the first candidate; p picks it.
        cdp.key("j");
        let picked = first(&mut cdp);
        cdp.key("p");
        cdp.wait_for(&format!("{ready} === 4 && document.querySelectorAll('li.item.picked').length === 1"));
        // j, j: the second remaining candidate; k back to the first; x rejects it.
        cdp.key("j");
        cdp.key("j");
        cdp.key("k");
        let rejected = first(&mut cdp);
        cdp.key("x");
        // It leaves the candidates for the "Rejected" list, with its undo button.
        cdp.wait_for(&format!("{ready} === 3 && document.querySelectorAll('#rejected li.shelved form.undo').length === 1"));
        // e: the blurb field of the selection; Enter submits its pick form.
        cdp.key("j");
        let blurbed = first(&mut cdp);
        cdp.key("e");
        cdp.wait_for("document.activeElement.classList.contains('blurb')");
        cdp.type_text("Typed at the desk.");
        cdp.key("Enter");
        cdp.wait_for(&format!("{ready} === 3 && document.querySelectorAll('li.item.picked').length === 2"));
        // s snoozes the last candidate (a week): it moves to the "Snoozed" list.
        cdp.key("j");
        let snoozed = first(&mut cdp);
        cdp.key("s");
        cdp.wait_for(&format!("{ready} === 2 && document.querySelectorAll('#snoozed li.shelved').length === 1"));
        assert!(
            cdp.eval("document.querySelector('#snoozed li.shelved .head a').textContent")
                .as_str()
                .is_some_and(|t| t == snoozed),
            "{snoozed} is the snoozed one"
        );
        // The page with its picks and shelved lists, for a look.
        cdp.eval("document.getElementById('picked').scrollIntoView(), true");
        let png = cdp.call("Page.captureScreenshot", json!({"format": "png"}));
        let after = shot.with_file_name("desk-shelved.png");
        std::fs::write(&after, base64_decode(png["data"].as_str().unwrap())).unwrap();
        eprintln!("screenshot: {}", after.display());

        // The draft, then Publish (a plain form post).
        cdp.call("Page.navigate", json!({"url": format!("{base}/draft")}));
        cdp.wait_for("document.readyState === 'complete' && document.getElementById('draft-md') && document.getElementById('draft-md').textContent.indexOf('Typed at the desk.') >= 0");
        cdp.eval("document.querySelector('form[action=\"/publish\"] button').click(), true");
        cdp.wait_for("document.readyState === 'complete' && document.querySelector('h1') && document.querySelector('h1').textContent === 'Issue 1 published'");
        (picked, rejected, blurbed, snoozed)
    })
    .await
    .unwrap();
    let (picked, rejected, blurbed, snoozed) = titles;
    assert_ne!(picked, rejected);
    assert_ne!(blurbed, picked);

    let store = ws.store().await;
    let rows: Vec<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT s.title, d.decision, d.blurb, d.issue FROM decisions d JOIN stories s ON s.id = d.story_id ORDER BY s.title",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let asleep: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s.title, z.until - z.at FROM snoozes z JOIN stories s ON s.id = z.story_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    store.close().await;
    assert_eq!(asleep, vec![(snoozed.clone(), 7 * 86_400)]);
    let of = |t: &str| {
        rows.iter()
            .find(|r| r.0 == t)
            .unwrap_or_else(|| panic!("{t}: {rows:?}"))
    };
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(of(&picked).1, "pick");
    assert_eq!(of(&picked).3, Some(1));
    assert_eq!(of(&rejected).1, "reject");
    assert_eq!(
        (
            of(&blurbed).1.as_str(),
            of(&blurbed).2.as_deref(),
            of(&blurbed).3
        ),
        ("pick", Some("Typed at the desk."), Some(1))
    );
    let atom = std::fs::read_to_string(ws.path("out/curated.atom")).unwrap();
    assert!(atom.contains("Typed at the desk."), "{atom}");
    assert!(
        atom.contains(&picked) && !atom.contains(&rejected),
        "{atom}"
    );
    drop(desk);
}
