//! `keyrotor claims --apps`: every seed's real app (examples/seed-apps/) beside the preset
//! that re-creates it, on the same traffic. Short spans keep the test quick; the runs are
//! real time against the embedded mock on loopback.

use std::path::Path;
use std::time::Duration;

use keyrotor::spec::metrics::Figure;
use keyrotor::studies::claims::{AppOptions, Verdict, check_apps};

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 23)
}

#[test]
fn each_seed_app_is_measured_beside_its_preset_on_the_same_traffic() {
    let logs = std::env::temp_dir().join(format!("keyrotor-claims-apps-{}", std::process::id()));
    std::fs::create_dir_all(&logs).unwrap_or_else(|e| panic!("{e}"));
    let options = AppOptions {
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-apps"),
        span: Duration::from_secs(12),
        logs: Some(logs.clone()),
    };
    let mut steps = Vec::new();
    let rows = check_apps(&options, today(), &mut |s: &str| steps.push(s.to_owned()))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let _ = std::fs::remove_dir_all(&logs);
    assert!(
        rows.skipped.is_empty(),
        "Node, the apps' packages and Python's groq SDK come from scripts/test.sh: {:?}",
        rows.skipped
    );
    assert_eq!(steps.len(), 6, "{steps:?}");
    // 6 checks, the first judged twice (uptime and 429s), for each of the 5 apps.
    assert_eq!(rows.rows.len(), 35, "{:#?}", rows.rows);
    for r in &rows.rows {
        let (a, p) = (&r.real_app.figure, &r.re_creation.figure);
        if !r.id.starts_with("failover") {
            assert!(a.samples > 0, "{}: {a:?}", r.id);
            assert_eq!(
                a.samples, p.samples,
                "{}: the same arrivals on both sides",
                r.id
            );
        }
        assert!(r.conditions.policy.contains(&r.preset), "{}", r.id);
    }
    // One section per claim checked, its shared conditions said once.
    let text = rows.markdown();
    assert_eq!(text.matches("\n### ").count(), 7, "{text}");
    let of = |id: &str| {
        rows.rows
            .iter()
            .filter(|r| r.id.starts_with(id))
            .collect::<Vec<_>>()
    };
    // On today's catalog the model the apps name is gone: Groq answers 404 whatever the
    // rotation, so no app and no preset answers anything.
    let today_rows = of("seed-configuration-today");
    assert_eq!(today_rows.len(), 5);
    for r in today_rows {
        for side in [&r.real_app, &r.re_creation] {
            assert_eq!(side.figure.value, Figure::Value(0.0), "{}: {side:?}", r.id);
            assert_eq!(side.verdict, Verdict::Fails, "{}", r.id);
        }
        assert_eq!(r.difference, "the same", "{}", r.id);
    }
    // With every key out of its day a third of the way in, nobody can answer what comes
    // after: the claim fails for every app and every preset.
    for r in of("never-see-errors-all-out") {
        assert_eq!(
            r.real_app.verdict,
            Verdict::Fails,
            "{}: {:?}",
            r.id,
            r.real_app
        );
        assert_eq!(r.re_creation.verdict, Verdict::Fails, "{}", r.id);
    }
    // Seed 004 answers with its friendly text rather than an error; the row says so.
    let smartllm = of("never-see-errors-all-out-seed-004");
    assert!(
        smartllm[0]
            .real_app
            .measured
            .contains("degraded: fallback answers")
            && !smartllm[0]
                .real_app
                .measured
                .contains("(0 degraded: fallback answers)"),
        "{:?}",
        smartllm[0].real_app
    );
}

#[test]
fn without_the_apps_folder_every_app_is_skipped_and_says_why() {
    let options = AppOptions {
        dir: "/nonexistent/seed-apps".into(),
        span: Duration::from_secs(12),
        logs: None,
    };
    let rows = check_apps(&options, today(), &mut |_: &str| {}).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(rows.rows.is_empty());
    assert_eq!(rows.skipped.len(), 5, "{:?}", rows.skipped);
    assert!(rows.skipped.iter().all(|s| s.contains("--apps-dir")));
    assert!(rows.markdown().contains("Skipped"), "{}", rows.markdown());
}

#[test]
fn a_span_out_of_range_is_refused() {
    let options = AppOptions {
        span: Duration::from_secs(2),
        ..AppOptions::default()
    };
    let e = check_apps(&options, today(), &mut |_: &str| {}).err();
    assert!(e.is_some_and(|e| e.to_string().contains("--apps-span")));
}
