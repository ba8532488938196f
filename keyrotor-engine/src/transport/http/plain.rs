//! `http://` targets over HTTP/1.1 keep-alive connections, in the way of wrk: each attempt
//! takes an idle connection (or opens one), writes its request in one call and reads the
//! answer in the same task. No per-connection task and no channel sit between the socket and
//! the caller, so an attempt costs one task wake-up, which is what lets the driver keep pace
//! with wrk on the same endpoint.
//!
//! A connection idle for [`IDLE_LIMIT`] is closed rather than reused: a server closes an idle
//! connection after its keep-alive timeout (Node's default is 5 s, the mock's 10 s), and a
//! request written just as it does so is lost, a failure the target never caused.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{self, Body, WireError};
use super::{Reply, Timeouts, TransportError};
use crate::keys::ApiKey;

/// Idle connections kept beyond this many are closed.
const MAX_IDLE: usize = 1024;
/// Room made in a connection's buffer before each read.
const READ_CHUNK: usize = 8 * 1024;
/// Longest a connection is kept idle for reuse: below the keep-alive timeouts servers use.
pub const IDLE_LIMIT: Duration = Duration::from_secs(4);

/// One keep-alive connection, the bytes read from it that no answer has taken yet, and
/// since when it has been idle.
struct Connection {
    stream: TcpStream,
    unread: Vec<u8>,
    idle_since: Instant,
}

/// The endpoint's address and request line, and the idle connections.
pub(super) struct Plain {
    /// `host:port` to connect to.
    addr: String,
    /// The `Host` header.
    host: String,
    /// Path and query of the chat endpoint.
    path: String,
    timeouts: Timeouts,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plain")
            .field("addr", &self.addr)
            .field("path", &self.path)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl Plain {
    pub(super) fn new(url: &reqwest::Url, timeouts: Timeouts) -> Result<Self, TransportError> {
        let bad = |why: &str| TransportError::Connection(format!("bad base URL `{url}`: {why}"));
        let host = url.host_str().ok_or_else(|| bad("no host"))?;
        let port = url.port_or_known_default().unwrap_or(80);
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        if !wire::is_header_safe(&authority) || !wire::is_header_safe(&path) {
            return Err(bad("it cannot be written into a request head"));
        }
        Ok(Self {
            addr: format!("{host}:{port}"),
            host: authority,
            path,
            timeouts,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// One attempt, bounded as a whole by the request timeout (connecting included).
    pub(super) async fn send(&self, key: &ApiKey, body: Bytes) -> Result<Reply, TransportError> {
        tokio::time::timeout(self.timeouts.request, self.exchange(key, &body))
            .await
            .unwrap_or(Err(TransportError::Timeout))
    }

    async fn exchange(&self, key: &ApiKey, body: &[u8]) -> Result<Reply, TransportError> {
        let authorization = format!("Bearer {}", key.expose());
        if !wire::is_header_safe(&authorization) {
            return Err(TransportError::Connection(format!(
                "key {} cannot be written into a header",
                key.fingerprint()
            )));
        }
        let mut request = Vec::with_capacity(256 + body.len());
        wire::encode_request(&mut request, &self.path, &self.host, &authorization, body);

        let mut connection = match self.take_idle() {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        connection
            .stream
            .write_all(&request)
            .await
            .map_err(|e| TransportError::Connection(format!("sending the request: {e}")))?;
        let answer = loop {
            if let Some(answer) =
                wire::parse_answer(&connection.unread, false).map_err(wire_error)?
            {
                break answer;
            }
            connection.unread.reserve(READ_CHUNK);
            let read = connection
                .stream
                .read_buf(&mut connection.unread)
                .await
                .map_err(|e| TransportError::Connection(format!("reading the answer: {e}")))?;
            if read == 0 {
                match wire::parse_answer(&connection.unread, true).map_err(wire_error)? {
                    Some(answer) => break answer,
                    None => return Err(wire_error(WireError::Truncated)),
                }
            }
        };
        let body = match answer.body {
            Body::Within(range) => Bytes::copy_from_slice(&connection.unread[range]),
            Body::Dechunked(data) => Bytes::from(data),
        };
        connection.unread.drain(..answer.consumed);
        if answer.keep_alive {
            self.put_back(connection);
        }
        Ok(Reply {
            status: answer.status,
            headers: answer.headers,
            body,
        })
    }

    /// An idle connection the server has not closed, if there is one. The newest is taken:
    /// when it has been idle for [`IDLE_LIMIT`], so have all the others, and all are closed.
    fn take_idle(&self) -> Option<Connection> {
        loop {
            let connection = {
                let mut idle = self.idle.lock().ok()?;
                let newest = idle.pop()?;
                if newest.idle_since.elapsed() >= IDLE_LIMIT {
                    idle.clear();
                    return None;
                }
                newest
            };
            // Nothing may arrive on an idle connection but its end: a read that would block
            // means it is still open.
            let mut probe = [0u8; 1];
            match connection.stream.try_read(&mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(connection),
                _ => continue,
            }
        }
    }

    fn put_back(&self, mut connection: Connection) {
        if !connection.unread.is_empty() {
            return;
        }
        connection.idle_since = Instant::now();
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(connection);
        }
    }

    async fn connect(&self) -> Result<Connection, TransportError> {
        let stream = tokio::time::timeout(self.timeouts.connect, TcpStream::connect(&self.addr))
            .await
            .map_err(|_| TransportError::Timeout)?
            .map_err(|e| {
                TransportError::Connection(format!("cannot connect to {}: {e}", self.addr))
            })?;
        // Small requests and answers: Nagle's algorithm would only add delay.
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            unread: Vec::with_capacity(READ_CHUNK),
            idle_since: Instant::now(),
        })
    }
}

fn wire_error(e: WireError) -> TransportError {
    TransportError::Connection(e.to_string())
}
