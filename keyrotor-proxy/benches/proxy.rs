//! What the proxy adds, side by side with the mock driven directly, in one run.
//!
//! Starts the mock (limits and latency off: benches/harness/mock-unlimited.toml at the
//! workspace's root; this bench's own binary serves it, re-run as a process of its own) and
//! `keyrotor-proxy --policy adaptive` in front of it, as separate processes on loopback; then,
//! in 5 alternating rounds:
//! - latency at 1,000 req/s open loop for 5 s, each request its own task started on its
//!   tick (so a slow answer delays no other request): p50 and p99 from send to answer,
//!   direct and through the proxy. (Counting from the tick itself would add tokio's
//!   millisecond timer granularity to both.)
//! - throughput with 32 connections in a closed loop for 5 s, direct and through the proxy.
//!
//! Prints every round, then the medians: the proxy's added p50 and p99 (median of the
//! rounds' differences) and its throughput as a fraction of the mock's (median of the
//! rounds' ratios). Targets (issue 13): < 100 µs at p50, < 1 ms at p99, ≥ 0.8×.
//!
//! During the throughput phases it also reads each process's CPU time (/proc/PID/stat) and
//! prints the CPU each spent per request: when the machine's cores are the limit, the best
//! ratio they allow is the direct path's CPU per request over the proxied path's.
//!
//! All of it in several layouts of the processes on the cores, alternating within each round:
//! - `shared`: every process may run on every core, so the load generator, the proxy and the
//!   mock compete for them (on a 2-core machine the proxy's own CPU then takes throughput
//!   from the other two);
//! - `own core`: the load generator and the mock on core 0, the proxy alone on core 1, as a
//!   proxy deployed on its own CPU runs. The direct path gets the same one core, so the
//!   ratio says whether the proxy, given a core, holds the mock's pace;
//! - `one core`: every process on core 0, so each hand-off between them is a task switch
//!   on that core rather than the wake-up of another (on a VM a sleeping core takes tens of
//!   microseconds to wake): the added latency is then the proxy's own work;
//! - `each on its own core` (machines with 3 cores or more): the load generator on core 0,
//!   the mock on core 1, the proxy on core 2, so no process takes CPU from another. With the
//!   proxy busy-polling, this is the layout fair to all three targets at once: a request
//!   wakes the mock's core and then the load generator's on both paths, and the proxied
//!   path's two extra hops land on the proxy's core, which is awake. On two cores there is
//!   no such layout: either the direct path keeps both its ends on one core and wakes none
//!   (`own core`, where the proxied path wakes core 0 twice), or the proxy shares a core
//!   and its CPU counts against the mock's throughput.
//!
//! The `own core` and `each on its own core` layouts also run with a proxy started with
//! `--busy-poll` (a process of its own, started for its round only, since it spins): its
//! core never sleeps, so a request finds it awake.
//!
//! Each layout but the busy-polling ones twice: with idle cores free to sleep, and `kept
//! awake`, where a spinner at `SCHED_IDLE` priority runs on every core (this bench again,
//! under `chrt --idle 0`). A sleeping core on a VM takes tens of microseconds to wake, and
//! the proxy adds a hop, so with sleeping cores part of what it adds is that wake-up; on a
//! busy server's cores, which seldom sleep, it is not. The spinner yields to any real work
//! at once, but on a VM its busy vCPU still costs the host something, so the throughput
//! figures of the awake layouts are lower for both paths.
//!
//! Run: `cargo bench -p keyrotor-proxy --bench proxy` (`chrt` from util-linux on PATH for the awake layouts;
//! without it they are skipped, and the bench says so).

use std::io::{BufRead, BufReader};
use std::os::unix::process::parent_id;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;
use keyrotor_engine::transport::{HttpTransport, Timeouts, Transport};
use keyrotor_engine::{ApiKey, ChatRequest};
use tokio::time::{Instant, MissedTickBehavior};

const RATE: u64 = 1_000;
const PHASE: Duration = Duration::from_secs(5);
const CONNECTIONS: usize = 32;
const ROUNDS: usize = 5;
/// The mock's only key (benches/harness/mock-unlimited.toml).
const KEY: &str = "gsk_bench_key";
/// Set in a spinner's environment: this bench, run again, only spins.
const SPIN_ENV: &str = "KEYROTOR_BENCH_SPIN";
/// Longest a spinner runs, should the bench that started it be killed without reaping it.
const SPIN_LIMIT: Duration = Duration::from_secs(3600);

