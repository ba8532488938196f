//! What every command shares with the terminal: printing its answer (a closed pipe ends it
//! quietly), where its reports go by default, whether to draw progress, and the stop signals.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

/// What a command prints when done: with `json`, `value` as JSON on stdout (what it wrote
/// to its `.json` file); else `text` (its answer), and where the reports are.
pub(super) fn show(
    json: bool,
    value: &impl serde::Serialize,
    text: &str,
    dir: &Path,
) -> anyhow::Result<()> {
    if json {
        print_out(serde_json::to_string_pretty(value)? + "\n")
    } else {
        print_out(format!("{text}\nReports in {}\n", dir.display()))
    }
}

/// Writes `text` on standard output. A reader that has gone (a closed pipe: `| head -2`)
/// ends the printing quietly, not the command: what it wrote to files stands, and its exit
/// code is still its verdict's.
pub fn print_out(text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_ref()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// `reports/<name>-<UTC yyyymmdd-hhmmss>`.
pub(super) fn default_dir(name: &str) -> PathBuf {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S");
    PathBuf::from("reports").join(format!("{name}-{stamp}"))
}

/// Whether to draw progress: on a terminal, outside CI.
pub(super) fn show_progress() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// A watch flag set by SIGINT (Ctrl-C), SIGTERM (`timeout`, `docker stop`, CI cancelling)
/// or SIGHUP (the terminal closing), on its own thread so any runtime can wait on it. The
/// handlers are in place when this returns.
pub(super) fn interrupt_watch() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            let _ = ready_tx.send(());
            return;
        };
        runtime.block_on(async {
            let signal = keyrotor_serve::signals::stop_signal();
            let _ = ready_tx.send(());
            if let Some(name) = signal.await {
                eprintln!("\n{name}: stopping, waiting briefly for requests in flight, writing reports marked incomplete");
                let _ = tx.send(true);
            }
        });
    });
    let _ = ready_rx.recv_timeout(Duration::from_secs(5));
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dir_has_a_readable_utc_stamp() {
        let dir = default_dir("my scenario");
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(name.starts_with("my_scenario-20"), "{name}");
        assert_eq!(name.len(), "my_scenario-".len() + 15, "{name}");
    }
}
