//! A `redis-server` that keyrotor starts itself on loopback for a run with shared state on
//! Redis and no `redis_url` (as it embeds the mock: no setup for the user). It keeps nothing
//! on disk and is stopped when dropped, and its life is tied to the run's: it runs under a
//! small `sh` watchdog that holds a pipe from the run and stops the server when the pipe
//! closes, which the kernel does when the run ends in any way, `kill -9` included (no
//! orphaned server).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running `redis-server` on 127.0.0.1, and on a Unix socket beside it.
#[derive(Debug)]
pub struct RedisServer {
    /// The watchdog shell; it exits with the server.
    child: Child,
    /// The run's end of the watchdog's pipe: closing it stops the server.
    lifeline: Option<ChildStdin>,
    /// `redis://127.0.0.1:PORT/`.
    pub url: String,
    /// The same server through its Unix socket: `redis+unix:///PATH` (a replica on the same
    /// host saves the TCP stack's work on every call).
    pub unix_url: String,
    socket: PathBuf,
}

impl RedisServer {
    /// Starts `redis-server` (from PATH) on a free loopback port, without persistence, and
    /// waits until it accepts connections (at most 5 s).
    pub fn start() -> anyhow::Result<Self> {
        let mut last = None;
        // A free port can be taken between finding it and the server binding it: try again.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .context("no free loopback port for redis-server")?
                .port();
            match Self::on(port) {
                Ok(server) => return Ok(server),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("redis-server did not start")))
    }

    fn on(port: u16) -> anyhow::Result<Self> {
        let socket =
            std::env::temp_dir().join(format!("keyrotor-redis-{}-{port}.sock", std::process::id()));
        let mut child = Command::new("sh")
            .args(["-c", WATCHDOG, "keyrotor-redis-watchdog", "redis-server"])
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--unixsocket")
            .arg(&socket)
            .args(["--unixsocketperm", "700"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start sh to run redis-server")?;
        let lifeline = child.stdin.take();
        let mut server = Self {
            child,
            lifeline,
            url: format!("redis://127.0.0.1:{port}/"),
            unix_url: format!("redis+unix://{}", socket.display()),
            socket,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                if status.code() == Some(127) {
                    bail!(
                        "state = \"redis\" without redis_url needs redis-server on PATH (Debian: apt-get install redis-server), or give redis_url / --redis-url"
                    );
                }
                bail!("redis-server exited at start ({status})");
            }
            if Instant::now() > deadline {
                bail!("redis-server did not accept connections on port {port} within 5 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // On the errors above, `server` is dropped: the child is stopped with it.
        Ok(server)
    }
}

/// Runs `"$@"` (redis-server and its flags) and stops it with SIGTERM once standard input
/// (the run's pipe) closes; exits with the server's status (127: not found). The server's
/// own standard input is /dev/null, and the watcher reads a copy of the pipe (fd 3), since
/// a background job's standard input is /dev/null.
const WATCHDOG: &str = r#"exec 3<&0
"$@" </dev/null &
server=$!
( while read -r _ <&3; do :; done; kill "$server" 2>/dev/null ) &
wait "$server"
"#;

impl Drop for RedisServer {
    fn drop(&mut self) {
        // Closing the pipe makes the watchdog stop the server; the watchdog then exits.
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}
