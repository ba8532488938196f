//! Running one scenario end to end: build the target (the embedded mock in-process for a
//! simulation, on loopback for a real-time run, or a real URL), the rotor and the recorder,
//! drive the traffic, and build the report.
//!
//! Simulation runs on a current-thread tokio runtime with paused time: tokio jumps the clock
//! whenever every task waits, so the mock's latency, the windows and the policies' waits all
//! pass in virtual time. The code is the same as a real run; only transport and clock differ.
//!
//! A run in code: three keys of separate organisations at 60 req/min for ten minutes,
//! simulated against the embedded mock (a fraction of a second of wall time).
//!
//! ```
//! use std::time::Duration;
//! use keyrotor::drive::driver::NoProgress;
//! use keyrotor::run::{RunOptions, run};
//! use keyrotor::spec::scenario::Scenario;
//!
//! let scenario = Scenario::builder("three-keys")
//!     .keys(3)
//!     .poisson(60.0)
//!     .duration(Duration::from_secs(600))
//!     .build()?;
//! let finished = run(&scenario, RunOptions::default(), &NoProgress)?;
//! let summary = &finished.report.summary;
//! assert!(summary.offered > 0);
//! assert!(summary.goodput <= summary.succeeded);
//! println!("goodput {:?} of {} requests", summary.goodput_rate, summary.offered);
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

use crate::drive::app::AppSender;
use crate::drive::driver::{Driven, Progress, drive};
use crate::drive::network::WithRtt;
use crate::drive::replicas::Replicas;
use crate::engine::provider::ProviderName;
use crate::engine::transport::{HttpTransport, InProcessTransport, Timeouts, Transport};
use crate::engine::{ApiKey, Rotor, RotorOptions, keys};
use crate::measure::quota::Quota;
use crate::measure::recorder::Recorder;
use crate::measure::report::ReplicasSeen;
use crate::measure::report::{LimitsUsed, Ran, Report, Setup};
use crate::spec::scenario::{AppTarget, Mode, Scenario, Upstream, mock_config, mock_keys};
use crate::spec::trace::TraceSummary;

/// Options of one run beyond the scenario.
#[derive(Default)]
pub struct RunOptions {
    /// Stream one CSV row per request to this file.
    pub requests_csv: Option<PathBuf>,
    /// Write every request offered to this file as a trace (`keyrotor run --trace` replays
    /// it).
    pub write_trace: Option<PathBuf>,
    /// Completes to interrupt the run (Ctrl-C); `None` runs to the end.
    pub interrupt: Option<tokio::sync::watch::Receiver<bool>>,
    /// Stop the run, as if interrupted (the report is marked incomplete), once more than
    /// this many requests went unanswered within the latency budget: for searches that only
    /// ask whether a goodput objective is met, whose answer is then settled.
    pub give_up_after: Option<u64>,
    /// Leave out the quota readings (the mock's ledger read every interval of the time
    /// series), for a study that judges runs by their summary and never shows them (`plan`):
    /// on a simulated 8-hour event they were a tenth of the run's cost. Simulated runs only.
    pub without_quota: bool,
    /// Where an app under test (`[target.app]`) writes its output; a temporary file when
    /// `None`.
    pub app_log: Option<PathBuf>,
}

impl RunOptions {
    /// For a study that judges a run by its summary alone and never shows its quota
    /// readings (see [`RunOptions::without_quota`]).
    pub fn summary_only() -> Self {
        Self {
            without_quota: true,
            ..Self::default()
        }
    }

    /// For a search that only asks whether `scenario` meets a goodput `objective`:
    /// [`RunOptions::summary_only`], and the run stops once more requests went unanswered
    /// within the budget than the objective allows, as no later answer could meet it (its
    /// report is then `incomplete`; see [`verdict`]). A trace's or a closed loop's arrivals
    /// are not known ahead: those runs go to the end.
    pub fn verdict_only(scenario: &Scenario, objective: f64) -> Self {
        let open = scenario.traffic.trace().is_none()
            && scenario.traffic.shape.arrival() != crate::spec::scenario::Arrival::Closed;
        Self {
            give_up_after: open.then(|| unanswered_allowed(scenario, objective)),
            ..Self::summary_only()
        }
    }
}

