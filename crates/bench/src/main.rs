//! `scripts/bench`: how fast postloan is, beside native Rust and a hello-world component.
//! Prints a table and writes `target/bench/results.json`. Each figure is the median of
//! several runs, with the min and max beside it.

mod assessment;
mod book;
mod http;
mod instantiation;

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
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
    /// A few seconds in all, to prove the harness still works (CI runs this).
    #[arg(long)]
    smoke: bool,
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

#[derive(Serialize)]
struct Results {
    loans: usize,
    seed: u64,
    runs: usize,
    native_us_per_loan: Spread,
    wasm_us_per_loan: Spread,
    wasm_native_ratio: f64,
    assess_http: HttpFigures,
    hello_http: HttpFigures,
    throughput_ratio: f64,
    request_us_hello: Spread,
    component_bytes: Vec<(String, u64)>,
}

#[derive(Serialize)]
struct HttpFigures {
    requests_per_second: Spread,
    p50_ms: Spread,
    p99_ms: Spread,
}

fn main() -> Result<()> {
    let mut options = Options::parse();
    if options.smoke {
        (options.loans, options.runs, options.seconds) = (200, 1, 1);
    }
    let book = book::generate(options.loans, options.seed);
    let overdue = artifact("target/wasm32-wasip2/release/postloan_overdue.wasm");
    let native = (0..options.runs)
        .map(|_| assessment::native(&book))
        .collect::<Result<Vec<_>>>()?;
    let wasm = (0..options.runs)
        .map(|_| assessment::wasm(&book, &overdue))
        .collect::<Result<Vec<_>>>()?;
    let (native, wasm) = (Spread::of(native), Spread::of(wasm));

    let body = serde_json::json!({ "as_of": book::AS_OF, "loan": book.iter().find(|l| l.payments.len() > 3) })
        .to_string();
    let app = root().join("spin.toml");
    let hello = root().join("tests/fixtures/spin.toml");
    let run = |manifest: &PathBuf, path: &str, body: Option<&str>| {
        (0..options.runs)
            .map(|_| http::load(manifest, path, body, options.seconds, options.connections))
            .collect::<Result<Vec<_>>>()
            .map(figures)
    };
    let assess_http = run(&app, "/v1/assess", Some(&body))?;
    let hello_http = run(&hello, "/hello", None)?;
    let fixture = artifact("tests/fixtures/target/wasm32-wasip2/release/hello_fixture.wasm");
    let requests = if options.smoke { 100 } else { 5_000 };
    let request_us_hello = (0..options.runs)
        .map(|_| instantiation::per_request(&fixture, requests))
        .collect::<Result<Vec<_>>>()
        .map(Spread::of)?;

    let component_bytes = [
        "postloan_api",
        "postloan_overdue",
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
    .collect();
    let results = Results {
        loans: options.loans,
        seed: options.seed,
        runs: options.runs,
        wasm_native_ratio: wasm.median / native.median,
        throughput_ratio: assess_http.requests_per_second.median
            / hello_http.requests_per_second.median,
        request_us_hello,
        native_us_per_loan: native,
        wasm_us_per_loan: wasm,
        assess_http,
        hello_http,
        component_bytes,
    };
    print(&results);
    let out = root().join("target/bench/results.json");
    std::fs::create_dir_all(root().join("target/bench"))?;
    std::fs::write(&out, serde_json::to_string_pretty(&results)?)?;
    println!("\nwritten: {}", out.display());
    Ok(())
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
    println!(
        "| assessment, native | {} |",
        r.native_us_per_loan.show("µs/loan")
    );
    println!(
        "| assessment, Wasm component | {} |",
        r.wasm_us_per_loan.show("µs/loan")
    );
    println!("| Wasm/native ratio | {:.2} |", r.wasm_native_ratio);
    println!(
        "| POST /v1/assess | {} |",
        r.assess_http.requests_per_second.show("req/s")
    );
    println!(
        "| POST /v1/assess p50 / p99 | {:.2} / {:.2} ms |",
        r.assess_http.p50_ms.median, r.assess_http.p99_ms.median
    );
    println!(
        "| hello-world component | {} |",
        r.hello_http.requests_per_second.show("req/s")
    );
    println!(
        "| hello-world p50 / p99 | {:.2} / {:.2} ms |",
        r.hello_http.p50_ms.median, r.hello_http.p99_ms.median
    );
    println!(
        "| /v1/assess / hello-world throughput | {:.2} |",
        r.throughput_ratio
    );
    println!(
        "| one request, hello-world, pooling allocator (bounds instantiation) | {} |",
        r.request_us_hello.show("µs")
    );
    for (name, bytes) in &r.component_bytes {
        println!("| {name} | {bytes} bytes |");
    }
}
