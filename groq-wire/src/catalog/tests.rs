use super::*;

fn builtin() -> Catalog {
    Catalog::builtin()
}

fn model<'a>(catalog: &'a Catalog, id: &str) -> &'a Model {
    match catalog.model(id) {
        Some(m) => m,
        None => panic!("{id} missing from catalog"),
    }
}

const fn all(rpm: u64, rpd: u64, tpm: u64, tpd: u64) -> Limits {
    Limits {
        rpm: Some(rpm),
        rpd: Some(rpd),
        tpm: Some(tpm),
        tpd: Some(tpd),
    }
}

const fn no_tpd(rpm: u64, rpd: u64, tpm: u64) -> Limits {
    Limits {
        rpm: Some(rpm),
        rpd: Some(rpd),
        tpm: Some(tpm),
        tpd: None,
    }
}

/// The data file's free limits are what Groq's rate-limits page says (RPM / RPD / TPM /
/// TPD), and the developer limits the second-hand figures of shared/GROQ.md: a table typed
/// here from the sources, against the file.
#[test]
fn limits_are_what_the_cited_source_says() {
    let c = builtin();
    let free = [
        ("openai/gpt-oss-120b", all(30, 1_000, 8_000, 200_000)),
        ("openai/gpt-oss-20b", all(30, 1_000, 8_000, 200_000)),
        ("llama-3.3-70b-versatile", all(30, 1_000, 12_000, 100_000)),
        ("llama-3.1-8b-instant", all(30, 14_400, 6_000, 500_000)),
        (
            "meta-llama/llama-4-scout-17b-16e-instruct",
            all(30, 1_000, 30_000, 500_000),
        ),
        ("qwen/qwen3-32b", all(60, 1_000, 6_000, 500_000)),
        (
            "moonshotai/kimi-k2-instruct",
            all(60, 1_000, 10_000, 300_000),
        ),
        (
            "openai/gpt-oss-safeguard-20b",
            all(30, 1_000, 8_000, 200_000),
        ),
        (
            "moonshotai/kimi-k2-instruct-0905",
            all(60, 1_000, 10_000, 300_000),
        ),
        (
            "meta-llama/llama-4-maverick-17b-128e-instruct",
            all(30, 1_000, 6_000, 500_000),
        ),
        ("allam-2-7b", all(30, 7_000, 6_000, 500_000)),
        // groq/compound and groq/compound-mini publish no TPD.
        ("groq/compound", no_tpd(30, 250, 70_000)),
        ("groq/compound-mini", no_tpd(30, 250, 70_000)),
        // Second-hand: one account's limits page, copied into orbi-build/orbi#776.
        ("qwen/qwen3.8-27b", all(30, 1_000, 8_000, 200_000)),
    ];
    assert_eq!(free.len(), c.models.len(), "every model has a row");
    for (id, limits) in free {
        let m = model(&c, id);
        assert_eq!(m.limits(Tier::Free), limits, "{id}");
        let page = match id {
            "qwen/qwen3.8-27b" => "https://github.com/orbi-build/orbi/issues/776",
            _ => "https://console.groq.com/docs/rate-limits",
        };
        assert_eq!(m.limits_source.url, page, "{id}");
    }
    let developer = [
        ("openai/gpt-oss-120b", no_tpd(1_000, 500_000, 250_000)),
        ("llama-3.3-70b-versatile", no_tpd(1_000, 500_000, 300_000)),
        ("llama-3.1-8b-instant", no_tpd(1_000, 500_000, 250_000)),
    ];
    for (id, limits) in developer {
        assert_eq!(model(&c, id).limits(Tier::Developer), limits, "{id}");
    }
    let gpt20 = model(&c, "openai/gpt-oss-20b");
    assert_eq!(gpt20.limits(Tier::Developer), gpt20.free);
    assert!(gpt20.limits_source(Tier::Developer).contains("unpublished"));
    assert!(c.find("no-such-model").is_none());
    assert_eq!(c.recommended, "openai/gpt-oss-120b");
}