/// A verdict-only run's goodput rate ([`RunOptions::verdict_only`]): `None` when it stopped
/// with the objective out of reach (or offered nothing), so that its partial figures are
/// never read as the run's.
pub fn verdict(report: &Report) -> Option<f64> {
    if report.incomplete {
        return None;
    }
    report.summary.goodput_rate
}

/// The most requests of `scenario`'s open-loop event that may go unanswered within the
/// budget with its goodput still meeting `objective`, by the arithmetic of the verdict
/// (goodput ÷ offered ≥ objective, with every arrival offered).
fn unanswered_allowed(scenario: &Scenario, objective: f64) -> u64 {
    let n = crate::drive::workload::Arrivals::new(&scenario.traffic, scenario.seed).count() as u64;
    let meets = |unanswered: u64| (n - unanswered) as f64 / n.max(1) as f64 >= objective;
    let mut allowed = (((1.0 - objective) * n as f64).floor() as u64).min(n);
    while allowed < n && meets(allowed + 1) {
        allowed += 1;
    }
    while allowed > 0 && !meets(allowed) {
        allowed -= 1;
    }
    allowed
}

/// A finished run: the report and the recorder behind it (for the CSV and .hgrm files).
pub struct Finished {
    /// The report.
    pub report: Report,
    /// The measurements.
    pub recorder: Recorder,
    /// The embedded mock's `/admin/state` at the end (its own count of what it received),
    /// for cross-checks; `None` for a real endpoint.
    pub mock_state: Option<serde_json::Value>,
    /// Each organisation's remaining quota over the run, read from the embedded mock's
    /// ledger; empty for other targets.
    pub quota: Quota,
}

/// The mock's `/admin/state` through its router, in-process.
async fn admin_state(router: axum::Router) -> Option<serde_json::Value> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::get("/admin/state")
        .body(axum::body::Body::empty())
        .ok()?;
    let response = router.oneshot(request).await.ok()?;
    let bytes = response.into_body().collect().await.ok()?.to_bytes();
    serde_json::from_slice(&bytes).ok()
}

fn limits_used(scenario: &Scenario) -> LimitsUsed {
    let (limits, source) = scenario.target.limits_in_force();
    LimitsUsed { limits, source }
}

async fn interrupted(rx: Option<tokio::sync::watch::Receiver<bool>>) {
    match rx {
        Some(mut rx) => {
            let _ = rx.wait_for(|v| *v).await;
        }
        None => std::future::pending().await,
    }
}

