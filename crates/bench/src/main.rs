//! `scripts/bench`: how fast postloan is, beside native Rust and a hello-world component.
//! Prints a table and writes `target/bench/results.json`. Each figure is the median of
//! several runs, with the min and max beside it.

mod assessment;
mod book;
mod decision;
mod http;
mod instantiation;
mod nightly;
/// The scoring component's scorecard parser, compiled natively (as `postloan-overdue-guest`
/// is for the overdue component), so that the native decision scores by the very same card.
#[path = "../../../components/scoring/src/scorecard_json.rs"]
mod scorecard_json;

/// The scoring component's embedded scorecard, where its parser's tests look for it.
const DEFAULT_SCORECARD: &str = include_str!("../../../components/scoring/scorecard.json");

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, ValueEnum};
use postloan_tests::{artifact, root};
use serde::Serialize;

/// Benchmarks postloan.
#[derive(Parser)]
struct Options {
    /// Loans in the synthetic book.
    #[arg(long, default_value_t = 20_000)]
    loans: usize,
    /// Seed of the synthetic book.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Runs of each measurement.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Seconds of each HTTP load run.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 16)]
    connections: u32,
    /// Loans in the book the nightly close runs over.
    #[arg(long, default_value_t = 100_000)]
    nightly_loans: usize,
    /// Business dates the nightly close runs, one after the other on the same book.
    #[arg(long, default_value_t = 3)]
    nightly_runs: usize,
    /// Concurrent callers of the close route, each a worker on the same date.
    #[arg(long, default_value_t = 1)]
    nightly_workers: usize,
    /// postloan-host processes (replicas) serving the book, the workers spread over them.
    #[arg(long, default_value_t = 1)]
    nightly_hosts: usize,
    /// Keep the book in a database of its own on this PostgreSQL server
    /// (`postgres://postgres@127.0.0.1:5432`) instead of SQLite.
    #[arg(long)]
    nightly_postgres: Option<String>,
    /// The nightly close over 1,000,000 loans.
    #[arg(long)]
    full: bool,
    /// Only these sections (repeat or separate with commas); all when left out.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
    /// A few seconds in all, to prove the harness still works (CI runs this).
    #[arg(long)]
    smoke: bool,
}

/// The harness's sections.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    /// The assessment path, native and through the Wasm component.
    Assessment,
    /// The close's whole per-loan decision, step by step, native and through the components.
    Decision,
    /// `POST /v1/assess` and the hello-world component under load.
    Http,
    /// One request through the host's runtime.
    Instantiation,
    /// The nightly close of business with SQLite.
    Nightly,
    /// `POST /v1/loans` under load, on SQLite and, with `--nightly-postgres`, PostgreSQL.
    Booking,
}

/// A figure's median, min and max over the runs.
#[derive(Serialize)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        Self {
            median: values[values.len() / 2],
            min: values[0],
            max: values[values.len() - 1],
        }
    }

    fn show(&self, unit: &str) -> String {
        format!(
            "{:.2} {unit} (min {:.2}, max {:.2})",
            self.median, self.min, self.max
        )
    }
}

/// Everything one run of the harness measured; a section left out is `null`.
#[derive(Serialize, Default)]
struct Results {
    loans: usize,
    seed: u64,
    runs: usize,
    assessment: Option<AssessmentFigures>,
    decision: Option<DecisionFigures>,
    http: Option<HttpComparison>,
    request_us_hello: Option<Spread>,
    request_us_api_health: Option<Spread>,
    nightly: Option<NightlyFigures>,
    booking: Vec<(String, http::Load)>,
    component_bytes: Vec<(String, u64)>,
}

#[derive(Serialize)]
struct AssessmentFigures {
    native_us_per_loan: Spread,
    wasm_us_per_loan: Spread,
    wasm_native_ratio: f64,
    features_native_us_per_loan: Spread,
}

#[derive(Serialize)]
struct DecisionFigures {
    native: StepFigures,
    wasm: StepFigures,
    wasm_native_ratio: f64,
}