#[test]
fn prices_are_what_the_pricing_page_says() {
    let c = builtin();
    let price = |id: &str| model(&c, id).price.map(|p| (p.input, p.output));
    assert_eq!(price("openai/gpt-oss-120b"), Some((0.15, 0.60)));
    assert_eq!(price("openai/gpt-oss-20b"), Some((0.075, 0.30)));
    assert_eq!(price("llama-3.3-70b-versatile"), Some((0.59, 0.79)));
    assert_eq!(price("openai/gpt-oss-safeguard-20b"), Some((0.075, 0.30)));
    let p = model(&c, "openai/gpt-oss-120b").price;
    assert_eq!(
        p.map(|p| p.cost(1_000_000, 1_000_000)),
        Some(0.15 + 0.60),
        "a million of each"
    );
    let source = model(&c, "openai/gpt-oss-120b").price_source.as_ref();
    assert_eq!(
        source.map(|s| s.url.as_str()),
        Some("https://groq.com/pricing")
    );
}

#[test]
fn retired_models_are_gone_from_their_day_and_served_the_day_before() {
    let c = builtin();
    let llama = model(&c, "llama-3.3-70b-versatile");
    assert!(llama.served_on(date(2026, 8, 15)));
    assert!(llama.served_on(SEEDS_DATE));
    assert_eq!(
        llama.availability(date(2026, 8, 16)),
        Availability::Decommissioned {
            on: date(2026, 8, 16),
            replacement: Some("openai/gpt-oss-120b")
        }
    );
    assert!(!model(&c, "llama-3.1-8b-instant").served_on(c.reviewed));
    assert!(!model(&c, "meta-llama/llama-4-scout-17b-16e-instruct").served_on(date(2026, 7, 17)));
    let qwen = model(&c, "qwen/qwen3-32b");
    assert!(qwen.served_on(date(2026, 7, 16)) && !qwen.served_on(date(2026, 7, 17)));
    let kimi = model(&c, "moonshotai/kimi-k2-instruct");
    assert!(kimi.served_on(date(2025, 10, 9)) && !kimi.served_on(date(2025, 10, 10)));
    let qwen38 = model(&c, "qwen/qwen3.8-27b");
    assert!(!qwen38.served_on(date(2026, 8, 28)) && qwen38.served_on(c.reviewed));
    let gpt = model(&c, "openai/gpt-oss-120b");
    assert!(gpt.served_on(c.reviewed));
    assert!(matches!(
        gpt.availability(date(2025, 8, 4)),
        Availability::NotYet { .. }
    ));
    let served = c.served_ids(c.reviewed);
    assert!(
        served.starts_with("openai/gpt-oss-120b, openai/gpt-oss-20b")
            && !served.contains("llama-3")
            && !served.contains("qwen3-32b")
            && !served.contains("scout"),
        "{served}"
    );
}

/// Every entry names a source with a page and the day it was seen, no later than the
/// review; every figure beyond the free limits names its own.
#[test]
fn every_model_names_a_source_and_the_day_it_was_seen() {
    let c = builtin();
    for m in &c.models {
        let s = &m.limits_source;
        assert!(
            s.url.starts_with("https://") || s.url.contains("GROQ.md"),
            "{}: {}",
            m.id,
            s.url
        );
        assert!(s.seen <= c.reviewed, "{}: seen after review", m.id);
        assert_eq!(
            m.developer.is_some(),
            m.developer_source.is_some(),
            "{}",
            m.id
        );
        assert_eq!(m.price.is_some(), m.price_source.is_some(), "{}", m.id);
        if m.decommissioned.is_some() {
            assert!(m.dates_source.is_some(), "{}", m.id);
        }
    }
    for s in &c.sources {
        assert!(!s.note.is_empty() && s.seen <= c.reviewed, "{s:?}");
    }
}

#[test]
fn a_day_more_than_ninety_days_past_the_newest_source_is_stale() {
    let c = builtin();
    let newest = c.newest_source();
    let day = |n: i32| {
        newest
            .checked_add(jiff::Span::new().days(n))
            .unwrap_or(newest)
    };
    assert_eq!(c.staleness(day(90)), None);
    assert!(
        c.staleness(day(91))
            .is_some_and(|w| w.contains("91 days before"))
    );
    assert_eq!(
        c.staleness(SEEDS_DATE),
        None,
        "a day before the sources is not stale"
    );
}