/// Drives the scenario through the engine: one rotor, or replicas
/// ([`crate::drive::replicas`]) when the scenario has more than one, shared state or cold starts.
/// `transport` makes each rotor's transport.
async fn drive_with<T: Transport + 'static>(
    scenario: &Scenario,
    keys: Vec<ApiKey>,
    transport: impl Fn() -> anyhow::Result<T> + Send + Sync + 'static,
    options: &mut RunOptions,
    progress: &dyn Progress,
) -> anyhow::Result<(Driven, Option<ReplicasSeen>)> {
    let engine = &scenario.engine;
    let policy = engine.policy.config.clone();
    let rtt = scenario.target.rtt();
    let provider = scenario.target.provider;
    let rotor_options = RotorOptions {
        deadline: engine.deadline,
        budget: Some(scenario.traffic.latency_budget),
        seed: scenario.seed,
    };
    let build = move |seed: u64| -> anyhow::Result<Rotor<WithRtt<T>>> {
        let options = RotorOptions {
            seed,
            ..rotor_options
        };
        let transport = WithRtt::new(transport()?, rtt);
        Ok(Rotor::for_provider(
            keys.clone(),
            policy.clone(),
            transport,
            options,
            provider.provider(),
        )?)
    };
    let recorder = recorder(scenario, options)?;
    let interrupt = interrupted(options.interrupt.take());
    let replicated = engine.replicas > 1 || engine.state.shared() || engine.cold_start.is_some();
    if !replicated {
        let rotor = build(scenario.seed)?;
        return Ok((
            drive(scenario, rotor, recorder, progress, interrupt).await?,
            None,
        ));
    }
    let pool_id = format!("run-{}-{}", std::process::id(), scenario.seed);
    let crate::drive::replicas::Opened {
        store,
        server,
        text: store_text,
    } = crate::drive::replicas::open_store(engine, &pool_id)?;
    let on_error = engine.on_state_error;
    let seed = scenario.seed;
    let make: crate::drive::replicas::Build<WithRtt<T>> = Box::new(move |i| {
        let rotor = build(seed.wrapping_add(u64::from(i)))?;
        Ok(match &store {
            Some(store) => rotor.with_store(Arc::clone(store), on_error)?,
            None => rotor,
        })
    });
    let seen = ReplicasSeen::setup(engine, store_text);
    let (sender, ledger) = Replicas::new(
        engine.replicas,
        make,
        engine.spread,
        engine.cold_start,
        seed,
        seen,
    )?;
    let driven = drive(scenario, sender, recorder, progress, interrupt).await?;
    drop(server);
    Ok((driven, Some(ledger.close())))
}

/// The recorder of a run, with the options' CSV and give-up bound.
fn recorder(scenario: &Scenario, options: &RunOptions) -> anyhow::Result<Recorder> {
    let mut recorder = Recorder::new(
        scenario.keys.count.0,
        scenario.traffic.interval,
        scenario.traffic.latency_budget,
        options.requests_csv.as_deref(),
    )
    .context("cannot create the per-request CSV")?;
    if let Some(path) = &options.write_trace {
        recorder
            .write_offers(path)
            .with_context(|| format!("cannot create the trace {}", path.display()))?;
    }
    recorder.give_up_after = options.give_up_after;
    Ok(recorder)
}

/// What a run's target was, as the report states it.
struct TargetSeen {
    /// In words.
    description: String,
    /// For an app under test: upstream calls the mock saw without a request's marker.
    unattributed_calls: Option<u64>,
}

impl From<String> for TargetSeen {
    fn from(description: String) -> Self {
        TargetSeen {
            description,
            unattributed_calls: None,
        }
    }
}

/// What driving a scenario at its target gave: the measurements and what the run needs to
/// report them.
struct Drove {
    driven: Driven,
    /// What the replicas saw, when the engine ran as several.
    replicas: Option<ReplicasSeen>,
    /// Each organisation's remaining quota over the run (the embedded mock only).
    quota: Quota,
    /// The embedded mock's `/admin/state` at the end; `None` for a real endpoint.
    mock_state: Option<serde_json::Value>,
    keys: Vec<ApiKey>,
    target: TargetSeen,
}

/// A run against an app under test: the embedded mock on loopback with attribution on, the
/// app started in front of it, the traffic driven at the app.
fn drive_app(
    scenario: &Scenario,
    app: &AppTarget,
    options: &mut RunOptions,
    progress: &dyn Progress,
) -> anyhow::Result<Drove> {
    let keys = mock_keys(scenario.keys.count.0);
    let mut config = mock_config(scenario, &keys);
    config.attribution = true;
    let header_timeout = config.header_timeout;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (router, mock) = mock_groq::app(config)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(keyrotor_serve::serve_router(
            router,
            listener,
            header_timeout,
            Duration::from_secs(2),
            async {
                let _ = stopped.await;
            },
        ));
        let log = options.app_log.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("keyrotor-app-{}.log", std::process::id()))
        });
        let running = crate::drive::app::start(app, &url, &keys, &log).await?;
        let sender = AppSender::new(app, &running, mock.clone(), app.timeout)?;
        let recorder = recorder(scenario, options)?;
        let interrupt = interrupted(options.interrupt.take());
        let driven = drive(scenario, sender, recorder, progress, interrupt).await;
        let mock_state = match reqwest::get(format!("{url}/admin/state")).await {
            Ok(response) => response.json().await.ok(),
            Err(_) => None,
        };
        let unattributed = mock
            .attribution
            .as_ref()
            .map_or(0, |log| mock_groq::state::lock(log).unattributed);
        let app_url = running.url.clone();
        drop(running);
        let _ = stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(3), server).await;
        let command = match app.command.is_empty() {
            true => "an app already running".to_owned(),
            false => format!("`{}`", app.command.join(" ")),
        };
        let target = TargetSeen {
            description: format!(
                "app {command} at {app_url}, in front of the embedded mock (loopback HTTP, real time); upstream calls by request from the mock's attribution, {unattributed} calls without a marker not attributed; app output in {}",
                log.display()
            ),
            unattributed_calls: Some(unattributed),
        };
        anyhow::Ok(Drove {
            driven: driven?,
            replicas: None,
            quota: Quota::default(),
            mock_state,
            keys,
            target,
        })
    })
}