/// A child process killed when dropped.
struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program ARGS`, and reads the URL it prints on its first line.
fn start(program: Program, args: &[&str], key_env: bool) -> anyhow::Result<Server> {
    let mut command = match program {
        Program::Proxy => Command::new(env!("CARGO_BIN_EXE_keyrotor-proxy")),
        Program::Mock => {
            let mut this = Command::new(std::env::current_exe()?);
            this.env(MOCK_ENV, "1");
            this
        }
    };
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command.env_remove("GROQ_API_KEYS");
    if key_env {
        command.env("GROQ_API_KEY", KEY);
    }
    let mut child = command.spawn().context("starting {program:?}")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line.trim().to_owned();
    anyhow::ensure!(
        url.starts_with("http://"),
        "no URL from {program:?} {args:?}: {line:?}"
    );
    Ok(Server(child, url))
}

/// What [`start`] starts.
#[derive(Debug, Clone, Copy)]
enum Program {
    /// `keyrotor-proxy`.
    Proxy,
    /// The mock, served by this bench's own binary (with [`MOCK_ENV`] set).
    Mock,
}

/// Set in the environment of this bench's binary re-run as the mock.
const MOCK_ENV: &str = "KEYROTOR_BENCH_MOCK";

/// This binary re-run as the mock: serves `mock_groq` with the arguments given until stopped.
fn serve_mock() -> anyhow::Result<()> {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        mock: mock_groq::MockArgs,
    }
    let cli = Cli::try_parse()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(mock_groq::run(cli.mock))
}

/// `keyrotor-proxy --policy adaptive` in front of the mock, busy-polling or not.
fn start_proxy(mock: &Server, busy_poll: bool) -> anyhow::Result<Server> {
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &mock.1,
        "--policy",
        "adaptive",
    ];
    if busy_poll {
        args.push("--busy-poll");
    }
    start(Program::Proxy, &args, true)
}

/// Opens a fresh proxy's connections with a few requests one after another.
async fn warm(target: &Arc<HttpTransport>, request: &ChatRequest) -> anyhow::Result<()> {
    let key = ApiKey::new(KEY);
    for _ in 0..100 {
        let reply = target.send(&key, request.body.clone()).await?;
        anyhow::ensure!(reply.status == 200, "warming: status {}", reply.status);
    }
    Ok(())
}

/// p50 and p99 in microseconds at `RATE` req/s, open loop.
async fn latency(target: &Arc<HttpTransport>, request: &ChatRequest) -> anyhow::Result<(u64, u64)> {
    let histogram = Arc::new(std::sync::Mutex::new(Histogram::<u64>::new(3)?));
    let failed = Arc::new(AtomicU64::new(0));
    let first_failure = Arc::new(std::sync::Mutex::new(None::<String>));
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / RATE));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    let end = Instant::now() + PHASE;
    let key = ApiKey::new(KEY);
    loop {
        if tick.tick().await >= end {
            break;
        }
        let (target, body, key) = (target.clone(), request.body.clone(), key.clone());
        let (histogram, failed) = (histogram.clone(), failed.clone());
        let first_failure = first_failure.clone();
        tasks.spawn(async move {
            let sent = Instant::now();
            let why = match target.send(&key, body).await {
                Ok(reply) if reply.status == 200 => {
                    let micros = sent.elapsed().as_micros() as u64;
                    if let Ok(mut h) = histogram.lock() {
                        let _ = h.record(micros.max(1));
                    }
                    return;
                }
                Ok(reply) => format!(
                    "status {}: {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body[..reply.body.len().min(200)])
                ),
                Err(e) => e.to_string(),
            };
            failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = first_failure.lock() {
                first.get_or_insert(why);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let failed = failed.load(Ordering::Relaxed);
    let first = first_failure.lock().ok().and_then(|f| f.clone());
    anyhow::ensure!(
        failed == 0,
        "{failed} requests failed, the first: {}",
        first.unwrap_or_default()
    );
    let h = histogram.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    Ok((h.value_at_quantile(0.5), h.value_at_quantile(0.99)))
}

/// Requests per second with `CONNECTIONS` closed-loop workers, and how many were answered.
async fn throughput(
    target: &Arc<HttpTransport>,
    request: &ChatRequest,
) -> anyhow::Result<(f64, u64)> {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (target, body) = (target.clone(), request.body.clone());
        let (done, stop) = (done.clone(), stop.clone());
        workers.spawn(async move {
            let key = ApiKey::new(KEY);
            while !stop.load(Ordering::Relaxed) {
                if matches!(target.send(&key, body.clone()).await, Ok(r) if r.status == 200) {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    tokio::time::sleep(PHASE).await;
    stop.store(true, Ordering::Relaxed);
    while workers.join_next().await.is_some() {}
    let done = done.load(Ordering::Relaxed);
    anyhow::ensure!(done > 0, "no request answered");
    Ok((done as f64 / started.elapsed().as_secs_f64(), done))
}

/// CPU seconds process `pid` has used (user + system), from /proc/PID/stat in USER_HZ
/// ticks (100 a second on Linux).
fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat.rsplit_once(')').context("no ')' in stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields.get(i).context("short stat")?.parse::<u64>()? as f64 / 100.0)
    };
    Ok(ticks(11)? + ticks(12)?)
}

/// CPU seconds so far of the load generator (this process), the proxy and the mock.
fn cpus(proxy: &Server, mock: &Server) -> anyhow::Result<[f64; 3]> {
    Ok([
        cpu_secs(std::process::id())?,
        cpu_secs(proxy.0.id())?,
        cpu_secs(mock.0.id())?,
    ])
}

/// CPU microseconds per request between two readings.
fn per_request(before: [f64; 3], after: [f64; 3], requests: u64) -> [f64; 3] {
    std::array::from_fn(|i| (after[i] - before[i]) * 1e6 / requests as f64)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Where the processes may run, whether idle cores may sleep, and whether the proxy
/// busy-polls.
#[derive(Clone, Copy, PartialEq)]
struct Layout {
    cores: Cores,
    awake: bool,
    busy_poll: bool,
}

/// Which cores each process may run on.
#[derive(Clone, Copy, PartialEq)]
enum Cores {
    /// Every process on every core.
    Shared,
    /// The load generator and the mock on core 0, the proxy alone on core 1.
    OwnCore,
    /// Every process on core 0: each hand-off between them is a switch on that core, never
    /// a wake-up of another one.
    OneCore,
    /// The load generator on core 0, the mock on core 1, the proxy on core 2.
    EachOwn,
}

impl Layout {
    fn name(self) -> String {
        let cores = match self.cores {
            Cores::Shared => "shared cores",
            Cores::OwnCore => "proxy on its own core",
            Cores::OneCore => "all on one core",
            Cores::EachOwn => "each on its own core",
        };
        let sleep = match (self.busy_poll, self.awake) {
            (true, _) => "the proxy busy-polling",
            (false, true) => "kept awake",
            (false, false) => "idle cores sleep",
        };
        format!("{cores}, {sleep}")
    }

    /// Moves every thread of this process, the proxy and the mock onto the layout's cores.
    fn apply(self, proxy: &Server, mock: &Server, cores: usize) -> anyhow::Result<()> {
        let all: Vec<usize> = (0..cores).collect();
        let (load, mock_cores, proxy_cores) = match self.cores {
            Cores::Shared => (all.clone(), all.clone(), all),
            Cores::OwnCore => (vec![0], vec![0], vec![1]),
            Cores::OneCore => (vec![0], vec![0], vec![0]),
            Cores::EachOwn => (vec![0], vec![1], vec![2]),
        };
        pin(std::process::id(), &load)?;
        pin(mock.0.id(), &mock_cores)?;
        pin(proxy.0.id(), &proxy_cores)
    }
}

/// A spinner at `SCHED_IDLE` priority on every core while it lives, so no core sleeps;
/// dropping it kills them.
struct Awake {
    _spinners: Vec<Server>,
}

impl Awake {
    fn start(cores: usize) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut spinners = Vec::with_capacity(cores);
        for core in 0..cores {
            let child = Command::new("chrt")
                .args(["--idle", "0"])
                .arg(&exe)
                .env(SPIN_ENV, "1")
                .stdout(Stdio::null())
                .spawn()
                .context("starting a spinner with chrt (util-linux)")?;
            let spinner = Server(child, String::new());
            pin(spinner.0.id(), &[core])?;
            spinners.push(spinner);
        }
        Ok(Self {
            _spinners: spinners,
        })
    }
}

/// A spinner's whole life: spin until the bench that started it is gone or `SPIN_LIMIT`
/// has passed.
fn spin() {
    let (parent, started) = (parent_id(), std::time::Instant::now());
    while parent_id() == parent && started.elapsed() < SPIN_LIMIT {
        for _ in 0..1 << 20 {
            std::hint::spin_loop();
        }
    }
}

/// Sets the CPU affinity of every thread of process `pid` (its /proc/PID/task entries).
fn pin(pid: u32, cores: &[usize]) -> anyhow::Result<()> {
    let mut set = nix::sched::CpuSet::new();
    for &core in cores {
        set.set(core)?;
    }
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let tid: i32 = task?.file_name().to_string_lossy().parse()?;
        nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(tid), &set)
            .with_context(|| format!("pinning thread {tid} of {pid}"))?;
    }
    Ok(())
}

/// One layout's figures, a value per round.
#[derive(Default)]
struct Figures {
    direct_p50: Vec<f64>,
    proxy_p50: Vec<f64>,
    added_p50: Vec<f64>,
    added_p99: Vec<f64>,
    ratio: Vec<f64>,
    best_ratio: Vec<f64>,
    proxy_cpu: Vec<f64>,
    mock_cpu: Vec<f64>,
}

/// The two paths to measure, and the processes behind them.
struct Paths<'a> {
    direct: Arc<HttpTransport>,
    proxied: Arc<HttpTransport>,
    proxy: &'a Server,
    mock: &'a Server,
}

/// One round in one layout: latency, then throughput with each process's CPU, both paths.
async fn round(
    paths: &Paths<'_>,
    request: &ChatRequest,
    layout: Layout,
    figures: &mut Figures,
) -> anyhow::Result<String> {
    let (d50, d99) = latency(&paths.direct, request).await?;
    let (p50, p99) = latency(&paths.proxied, request).await?;
    let before = cpus(paths.proxy, paths.mock)?;
    let (d_rps, d_done) = throughput(&paths.direct, request).await?;
    let between = cpus(paths.proxy, paths.mock)?;
    let (p_rps, p_done) = throughput(&paths.proxied, request).await?;
    let after = cpus(paths.proxy, paths.mock)?;
    let [dg, _, dm] = per_request(before, between, d_done);
    let [pg, pp, pm] = per_request(between, after, p_done);
    figures.best_ratio.push((dg + dm) / (pg + pp + pm));
    figures.proxy_cpu.push(pp);
    figures.mock_cpu.push(dm);
    figures.added_p50.push(p50 as f64 - d50 as f64);
    figures.added_p99.push(p99 as f64 - d99 as f64);
    figures.ratio.push(p_rps / d_rps);
    figures.direct_p50.push(d50 as f64);
    figures.proxy_p50.push(p50 as f64);
    Ok(format!(
        "{}: at {RATE} req/s direct p50 {d50} µs p99 {d99} µs, via proxy p50 {p50} µs p99 {p99} µs; \
         {CONNECTIONS} connections: direct {d_rps:.0} req/s, via proxy {p_rps:.0} req/s; \
         CPU µs per request: direct {dg:.1} load + {dm:.1} mock, via proxy {pg:.1} load + {pp:.1} proxy + {pm:.1} mock",
        layout.name()
    ))
}

/// The medians of one layout's rounds.
fn summary(layout: Layout, f: Figures) -> String {
    let ceiling = match layout.cores {
        Cores::Shared | Cores::OneCore => format!(
            "; with every core busy the most the proxied path can do is {:.2} of the direct one",
            median(f.best_ratio)
        ),
        Cores::OwnCore | Cores::EachOwn => String::new(),
    };
    let spin = if layout.busy_poll {
        " (its whole core, spinning included)"
    } else {
        ""
    };
    format!(
        "{}, median of {ROUNDS} rounds: p50 direct {:.0} µs, via proxy {:.0} µs; the proxy adds {:.0} µs at p50 (target < 100) and {:.0} µs at p99 (target < 1000); \
         throughput via proxy / direct {:.2} (target >= 0.8); CPU per request: the proxy {:.1} µs{spin}, the mock {:.1} µs{ceiling}",
        layout.name(),
        median(f.direct_p50),
        median(f.proxy_p50),
        median(f.added_p50),
        median(f.added_p99),
        median(f.ratio),
        median(f.proxy_cpu),
        median(f.mock_cpu),
    )
}

fn main() -> anyhow::Result<()> {
    if std::env::var_os(SPIN_ENV).is_some() {
        spin();
        return Ok(());
    }
    if std::env::var_os(MOCK_ENV).is_some() {
        return serve_mock();
    }
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../benches/harness/mock-unlimited.toml"
    );
    let mock = start(
        Program::Mock,
        &["--config", config, "--listen", "127.0.0.1:0"],
        false,
    )?;
    let proxy = start_proxy(&mock, false)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let layouts = layouts(cores);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let timeouts = Timeouts::default();
        let direct = Arc::new(HttpTransport::new(&mock.1, timeouts)?);
        let proxied = Arc::new(HttpTransport::new(&proxy.1, timeouts)?);
        let request = ChatRequest::synthetic("openai/gpt-oss-120b", 50, 20, false);
        // Warm both paths (connections, the proxy's upstream pool).
        latency(&direct, &request).await?;
        latency(&proxied, &request).await?;
        let mut figures: Vec<Figures> = layouts.iter().map(|_| Figures::default()).collect();
        for n in 1..=ROUNDS {
            for (layout, figures) in layouts.iter().zip(&mut figures) {
                // A busy-polling proxy spins, so it lives only for its own round.
                let busy = layout
                    .busy_poll
                    .then(|| start_proxy(&mock, true))
                    .transpose()?;
                let (proxy, proxied) = match &busy {
                    Some(busy) => (busy, Arc::new(HttpTransport::new(&busy.1, timeouts)?)),
                    None => (&proxy, proxied.clone()),
                };
                layout.apply(proxy, &mock, cores)?;
                if busy.is_some() {
                    warm(&proxied, &request).await?;
                }
                let paths = Paths {
                    direct: direct.clone(),
                    proxied,
                    proxy,
                    mock: &mock,
                };
                let awake = layout.awake.then(|| Awake::start(cores)).transpose()?;
                let line = round(&paths, &request, *layout, figures).await?;
                drop(awake);
                println!("round {n}, {line}");
            }
        }
        let everywhere = Layout {
            cores: Cores::Shared,
            awake: false,
            busy_poll: false,
        };
        everywhere.apply(&proxy, &mock, cores)?;
        for (layout, figures) in layouts.iter().zip(figures) {
            println!("{}", summary(*layout, figures));
        }
        Ok(())
    })
}

/// The layouts this machine allows: own-core needs two cores, each-on-its-own three,
/// kept-awake needs `chrt`.
fn layouts(cores: usize) -> Vec<Layout> {
    let mut which = vec![Cores::Shared];
    if cores >= 2 {
        which.push(Cores::OwnCore);
    } else {
        println!("one core: the proxy cannot have one of its own; no own-core layout");
    }
    which.push(Cores::OneCore);
    if cores >= 3 {
        which.push(Cores::EachOwn);
    } else {
        println!(
            "{cores} cores: no each-on-its-own-core layout (it needs 3: load generator, mock, proxy)"
        );
    }
    let chrt = Command::new("chrt")
        .arg("--help")
        .stdout(Stdio::null())
        .status();
    let awake: &[bool] = if chrt.is_ok_and(|s| s.success()) {
        &[false, true]
    } else {
        println!("no chrt (util-linux) on PATH: no kept-awake layouts");
        &[false]
    };
    let mut layouts = Vec::new();
    for cores in which {
        for &awake in awake {
            layouts.push(Layout {
                cores,
                awake,
                busy_poll: false,
            });
        }
        if matches!(cores, Cores::OwnCore | Cores::EachOwn) {
            layouts.push(Layout {
                cores,
                awake: false,
                busy_poll: true,
            });
        }
    }
    layouts
}