/// A minimal valid file, with `extra` appended to its one model.
fn file(extra: &str) -> String {
    format!(
        "reviewed = \"2026-12-01\"\nrecommended = \"acme/one\"\n\n[[source]]\nid = \"acme\"\nurl = \"https://acme.example/limits\"\nseen = \"2026-12-01\"\nnote = \"n\"\n\n[[model]]\nid = \"acme/one\"\nowned_by = \"Acme\"\ncontext_window = 8192\nfree = {{ rpm = 2, rpd = 100 }}\nlimits_source = \"acme\"\ndecode_tps = 100.0\n{extra}"
    )
}

#[test]
fn a_user_catalog_gives_its_own_models_and_limits() {
    let c = Catalog::from_toml(&file(""), "mine.toml").unwrap_or_else(|e| panic!("{e}"));
    let m = model(&c, "acme/one");
    assert_eq!(m.free.rpm, Some(2));
    assert_eq!(m.free.tpm, None, "a limit left out is not limited");
    assert_eq!(m.prefill_tps, 1_000.0, "prefill defaults to 10× decode");
    assert_eq!(c.origin, "mine.toml");
    assert_eq!(c.newest_source(), date(2026, 12, 1));
}

/// Each bad file is refused with the file, the line of the entry at fault and the field.
#[test]
fn a_bad_catalog_names_its_file_line_and_field() {
    let cases = [
        (file("rpm = 3\n"), "unknown field `rpm`"),
        (
            file("").replace("rpm = 2", "rpm = 0"),
            "from 1 to 10^12, got 0",
        ),
        (
            file("").replace("rpm = 2", "rpm = -5"),
            "from 1 to 10^12, got -5",
        ),
        (
            file("").replace("decode_tps = 100.0", "decode_tps = nan"),
            "tokens per second",
        ),
        (
            file("").replace("seen = \"2026-12-01\"", "seen = \"yesterday\""),
            "expected a day",
        ),
        (
            file("").replace("limits_source = \"acme\"", "limits_source = \"nope\""),
            "line 15: limits_source: no [[source]] has this id",
        ),
        (
            file("price = { input = 1.0, output = 2.0 }\n"),
            "line 11: price_source: missing",
        ),
        (
            file(
                "decommissioned = \"2026-01-01\"\nsince = \"2026-02-01\"\ndates_source = \"acme\"\n",
            ),
            "line 11: decommissioned: days out of order",
        ),
        (
            file("replacement = \"acme/two\"\n"),
            "line 17: replacement: not a model of this catalog",
        ),
        (
            file("").replace("recommended = \"acme/one\"", "recommended = \"acme/two\""),
            "line 2: recommended: not a model",
        ),
        (
            file(
                "\n[[model]]\nid = \"acme/one\"\nowned_by = \"A\"\ncontext_window = 1\nfree = {}\nlimits_source = \"acme\"\ndecode_tps = 1.0\n",
            ),
            "line 19: id: a second model with this id",
        ),
    ];
    for (text, expected) in cases {
        match Catalog::from_toml(&text, "mine.toml") {
            Ok(_) => panic!("accepted, expected {expected:?}:\n{text}"),
            Err(e) => {
                let shown = e.to_string();
                assert!(
                    shown.starts_with("mine.toml") && shown.contains(expected),
                    "{shown}\nexpected {expected:?}"
                );
                if !matches!(e, CatalogError::Invalid { .. }) {
                    assert!(shown.contains("line "), "{shown}");
                }
            }
        }
    }
}

#[test]
fn install_takes_the_first_catalog_only() {
    // `current()` in this test process may already be set by another test; either way a
    // second install is refused and the first one stays.
    let first = current().origin.clone();
    let again = Catalog::from_toml(&file(""), "late.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(install(again).is_err());
    assert_eq!(current().origin, first);
}
