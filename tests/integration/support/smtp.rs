//! A real SMTP server on 127.0.0.1 for the digest tests: `smtp_server.py` (Python's aiosmtpd)
//! started per test, and the messages it received as a mail client reads them. Skipped with a
//! note when aiosmtpd is missing, unless GLEANER_REQUIRE_SMTP=1 (CI sets it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Workspace;

/// Whether aiosmtpd is there (a test without it returns early, with a note).
pub fn smtp_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("GLEANER_REQUIRE_SMTP").as_deref() != Ok("1"),
            "aiosmtpd is required (GLEANER_REQUIRE_SMTP=1): pip install aiosmtpd"
        );
        eprintln!("skipped: python3 -m pip install aiosmtpd to run the SMTP tests");
    }
    ok
}

/// A real SMTP server (tests/integration/smtp_server.py) on 127.0.0.1.
pub struct Smtp {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Smtp {
    pub fn start(ws: &Workspace, name: &str, extra: &[&str]) -> Smtp {
        let dir = ws.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        let port_file = ws.path(&format!("{name}.port"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/smtp_server.py");
        let child = Command::new("python3")
            .arg(script)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--dir")
            .arg(&dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(ws.path(&format!("{name}.log"))).unwrap())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p.trim().parse().unwrap();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the SMTP server did not start"
            );
            #[allow(clippy::disallowed_methods)] // a plain thread waiting for a child process
            std::thread::sleep(Duration::from_millis(50));
        };
        Smtp { child, port, dir }
    }

    /// The messages received, as a mail client reads them.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut out: Vec<(u32, serde_json::Value)> = std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let n: u32 = name.strip_suffix(".eml")?.parse().ok()?;
                let json = std::fs::read_to_string(self.dir.join(format!("{n}.json"))).ok()?;
                Some((n, serde_json::from_str(&json).unwrap()))
            })
            .collect();
        out.sort_by_key(|(n, _)| *n);
        out.into_iter().map(|(_, v)| v).collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