/// Microseconds per loan of each step of the decision, and of them all.
#[derive(Serialize)]
struct StepFigures {
    assessment_features: Spread,
    score: Spread,
    reminders: Spread,
    escalation: Spread,
    total: Spread,
}

impl StepFigures {
    fn of(runs: &[decision::Steps]) -> Self {
        let spread =
            |step: fn(&decision::Steps) -> f64| Spread::of(runs.iter().map(step).collect());
        Self {
            assessment_features: spread(|s| s.assessment_features),
            score: spread(|s| s.score),
            reminders: spread(|s| s.reminders),
            escalation: spread(|s| s.escalation),
            total: spread(decision::Steps::total),
        }
    }

    fn print(&self, how: &str) {
        let rows = [
            ("assessment and features", &self.assessment_features),
            ("score", &self.score),
            ("reminders", &self.reminders),
            ("escalation", &self.escalation),
            ("total", &self.total),
        ];
        for (step, spread) in rows {
            println!("| decision, {how}: {step} | {} |", spread.show("µs/loan"));
        }
    }
}

#[derive(Serialize)]
struct HttpComparison {
    assess: HttpFigures,
    hello: HttpFigures,
    throughput_ratio: f64,
}

#[derive(Serialize)]
struct HttpFigures {
    requests_per_second: Spread,
    p50_ms: Spread,
    p99_ms: Spread,
}

#[derive(Serialize)]
struct NightlyFigures {
    loans: usize,
    workers: usize,
    hosts: usize,
    store: &'static str,
    loans_per_second: Spread,
    peak_host_rss_mib: f64,
    /// The workbench's portfolio page over the closed book.
    first_page: nightly::FirstPage,
}

fn main() -> Result<()> {
    let mut options = Options::parse();
    if let Some(server) = &options.nightly_postgres {
        // SAFETY: no other thread runs yet; the book's helpers read it when they start.
        unsafe { std::env::set_var(postloan_tests::TEST_POSTGRES, server) };
    }
    if options.smoke {
        (options.loans, options.runs, options.seconds) = (200, 1, 1);
        (options.nightly_loans, options.nightly_runs) = (200, 1);
    } else if options.full {
        options.nightly_loans = 1_000_000;
    }
    let wanted = |section| options.only.is_empty() || options.only.contains(&section);
    let book = book::generate(options.loans, options.seed);
    let mut results = Results {
        loans: options.loans,
        seed: options.seed,
        runs: options.runs,
        ..Results::default()
    };
    if wanted(Section::Assessment) {
        results.assessment = Some(assessment_figures(&book, options.runs)?);
    }
    if wanted(Section::Decision) {
        results.decision = Some(decision_figures(&book, options.runs)?);
    }
    if wanted(Section::Http) {
        results.http = Some(http_comparison(&book, &options)?);
    }
    if wanted(Section::Instantiation) {
        let fixture = artifact("tests/fixtures/target/wasm32-wasip2/release/hello_fixture.wasm");
        let requests = if options.smoke { 100 } else { 5_000 };
        results.request_us_hello = Some(Spread::of(
            (0..options.runs)
                .map(|_| instantiation::per_request(&fixture, requests))
                .collect::<Result<Vec<_>>>()?,
        ));
        let state = std::env::temp_dir().join(format!("postloan-bench-api-{}", std::process::id()));
        results.request_us_api_health = Some(Spread::of(
            (0..options.runs)
                .map(|_| instantiation::api_health(&artifact("spin.toml"), &state, requests))
                .collect::<Result<Vec<_>>>()?,
        ));
        let _ = std::fs::remove_dir_all(&state);
    }
    if wanted(Section::Nightly) {
        let loans = book::generate(options.nightly_loans, options.seed);
        let workers = options.nightly_workers.max(1);
        let hosts = options.nightly_hosts.max(1);
        let (closes, first_page) = nightly::close(&loans, options.nightly_runs, workers, hosts)?;
        results.nightly = Some(NightlyFigures {
            loans: loans.len(),
            workers,
            hosts,
            store: if options.nightly_postgres.is_some() {
                "postgres"
            } else {
                "sqlite"
            },
            loans_per_second: Spread::of(closes.iter().map(|c| c.loans_per_second).collect()),
            peak_host_rss_mib: closes.iter().map(|c| c.peak_rss_mib).fold(0.0, f64::max),
            first_page,
        });
    }
    if wanted(Section::Booking) {
        results.booking = booking_figures(&options)?;
    }
    results.component_bytes = component_bytes();
    print(&results);
    let out = root().join("target/bench/results.json");
    std::fs::create_dir_all(root().join("target/bench"))?;
    std::fs::write(&out, serde_json::to_string_pretty(&results)?)?;
    println!("\nwritten: {}", out.display());
    Ok(())
}