/// A simulation: the embedded mock in-process, on a current-thread runtime whose clock is
/// paused, so every wait passes in virtual time.
fn drive_simulated(
    scenario: &Scenario,
    options: &mut RunOptions,
    progress: &dyn Progress,
) -> anyhow::Result<Drove> {
    let keys = mock_keys(scenario.keys.count.0);
    // Timers only: nothing simulated touches a socket, and without an I/O driver an idle
    // runtime parks without a syscall (epoll and eventfd were an eighth of a simulated
    // request's cost).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?;
    runtime.block_on(async {
        // Built inside the paused runtime: the mock's clock starts on virtual time, so no
        // real-time offset leaks into the simulation.
        let router = mock_groq::router(mock_config(scenario, &keys))?;
        let (mock, timeout) = (router.clone(), scenario.engine.request_timeout);
        let path = scenario.target.provider.provider().chat_path();
        let transport = move || Ok(InProcessTransport::new(mock.clone(), timeout).with_path(path));
        let ledger = router.clone();
        let read: crate::measure::quota::Read =
            Arc::new(move || Box::pin(admin_state(ledger.clone())));
        let without_quota = options.without_quota;
        let drive = drive_with(scenario, keys.clone(), transport, options, progress);
        let (driven, quota) = if without_quota {
            (drive.await, Quota::default())
        } else {
            crate::measure::quota::sampled(drive, read, scenario).await
        };
        let (driven, replicas) = driven?;
        anyhow::Ok(Drove {
            driven,
            replicas,
            quota,
            mock_state: admin_state(router).await,
            keys,
            target: mock_words(scenario, "in-process, simulated time").into(),
        })
    })
}

/// A real-time run against the embedded mock served on loopback.
fn drive_loopback(
    scenario: &Scenario,
    options: &mut RunOptions,
    progress: &dyn Progress,
) -> anyhow::Result<Drove> {
    let keys = mock_keys(scenario.keys.count.0);
    let config = mock_config(scenario, &keys);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(mock_groq::serve(config, listener, async {
            let _ = stopped.await;
        }));
        let (mock_url, timeouts) = (url.clone(), scenario.engine.timeouts());
        let stream = scenario.traffic.stream;
        let path = scenario.target.provider.provider().chat_path();
        let transport = move || http_transport(&mock_url, path, timeouts, stream);
        let state_url = format!("{url}/admin/state");
        let read: crate::measure::quota::Read = Arc::new(move || {
            let url = state_url.clone();
            Box::pin(async move { reqwest::get(url).await.ok()?.json().await.ok() })
        });
        let drive = drive_with(scenario, keys.clone(), transport, options, progress);
        let (driven, quota) =
            crate::measure::quota::sampled(drive, Arc::clone(&read), scenario).await;
        let mock_state = read().await;
        let _ = stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(3), server).await;
        let (driven, replicas) = driven?;
        anyhow::Ok(Drove {
            driven,
            replicas,
            quota,
            mock_state,
            keys,
            target: mock_words(scenario, "loopback HTTP, real time").into(),
        })
    })
}

