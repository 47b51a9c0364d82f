//! A real HTTP/1.1 server on 127.0.0.1 for tests, written on raw TCP so that it can misbehave
//! on purpose (sleep, drip, stream forever, lie about lengths and encodings, reset the
//! connection). Each test starts its own. It can also listen on several loopback addresses
//! (127.0.0.2 … are distinct hosts on Linux), speak TLS with a fresh self-signed certificate,
//! and act as an HTTP proxy: a request in absolute form (`GET http://host/path`) is answered
//! from the routes by its path, as if the server were that host.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long any misbehaviour goes on at most, whether or not the client gave up: every loop
/// of this server ends by itself.
const MISBEHAVE_FOR: Duration = Duration::from_secs(60);

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
    /// Slowloris: the response (a valid feed) one byte every `every`; from the status line on,
    /// or, with `head_first`, after the whole head was sent at once.
    Drip {
        body: Vec<u8>,
        every: Duration,
        head_first: bool,
    },
    /// A complete head announcing a body, then silence.
    HeadOnly,
    /// `Transfer-Encoding: chunked`, 64 KB chunks without end.
    EndlessChunked,
    /// `body` sent with `Content-Length: declared` (larger: the connection closes short of it;
    /// smaller: the rest follows as if it belonged to the response).
    WrongLength { declared: usize, body: Vec<u8> },
    /// Sends the head and the first `after` bytes of `body`, waits, then resets the connection
    /// (SO_LINGER 0: an RST instead of a FIN).
    Reset { body: Vec<u8>, after: usize },
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

/// One request as the server saw it (after the TLS handshake, on a TLS server).
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    /// The request target as sent: absolute (`http://host/path`) when we were the proxy.
    pub target: String,
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
    /// TLS handshakes that failed, with the server side's error.
    tls_failures: Vec<String>,
    /// Connections accepted (TCP), for every listener.
    accepted: usize,
    /// Requests being answered now, and the most at any moment.
    in_flight_total: usize,
    max_in_flight_total: usize,
}

/// A running server; stops when the test process ends.
pub struct Server {
    pub addr: SocketAddr,
    /// Every address it listens on (`addr` first).
    pub addrs: Vec<SocketAddr>,
    scheme: &'static str,
    state: Arc<Mutex<State>>,
}

impl Server {
    /// Starts a server on an ephemeral loopback port, on its own thread and runtime, so that
    /// both async tests and tests that run the binary as a child process can use it.
    pub fn start() -> Server {
        Server::start_on(&[IpAddr::V4(Ipv4Addr::LOCALHOST)])
    }

    /// One server (one set of routes) listening on each of `ips`, each on its own port.
    pub fn start_on(ips: &[IpAddr]) -> Server {
        Server::spawn(ips, None)
    }

    /// A TLS server on 127.0.0.1 with a fresh self-signed certificate for `127.0.0.1` and
    /// `localhost`, which it returns (DER) so that a test can trust it on purpose.
    pub fn start_tls() -> (Server, Vec<u8>) {
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(names).unwrap();
        let cert_der = cert.der().to_vec();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone().into()], key)
        .unwrap();
        let server = Server::spawn(
            &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
        );
        (server, cert_der)
    }

    fn spawn(ips: &[IpAddr], tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
        let state = Arc::new(Mutex::new(State::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let st = state.clone();
        let ips = ips.to_vec();
        let scheme = if tls.is_some() { "https" } else { "http" };
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut addrs = Vec::new();
                for ip in ips {
                    let listener = TcpListener::bind((ip, 0)).await.unwrap();
                    addrs.push(listener.local_addr().unwrap());
                    let st = st.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        loop {
                            let Ok((sock, _)) = listener.accept().await else {
                                continue;
                            };
                            st.lock().unwrap().accepted += 1;
                            let st = st.clone();
                            let tls = tls.clone();
                            tokio::spawn(async move {
                                let _ = match tls {
                                    None => handle(sock, st).await,
                                    Some(acceptor) => match acceptor.accept(sock).await {
                                        Ok(stream) => handle(stream, st).await,
                                        Err(e) => {
                                            st.lock().unwrap().tls_failures.push(e.to_string());
                                            Ok(())
                                        }
                                    },
                                };
                            });
                        }
                    });
                }
                tx.send(addrs).unwrap();
                std::future::pending::<()>().await;
            });
        });
        let addrs = rx.recv().unwrap();
        Server {
            addr: addrs[0],
            addrs,
            scheme,
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    /// The URL of `path` on the `i`th address the server listens on.
    pub fn url_at(&self, i: usize, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addrs[i], path)
    }

    /// TLS handshakes that failed, with the server side's error, oldest first.
    pub fn tls_failures(&self) -> Vec<String> {
        self.state.lock().unwrap().tls_failures.clone()
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.state.lock().unwrap().accepted
    }

    /// The most requests this server was answering at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight_total
    }

    /// Every request seen, oldest first.
    pub fn all_seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
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

