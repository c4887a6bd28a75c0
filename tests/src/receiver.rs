//! A webhook receiver for the tests: a plain HTTP/1.1 server on loopback that answers each
//! request as its script says (a status, or holding the request open until released) and
//! keeps every request it received.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub enum Answer {
    Status(u16),
    /// `302` to `Location`.
    Redirect(&'static str),
    /// Reads the request, then holds the connection open without answering until
    /// [`Receiver::release`].
    Hold,
}

/// A request as received: its path, headers (lowercase names) and body.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    release: Arc<Notify>,
}

impl Receiver {
    /// Starts a receiver answering the n-th request with `script[n]`, and `200` once the
    /// script is over.
    pub async fn start(script: Vec<Answer>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let release = Arc::new(Notify::new());
        let (log, hold) = (received.clone(), release.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (log, hold, script) = (log.clone(), hold.clone(), script.clone());
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut socket).await else { return };
                    let n = {
                        let mut log = log.lock().expect("the log");
                        log.push(request);
                        log.len() - 1
                    };
                    let head = match script.get(n).cloned().unwrap_or(Answer::Status(200)) {
                        Answer::Status(code) => format!("HTTP/1.1 {code} Scripted\r\ncontent-length: 0\r\n"),
                        Answer::Redirect(to) => {
                            format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\n")
                        }
                        Answer::Hold => {
                            hold.notified().await;
                            return;
                        }
                    };
                    let _ = socket.write_all(format!("{head}connection: close\r\n\r\n").as_bytes()).await;
                });
            }
        });
        Receiver { addr, received, release }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("the log").clone()
    }

    /// Lets every held request end (without an answer).
    pub fn release(&self) {
        self.release.notify_waiters();
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split_whitespace().nth(1)?.to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Received { path, headers, body: String::from_utf8_lossy(&body).to_string() })
}