/// `POST /v1/loans` at `--connections` on a fresh book in SQLite, then, with
/// `--nightly-postgres`, on a fresh PostgreSQL database, one after the other.
fn booking_figures(options: &Options) -> Result<Vec<(String, http::Load)>> {
    let redis = postloan_tests::RedisServer::start();
    let mut stores = vec![("sqlite", None)];
    stores.extend(
        options
            .nightly_postgres
            .as_deref()
            .map(|server| ("postgres", Some(server))),
    );
    stores
        .into_iter()
        .map(|(store, server)| {
            let book =
                postloan_tests::Book::start_on(&format!("bench-booking-{store}"), &redis, server);
            let key = book.create_tenant("bench", serde_json::json!({}));
            let load = http::booking(&book, &key, options.seconds, options.connections)?;
            Ok((store.to_owned(), load))
        })
        .collect()
}

fn assessment_figures(book: &[book::LoanRecord], runs: usize) -> Result<AssessmentFigures> {
    let overdue = artifact("target/wasm32-wasip2/release/postloan_overdue.wasm");
    let native = (0..runs)
        .map(|_| assessment::native(book))
        .collect::<Result<Vec<_>>>()?;
    let wasm = (0..runs)
        .map(|_| assessment::wasm(book, &overdue))
        .collect::<Result<Vec<_>>>()?;
    let features = (0..runs)
        .map(|_| assessment::features_native(book))
        .collect::<Result<Vec<_>>>()?;
    let (native, wasm) = (Spread::of(native), Spread::of(wasm));
    Ok(AssessmentFigures {
        wasm_native_ratio: wasm.median / native.median,
        native_us_per_loan: native,
        wasm_us_per_loan: wasm,
        features_native_us_per_loan: Spread::of(features),
    })
}

fn decision_figures(book: &[book::LoanRecord], runs: usize) -> Result<DecisionFigures> {
    let native = (0..runs)
        .map(|_| decision::native(book))
        .collect::<Result<Vec<_>>>()?;
    let wasm = (0..runs)
        .map(|_| decision::wasm(book))
        .collect::<Result<Vec<_>>>()?;
    let (native, wasm) = (StepFigures::of(&native), StepFigures::of(&wasm));
    Ok(DecisionFigures {
        wasm_native_ratio: wasm.total.median / native.total.median,
        native,
        wasm,
    })
}

fn http_comparison(book: &[book::LoanRecord], options: &Options) -> Result<HttpComparison> {
    let body = serde_json::json!({ "as_of": book::AS_OF, "loan": book.iter().find(|l| l.payments.len() > 3) })
        .to_string();
    let run = |manifest: &PathBuf, path: &str, body: Option<&str>| {
        (0..options.runs)
            .map(|_| http::load(manifest, path, body, options.seconds, options.connections))
            .collect::<Result<Vec<_>>>()
            .map(figures)
    };
    let assess = run(&root().join("spin.toml"), "/v1/assess", Some(&body))?;
    let hello = run(&root().join("tests/fixtures/spin.toml"), "/hello", None)?;
    Ok(HttpComparison {
        throughput_ratio: assess.requests_per_second.median / hello.requests_per_second.median,
        assess,
        hello,
    })
}