/// A connection the server answers on: plain TCP or TLS over it.
pub trait Wire: AsyncRead + AsyncWrite + Unpin + Send {
    /// The TCP socket underneath, to reset it.
    fn tcp(&self) -> &TcpStream;
}

impl Wire for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Wire for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

async fn handle<S: Wire>(mut sock: S, state: Arc<Mutex<State>>) -> std::io::Result<()> {
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
    let target = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    // Absolute form (RFC 9112 §3.2.2) is what a client sends to a proxy.
    let path = match target.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".to_string(),
        },
        None => target.clone(),
    };
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
        st.in_flight_total += 1;
        st.max_in_flight_total = st.max_in_flight_total.max(st.in_flight_total);
        st.seen.push(Seen {
            path: path.clone(),
            target,
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
    let mut st = state.lock().unwrap();
    *st.in_flight.entry(host).or_default() -= 1;
    st.in_flight_total -= 1;
    drop(st);
    result
}

async fn answer<S: Wire>(
    sock: &mut S,
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
        Route::Drip {
            body,
            every,
            head_first,
        } => {
            let head = head_of(200, &feed_type(), body.len());
            let (at_once, dripped) = if head_first {
                (head.into_bytes(), body)
            } else {
                (Vec::new(), [head.into_bytes(), body].concat())
            };
            sock.write_all(&at_once).await?;
            let started = std::time::Instant::now();
            for byte in dripped {
                if started.elapsed() > MISBEHAVE_FOR {
                    break;
                }
                sock.write_all(&[byte]).await?;
                sock.flush().await?;
                tokio::time::sleep(every).await;
            }
            Ok(())
        }
        Route::HeadOnly => {
            sock.write_all(head_of(200, &feed_type(), 4096).as_bytes())
                .await?;
            sock.flush().await?;
            tokio::time::sleep(MISBEHAVE_FOR).await;
            Ok(())
        }
        Route::EndlessChunked => {
            sock.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            )
            .await?;
            let opening = b"<rss version=\"2.0\"><channel><title>";
            sock.write_all(format!("{:x}\r\n", opening.len()).as_bytes())
                .await?;
            sock.write_all(opening).await?;
            sock.write_all(b"\r\n").await?;
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b'a', 64 * 1024));
            chunk.extend_from_slice(b"\r\n");
            let started = std::time::Instant::now();
            // Ends when the client hangs up (the write fails), or after MISBEHAVE_FOR.
            while started.elapsed() < MISBEHAVE_FOR {
                sock.write_all(&chunk).await?;
            }
            Ok(())
        }
        Route::WrongLength { declared, body } => {
            sock.write_all(head_of(200, &feed_type(), declared).as_bytes())
                .await?;
            sock.write_all(&body).await?;
            sock.flush().await?;
            sock.shutdown().await
        }
        Route::Reset { body, after } => {
            sock.write_all(head_of(200, &feed_type(), body.len()).as_bytes())
                .await?;
            sock.write_all(&body[..after.min(body.len())]).await?;
            sock.flush().await?;
            // Let the client read what was sent, so that the reset hits the body.
            tokio::time::sleep(Duration::from_secs(1)).await;
            sock.tcp().set_zero_linger()?;
            Ok(()) // dropping the socket now sends RST
        }
    }
}

fn feed_type() -> Vec<(String, String)> {
    vec![("Content-Type".into(), "application/rss+xml".into())]
}

fn head_of(status: u16, headers: &[(String, String)], content_length: usize) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {content_length}\r\nConnection: close\r\n",
        reason(status)
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head
}

async fn respond<S: Wire>(
    sock: &mut S,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    sock.write_all(head_of(status, headers, body.len()).as_bytes())
        .await?;
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
