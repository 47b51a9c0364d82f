//! A real HTTP/1.1 server on 127.0.0.1 for tests, written on raw TCP so that it can misbehave
//! on purpose (sleep, stream forever, lie about encodings). Each test starts its own.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub enum Route {
    /// A feed with optional validators; a matching If-None-Match / If-Modified-Since gets 304.
    Feed {
        body: Vec<u8>,
        content_type: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// Any status, headers and body.
    Raw {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A redirect.
    Redirect { status: u16, location: String },
    /// Accepts the request and never answers.
    Hang,
    /// A body of this many bytes, streamed; with or without Content-Length.
    Huge { bytes: usize, declare_length: bool },
    /// A feed answered after a delay.
    Slow { delay: Duration, body: Vec<u8> },
    /// An RSS feed that gains `per_request` new items at every request (item ids are global
    /// and unique to the path), so every fetch stores something new.
    Growing { per_request: usize },
}

impl Route {
    pub fn feed(body: impl Into<Vec<u8>>) -> Route {
        Route::Feed {
            body: body.into(),
            content_type: "application/rss+xml".into(),
            etag: None,
            last_modified: None,
        }
    }

    pub fn typed(body: impl Into<Vec<u8>>, content_type: &str) -> Route {
        Route::Feed {
            body: body.into(),
            content_type: content_type.into(),
            etag: None,
            last_modified: None,
        }
    }

    pub fn status(status: u16, body: &str) -> Route {
        Route::Raw {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
    /// When the request arrived.
    pub at: std::time::Instant,
    /// Requests (this one included) in flight to the same Host header at arrival.
    pub concurrent_for_host: usize,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    seen: Vec<Seen>,
    in_flight: HashMap<String, usize>,
    growth: HashMap<String, usize>,
}

/// A running server; stops when the test process ends.
pub struct Server {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Server {
    /// Starts a server on an ephemeral loopback port, on its own thread and runtime, so that
    /// both async tests and tests that run the binary as a child process can use it.
    pub fn start() -> Server {
        let state = Arc::new(Mutex::new(State::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        continue;
                    };
                    let st = st.clone();
                    tokio::spawn(async move {
                        let _ = handle(sock, st).await;
                    });
                }
            });
        });
        let addr = rx.recv().unwrap();
        Server { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn route(&self, path: &str, route: Route) -> String {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), route);
        self.url(path)
    }

    /// Requests seen on `path`, oldest first.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.state
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }
}

async fn handle(mut sock: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut chunk).await?;
        if n == 0 || buf.len() > 64 * 1024 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let headers: HashMap<String, String> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let host = headers.get("host").cloned().unwrap_or_default();
    let (route, served) = {
        let mut st = state.lock().unwrap();
        let n = st.in_flight.entry(host.clone()).or_default();
        *n += 1;
        let concurrent_for_host = *n;
        st.seen.push(Seen {
            path: path.clone(),
            headers: headers.clone(),
            at: std::time::Instant::now(),
            concurrent_for_host,
        });
        let route = st.routes.get(&path).cloned();
        let served = if let Some(Route::Growing { per_request }) = &route {
            let g = st.growth.entry(path.clone()).or_default();
            *g += per_request;
            *g
        } else {
            0
        };
        (route, served)
    };
    let result = answer(&mut sock, &path, &headers, route, served).await;
    *state.lock().unwrap().in_flight.entry(host).or_default() -= 1;
    result
}

async fn answer(
    sock: &mut TcpStream,
    path: &str,
    headers: &HashMap<String, String>,
    route: Option<Route>,
    served: usize,
) -> std::io::Result<()> {
    let Some(route) = route else {
        return respond(sock, 404, &[], b"not found").await;
    };
    match route {
        Route::Feed {
            body,
            content_type,
            etag,
            last_modified,
        } => {
            let etag_match = etag.is_some() && headers.get("if-none-match") == etag.as_ref();
            let lm_match = etag.is_none()
                && last_modified.is_some()
                && headers.get("if-modified-since") == last_modified.as_ref();
            let mut h = vec![("Content-Type".to_string(), content_type)];
            if let Some(e) = etag {
                h.push(("ETag".into(), e));
            }
            if let Some(l) = last_modified {
                h.push(("Last-Modified".into(), l));
            }
            if etag_match || lm_match {
                respond(sock, 304, &h, b"").await
            } else {
                respond(sock, 200, &h, &body).await
            }
        }
        Route::Raw {
            status,
            headers,
            body,
        } => respond(sock, status, &headers, &body).await,
        Route::Redirect { status, location } => {
            respond(sock, status, &[("Location".into(), location)], b"").await
        }
        Route::Hang => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            Ok(())
        }
        Route::Slow { delay, body } => {
            tokio::time::sleep(delay).await;
            respond(
                sock,
                200,
                &[("Content-Type".into(), "application/rss+xml".into())],
                &body,
            )
            .await
        }
        Route::Growing { .. } => {
            let mut doc = String::from("<rss version=\"2.0\"><channel><title>Growing</title>");
            // The newest 50 items, as a real feed would show.
            for i in served.saturating_sub(50)..served {
                doc.push_str(&format!(
                    "<item><guid>{path}-{i}</guid><title>Item {i} of {path}</title><link>https://grow.example{path}/{i}</link><description>body {i}</description></item>"
                ));
            }
            doc.push_str("</channel></rss>");
            respond(
                sock,
                200,
                &[("Content-Type".into(), "application/rss+xml".into())],
                doc.as_bytes(),
            )
            .await
        }
        Route::Huge {
            bytes,
            declare_length,
        } => {
            let mut head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n"
                    .to_string();
            if declare_length {
                head.push_str(&format!("Content-Length: {bytes}\r\n"));
            }
            head.push_str("\r\n");
            sock.write_all(head.as_bytes()).await?;
            sock.write_all(b"<rss version=\"2.0\"><channel><title>")
                .await?;
            let block = vec![b'a'; 64 * 1024];
            let mut sent = 0;
            while sent < bytes {
                sock.write_all(&block).await?;
                sent += block.len();
            }
            Ok(())
        }
    }
}

async fn respond(
    sock: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body).await?;
    sock.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        308 => "Permanent Redirect",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
