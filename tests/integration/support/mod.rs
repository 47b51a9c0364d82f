//! Shared helpers: a loopback HTTP server, config files in temp dirs, running gleaner as a
//! library and as the real binary, an independent check for executable markup, the shared
//! corpora, checks on Atom output from outside gleaner, and headless Chromium as an oracle.

pub mod atom;
pub mod browser;
pub mod corpora;
pub mod markup;
pub mod server;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::Output;

use gleaner::config::Config;
use gleaner::ingest::{self, PollOptions};
use gleaner::model::StoryView;
use gleaner::model::{FeedResult, RoundReport};
use gleaner::store::{Store, StoryFilter};

pub use server::{Route, Server};

/// A temp dir with a config file in it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn config_path(&self) -> PathBuf {
        self.path("feeds.toml")
    }

    pub fn db_path(&self) -> PathBuf {
        self.path("gleaner.db")
    }

    /// Writes feeds.toml with `[fetch]` settings and `(name, url)` feeds. Every test feed
    /// lives on 127.0.0.1, so the per-host gap is off unless the test sets `host_delay`.
    pub fn write_config(&self, fetch: &str, feeds: &[(&str, &str)]) -> PathBuf {
        let mut defaults = String::new();
        if !fetch.contains("host_delay") {
            defaults.push_str("host_delay = \"0s\"\n");
        }
        if !fetch.contains("per_host") {
            defaults.push_str("per_host = 16\n");
        }
        let mut s = format!("[storage]\npath = \"gleaner.db\"\n[fetch]\n{defaults}{fetch}\n");
        for (name, url) in feeds {
            s.push_str(&format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
        }
        std::fs::write(self.config_path(), s).unwrap();
        self.config_path()
    }

    /// One `poll` pass through the library.
    pub async fn poll(&self) -> RoundReport {
        self.poll_with(PollOptions::default()).await
    }

    pub async fn poll_with(&self, opts: PollOptions) -> RoundReport {
        let config = Config::load(&self.config_path()).unwrap();
        let store = Store::open(&config.storage.path).await.unwrap();
        let fetcher = std::sync::Arc::new(ingest::Fetcher::new(&config.fetch).unwrap());
        let round = ingest::poll_once(&config, &store, &fetcher, chrono::Utc::now(), &opts, |_| {})
            .await
            .unwrap();
        store.close().await;
        round
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.db_path()).await.unwrap()
    }

    pub async fn stories(&self) -> Vec<StoryView> {
        let store = self.store().await;
        let s = store.stories(&StoryFilter::default()).await.unwrap();
        store.close().await;
        s
    }

    /// Writes feeds.toml verbatim.
    pub fn write_config_text(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// Starts `gleaner run` in this workspace; its stderr goes to `daemon-N.log`.
    pub fn start_daemon(&self) -> Daemon {
        self.start_daemon_under(None)
    }

    /// Starts `gleaner run` after the shell commands `setup` (e.g. `ulimit -S -f 512`), which
    /// then `exec`s it: the child's pid is gleaner's.
    pub fn start_daemon_under(&self, setup: Option<&str>) -> Daemon {
        let n = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("daemon-"))
            .count();
        let log = self.path(&format!("daemon-{n}.log"));
        let mut command = match setup {
            None => std::process::Command::new(env!("CARGO_BIN_EXE_gleaner")),
            Some(setup) => {
                let mut c = std::process::Command::new("sh");
                c.arg("-c")
                    .arg(format!("{setup} && exec \"$0\" \"$@\""))
                    .arg(env!("CARGO_BIN_EXE_gleaner"));
                c
            }
        };
        let child = command
            .arg("run")
            .current_dir(self.dir.path())
            .env("RUST_LOG", "gleaner=debug")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Daemon { child, log }
    }

    /// Runs the real binary in this workspace.
    pub fn gleaner(&self, args: &[&str]) -> Output {
        run_in(self.dir.path(), args)
    }
}

pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "off")
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The report line of the feed called `name`.
pub fn result_of<'a>(round: &'a RoundReport, name: &str) -> &'a FeedResult {
    &round
        .feeds
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no report for {name}"))
        .result
}

/// An RSS 2.0 document with `(guid, title, link, description)` items.
pub fn rss(title: &str, items: &[(&str, &str, &str, &str)]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>{title}</title><link>https://example.com/</link>\n"
    );
    for (guid, t, link, desc) in items {
        s.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{t}</title><link>{link}</link><description><![CDATA[{desc}]]></description><pubDate>Mon, 07 Apr 2014 09:00:00 GMT</pubDate></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

/// A `gleaner run` child process; killed with SIGKILL if a test forgets it.
pub struct Daemon {
    pub child: std::process::Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Sends a signal by name (`TERM`, `INT`, `HUP`, `KILL`).
    pub fn signal(&self, sig: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Waits for the process to exit, at most `limit`.
    pub async fn wait(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until `cond` holds, checking every 50 ms, at most `limit`; returns whether it held.
pub async fn eventually(limit: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    cond()
}