/// A run against a real endpoint, with the keys from the environment.
fn drive_url(
    scenario: &Scenario,
    url: &str,
    options: &mut RunOptions,
    progress: &dyn Progress,
) -> anyhow::Result<Drove> {
    let n = scenario.keys.count.0;
    let provider = scenario.target.provider.provider();
    let variable = provider.key_variable();
    let loaded = keys::from_env_named(variable).with_context(|| {
        format!("a real endpoint takes its keys from the environment ({variable}…)")
    })?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    if loaded.keys.len() != n {
        bail!(
            "the scenario wants {n} keys; the environment has {}",
            loaded.keys.len()
        );
    }
    // A worker per core, as wrk runs a thread per core: on this repository's benchmark
    // (benches/harness/driver_vs_wrk.sh) two workers beat one by a fifth.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (target_url, timeouts) = (url.to_owned(), scenario.engine.timeouts());
    let stream = scenario.traffic.stream;
    let path = provider.chat_path();
    http_transport(url, path, timeouts, stream)?;
    let transport = move || http_transport(&target_url, path, timeouts, stream);
    let keys = loaded.keys;
    let drive = drive_with(scenario, keys.clone(), transport, options, progress);
    let (driven, replicas) = runtime.block_on(drive)?;
    Ok(Drove {
        driven,
        replicas,
        quota: Quota::default(),
        mock_state: None,
        keys,
        target: url.to_owned().into(),
    })
}

/// Runs a scenario to completion (or interruption) and returns its report.
pub fn run(
    scenario: &Scenario,
    mut options: RunOptions,
    progress: &dyn Progress,
) -> anyhow::Result<Finished> {
    scenario
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid scenario: {e}"))?;
    // A trace is read whole once before the run: a bad row stops it before a request is sent.
    let trace = scenario
        .traffic
        .trace()
        .map(crate::spec::trace::scan)
        .transpose()?;
    scenario.traffic.load_sizes()?;
    if let Some(summary) = &trace {
        let span = scenario
            .traffic
            .duration
            .map_or(summary.span, |d| d.min(summary.span));
        scenario
            .series_fits(span)
            .map_err(|e| anyhow::anyhow!("invalid scenario: {e}"))?;
    }
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let wall = std::time::Instant::now();
    let drove = match (&scenario.target.upstream, scenario.mode) {
        (Upstream::App { app, .. }, _) => drive_app(scenario, app, &mut options, progress),
        (Upstream::Mock { .. }, Mode::Sim) => drive_simulated(scenario, &mut options, progress),
        (Upstream::Mock { .. }, Mode::Real) => drive_loopback(scenario, &mut options, progress),
        (Upstream::Url { url, .. }, _) => drive_url(scenario, url, &mut options, progress),
    }?;
    let Drove {
        driven,
        replicas,
        quota,
        mock_state,
        keys,
        target,
    } = drove;
    let orgs_of = scenario.keys.org_of_each();
    let fingerprints: Vec<String> = keys.iter().map(ApiKey::fingerprint).collect();
    let ran = Ran {
        recorder: &driven.recorder,
        setup: setup(scenario, &orgs_of, target, trace.as_ref()),
        fingerprints: &fingerprints,
        orgs: &orgs_of,
        span: driven.span,
        wall: wall.elapsed(),
        started_unix,
        incomplete: driven.incomplete,
    };
    let mut report = Report::build(scenario, ran);
    report.error = driven.error;
    report.replicas = replicas.map(|seen| over_limit_seen(seen, mock_state.as_ref()));
    Ok(Finished {
        report,
        recorder: driven.recorder,
        mock_state,
        quota,
    })
}