fn component_bytes() -> Vec<(String, u64)> {
    [
        "postloan_api",
        "postloan_events",
        "postloan_nightly",
        "postloan_overdue",
        "postloan_scoring",
        "postloan_reminders",
        "postloan_escalation",
    ]
    .iter()
    .map(|name| {
        let path = root().join(format!("target/wasm32-wasip2/release/{name}.wasm"));
        (
            format!("{name}.wasm"),
            std::fs::metadata(path).map_or(0, |m| m.len()),
        )
    })
    .collect()
}

fn figures(loads: Vec<http::Load>) -> HttpFigures {
    HttpFigures {
        requests_per_second: Spread::of(loads.iter().map(|l| l.requests_per_second).collect()),
        p50_ms: Spread::of(loads.iter().map(|l| l.p50_ms).collect()),
        p99_ms: Spread::of(loads.iter().map(|l| l.p99_ms).collect()),
    }
}

fn print(r: &Results) {
    println!(
        "postloan benchmarks: {} loans, seed {}, {} run(s) each\n",
        r.loans, r.seed, r.runs
    );
    println!("| measure | result |\n|---|---|");
    if let Some(a) = &r.assessment {
        println!(
            "| assessment, native | {} |",
            a.native_us_per_loan.show("µs/loan")
        );
        println!(
            "| assessment, Wasm component | {} |",
            a.wasm_us_per_loan.show("µs/loan")
        );
        println!("| Wasm/native ratio | {:.2} |", a.wasm_native_ratio);
        println!(
            "| behavioural features, native | {} |",
            a.features_native_us_per_loan.show("µs/loan")
        );
    }
    if let Some(d) = &r.decision {
        d.native.print("native");
        d.wasm.print("Wasm components");
        println!(
            "| decision, Wasm/native ratio | {:.2} |",
            d.wasm_native_ratio
        );
    }
    if let Some(h) = &r.http {
        let show = |name: &str, f: &HttpFigures| {
            println!("| {name} | {} |", f.requests_per_second.show("req/s"));
            println!(
                "| {name} p50 / p99 | {:.2} / {:.2} ms |",
                f.p50_ms.median, f.p99_ms.median
            );
        };
        show("POST /v1/assess", &h.assess);
        show("hello-world component", &h.hello);
        println!(
            "| /v1/assess / hello-world throughput | {:.2} |",
            h.throughput_ratio
        );
    }
    if let Some(request) = &r.request_us_hello {
        println!(
            "| one request, hello-world, pooling allocator (bounds instantiation) | {} |",
            request.show("µs")
        );
    }
    if let Some(request) = &r.request_us_api_health {
        println!(
            "| one GET /v1/health, the api, pooling allocator (bounds its instantiation) | {} |",
            request.show("µs")
        );
    }
    for (store, load) in &r.booking {
        println!(
            "| POST /v1/loans, {store} | {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms |",
            load.requests_per_second, load.p50_ms, load.p99_ms
        );
    }
    if let Some(n) = &r.nightly {
        println!(
            "| nightly close, {} loans, {}, {} worker(s) on {} host(s) | {} |",
            n.loans,
            n.store,
            n.workers,
            n.hosts,
            n.loans_per_second.show("loans/s")
        );
        println!(
            "| nightly close, peak host RSS | {:.1} MiB |",
            n.peak_host_rss_mib
        );
        let page = &n.first_page;
        println!(
            "| workbench portfolio page's data, {} loans | {:.1} ms: jobs {:.1}, then portfolio {:.1}, trend {:.1}, flows {:.1} at once |",
            n.loans, page.page_ms, page.jobs_ms, page.portfolio_ms, page.trend_ms, page.flows_ms
        );
    }
    for (name, bytes) in &r.component_bytes {
        println!("| {name} | {bytes} bytes |");
    }
}