/// The conditions of a run, as its report states them.
fn setup(
    scenario: &Scenario,
    orgs_of: &[usize],
    target: TargetSeen,
    trace: Option<&TraceSummary>,
) -> Setup {
    let policy = match scenario.target.app() {
        Some(_) => "the app's own rotation code".to_owned(),
        None => scenario.engine.policy.text().to_owned(),
    };
    Setup {
        policy,
        keys: scenario.keys.count.0,
        orgs: orgs_of.iter().max().map_or(0, |m| m + 1),
        provider: scenario.target.provider.id().to_owned(),
        model: scenario.target.model.clone(),
        as_of: scenario.target.as_of().to_string(),
        model_status: scenario.target.model_status(),
        limits: limits_used(scenario),
        target: target.description,
        unattributed_calls: target.unattributed_calls,
        latency_budget_ms: scenario.traffic.latency_budget.as_secs_f64() * 1000.0,
        load: {
            let mut load = scenario.traffic.describe();
            if let Some(summary) = trace {
                load.push_str(&format!(" ({summary})"));
            }
            if let Some(sizes) = scenario.traffic.sizes_drawn() {
                load.push_str(&format!("; {sizes}"));
            }
            load
        },
        from_full_budgets: !scenario.target.events().iter().any(|e| {
            matches!(e, crate::spec::scenario::TargetEvent::ExhaustDaily { at, org: None } if at.is_zero())
        }),
    }
}

/// What the replicas saw, with the requests the mock refused over a limit (in all and by
/// window) from its final state.
fn over_limit_seen(mut seen: ReplicasSeen, mock_state: Option<&serde_json::Value>) -> ReplicasSeen {
    if let Some(totals) = mock_state.map(|state| &state["totals"]) {
        seen.over_limit_by_mock = totals["rate_limited"].as_u64();
        seen.over_limit_by_window = ["rpm", "rpd", "tpm", "tpd"]
            .into_iter()
            .filter_map(|w| {
                let n = totals[format!("rate_limited_{w}")].as_u64()?;
                Some((w.to_owned(), n))
            })
            .collect();
    }
    seen
}

/// The most a real-endpoint run can spend and how long it can take, stated before it sends
/// anything. The driver enforces both: `requests` and `duration` bound the sending, and
/// requests still in flight after [`crate::drive::driver::drain_limit`] are written off.
pub fn quota_statement(scenario: &Scenario) -> anyhow::Result<String> {
    let t = &scenario.traffic;
    t.load_sizes()?;
    let requests = t.requests.map_or(0, |r| r.0);
    // A trace's own mean sizes (reading it whole checks it before anything is sent).
    let mean = match t.trace() {
        Some(trace) => {
            let s = crate::spec::trace::scan(trace)?;
            s.prompt_tokens.mean + s.max_tokens.mean
        }
        None => t.prompt_tokens.mean() + t.completion_tokens.mean(),
    };
    let tokens = mean * requests as f64;
    let format = |d| humantime_serde::re::humantime::format_duration(d).to_string();
    Ok(format!(
        "This run sends at most {requests} requests (each may retry on other keys) for at most {}, then waits at most {} for the last answers, to {} with {} keys from the environment: about {:.0} tokens at the mean sizes, counted against those keys' organisations' daily quotas.",
        format(t.duration.unwrap_or_default()),
        format(crate::drive::driver::drain_limit(scenario)),
        scenario.target.url().unwrap_or("?"),
        scenario.keys.count.0,
        tokens
    ))
}

/// The transport to a target over HTTP; when the traffic streams, one that hands answers
/// over as they arrive, so their tokens can be timed ([`crate::measure::streaming`]).
fn http_transport(
    url: &str,
    path: &str,
    timeouts: Timeouts,
    stream: bool,
) -> anyhow::Result<HttpTransport> {
    Ok(if stream {
        HttpTransport::streaming(url, path, timeouts)?
    } else {
        HttpTransport::with_path(url, path, timeouts)?
    })
}

/// The embedded mock in words, `how` it is reached, and the API it speaks when not Groq's.
fn mock_words(scenario: &Scenario, how: &str) -> String {
    match scenario.target.provider {
        ProviderName::Groq => format!("embedded mock ({how})"),
        other => format!("embedded mock speaking the {other} API ({how})"),
    }
}
