//! The nightly close of business over the synthetic book, end to end: postloan-host serving
//! `spin.toml` on a fresh SQLite file or PostgreSQL database, the book seeded straight into
//! it (booking 100,000 loans through the API would take longer than closing them), then
//! `POST /v1/jobs/close-of-business` called until the date is closed, as a scheduler does.
//! Each run closes the next business date of the same book, so every run assesses, scores,
//! plans and stores every loan. Then the requests of the workbench's first page, the
//! portfolio, are timed over the closed book.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{Days, NaiveDate};
use postloan_tests::{Book, RedisServer, TestDatabase};
use serde_json::json;

use crate::book::{AS_OF, LoanRecord};

/// One close's figures.
#[derive(Debug, Clone, Copy)]
pub struct Close {
    /// Loans closed per second, wall time from the first call to the date's completion.
    pub loans_per_second: f64,
    /// The host's peak resident memory so far (VmHWM), MiB.
    pub peak_rss_mib: f64,
}

/// The workbench's portfolio page over the closed book: what each of its requests took,
/// the median of [`FIRST_PAGE_TRIES`] calls, in milliseconds.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct FirstPage {
    /// `GET /v1/jobs?limit=20`, which finds the latest closed date.
    pub jobs_ms: f64,
    /// `GET /v1/portfolio?date=`: aging and ratios of the latest date.
    pub portfolio_ms: f64,
    /// `GET /v1/portfolio/trend`: the 90 days up to it.
    pub trend_ms: f64,
    /// `GET /v1/portfolio/flows` from the first date closed to the latest.
    pub flows_ms: f64,
    /// The page's data: the jobs list, then the other three at once (as the page asks).
    pub page_ms: f64,
}

/// Calls of each first-page request timed.
const FIRST_PAGE_TRIES: usize = 5;

/// Times the first page's requests on `book` whose dates `first` to `last` are closed.
fn first_page(book: &Book, key: &str, first: NaiveDate, last: NaiveDate) -> Result<FirstPage> {
    let time = |path: String| -> Result<f64> {
        let mut tries = Vec::with_capacity(FIRST_PAGE_TRIES);
        for _ in 0..FIRST_PAGE_TRIES {
            let started = Instant::now();
            let (status, body) = book.call_text("GET", &path, key, None);
            tries.push(started.elapsed().as_secs_f64() * 1000.0);
            if status != 200 {
                bail!("{path} answered {status}: {body}");
            }
        }
        tries.sort_by(f64::total_cmp);
        Ok(tries[tries.len() / 2])
    };
    let trend_from = last - Days::new(90);
    let jobs_ms = time("/v1/jobs?limit=20".to_owned())?;
    let portfolio_ms = time(format!("/v1/portfolio?date={last}"))?;
    let trend_ms = time(format!("/v1/portfolio/trend?from={trend_from}&to={last}"))?;
    // One date closed: the flows from it to itself are refused, so time its aging instead.
    let flows_ms = if last > first {
        time(format!("/v1/portfolio/flows?from={first}&to={last}"))?
    } else {
        portfolio_ms
    };
    Ok(FirstPage {
        jobs_ms,
        portfolio_ms,
        trend_ms,
        flows_ms,
        page_ms: jobs_ms + portfolio_ms.max(trend_ms).max(flows_ms),
    })
}

/// Seeds `loans` into a fresh book and closes `runs` business dates from [`AS_OF`] on, each
/// by `workers` concurrent callers of the close route spread over `hosts` postloan-host
/// processes serving the same book (replicas), on SQLite or, when `POSTLOAN_TEST_POSTGRES`
/// names a server, on a PostgreSQL database of its own.
pub fn close(
    loans: &[LoanRecord],
    runs: usize,
    workers: usize,
    hosts: usize,
) -> Result<(Vec<Close>, FirstPage)> {
    let redis = RedisServer::start();
    let first_host = Book::start("bench-nightly", &redis);
    let key = first_host.create_tenant("bench", json!({}));
    seed(&first_host.database, &tables("bench", loans))?;
    let dir = first_host.dir.clone();
    let mut replicas = vec![first_host];
    replicas.extend((1..hosts.max(1)).map(|_| Book::serve(&dir.join("spin.toml"), &dir)));
    let first: NaiveDate = AS_OF.parse()?;
    let closes = (0..runs)
        .map(|run| {
            let date = first + Days::new(run as u64);
            let started = Instant::now();
            let day = date.to_string();
            // The date is closed when the last worker sees it closed.
            let closed = std::thread::scope(|scope| {
                let callers: Vec<_> = (0..workers)
                    .map(|worker| {
                        let replica = &replicas[worker % replicas.len()];
                        let (key, day) = (&key, &day);
                        scope.spawn(move || replica.close(key, day))
                    })
                    .collect();
                callers
                    .into_iter()
                    .map(|caller| caller.join().expect("a caller"))
                    .last()
                    .unwrap_or_default()
            });
            let seconds = started.elapsed().as_secs_f64();
            let job = closed["jobs"]
                .as_array()
                .and_then(|jobs| jobs.last())
                .context("the close answered no job")?;
            // Loans repaid in full leave the book after the close that sees it.
            let processed = job["processed"].as_u64().unwrap_or_default();
            if processed == 0 || job["total"] != processed || job["failures"] != 0 {
                bail!("closing {date} did not close every loan once: {job}");
            }
            let peaks = replicas
                .iter()
                .map(|replica| peak_rss_mib(replica.pid()))
                .collect::<Result<Vec<_>>>()?;
            Ok(Close {
                loans_per_second: processed as f64 / seconds,
                peak_rss_mib: peaks.into_iter().fold(0.0, f64::max),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let last = first + Days::new(runs.saturating_sub(1) as u64);
    Ok((closes, first_page(&replicas[0], &key, first, last)?))
}

/// The rows of one table to seed, every value as text (`None` for `NULL`), as
/// `POST /v1/loans` would store them.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Option<String>>>,
}

/// The book's borrowers, loans, installments, payments and reversals for `loans`.
fn tables(tenant: &str, loans: &[LoanRecord]) -> Vec<Table> {
    let recorded_at = format!("{AS_OF}T00:00:00Z");
    let profile = json!({
        "name": "Borrower", "language": "zh-CN", "time_zone": "Asia/Shanghai",
        "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
    })
    .to_string();
    let text = |value: &str| Some(value.to_owned());
    let mut borrowers = Vec::new();
    let mut loan_rows = Vec::new();
    let mut installments = Vec::new();
    let mut payments = Vec::new();
    let mut reversals = Vec::new();
    for l in loans {
        let borrower_id = format!("B{}", l.id);
        borrowers.push(vec![text(tenant), text(&borrower_id), None, text(&profile)]);
        loan_rows.push(vec![
            text(tenant),
            text(&l.id),
            text(&borrower_id),
            text(&l.currency),
            text(&l.principal),
            text(&l.disbursed_on),
            text(&recorded_at),
            text(&l.principal),
        ]);
        for i in &l.installments {
            installments.push(vec![
                text(tenant),
                text(&l.id),
                Some(i.seq.to_string()),
                text(&i.due_date),
                text(&i.principal),
                text(&i.interest),
                text(&i.fees),
            ]);
        }
        // Payment ids are unique in a tenant; the generator's are unique in a loan.
        for p in &l.payments {
            let id = format!("{}-{}", l.id, p.id);
            payments.push(vec![
                text(tenant),
                Some(id),
                text(&l.id),
                text(&p.value_date),
                text(&p.amount),
                text(&recorded_at),
            ]);
        }
        for r in &l.reversals {
            let id = format!("{}-{}", l.id, r.payment_id);
            reversals.push(vec![
                text(tenant),
                Some(id),
                text(&l.id),
                text(&recorded_at),
            ]);
        }
    }
    vec![
        Table {
            name: "borrowers",
            columns: &["tenant_id", "id", "id_number", "profile"],
            rows: borrowers,
        },
        Table {
            name: "loans",
            columns: &[
                "tenant_id",
                "id",
                "borrower_id",
                "currency",
                "principal",
                "disbursed_on",
                "created_at",
                "outstanding_principal",
            ],
            rows: loan_rows,
        },
        Table {
            name: "installments",
            columns: &[
                "tenant_id",
                "loan_id",
                "seq",
                "due_date",
                "principal",
                "interest",
                "fees",
            ],
            rows: installments,
        },
        Table {
            name: "payments",
            columns: &[
                "tenant_id",
                "id",
                "loan_id",
                "value_date",
                "amount",
                "recorded_at",
            ],
            rows: payments,
        },
        Table {
            name: "reversals",
            columns: &["tenant_id", "payment_id", "loan_id", "recorded_at"],
            rows: reversals,
        },
    ]
}

/// Writes `tables` into the book's database in one transaction (SQLite) or one `COPY` per
/// table (PostgreSQL, which reads each text value into its column's type).
fn seed(database: &TestDatabase, tables: &[Table]) -> Result<()> {
    match database {
        TestDatabase::Sqlite(path) => {
            let mut db = rusqlite::Connection::open(path)?;
            let tx = db.transaction()?;
            for table in tables {
                let marks = vec!["?"; table.columns.len()].join(", ");
                let mut insert = tx.prepare(&format!(
                    "INSERT INTO {} ({}) VALUES ({marks})",
                    table.name,
                    table.columns.join(", ")
                ))?;
                for row in &table.rows {
                    insert.execute(rusqlite::params_from_iter(row))?;
                }
            }
            tx.commit()?;
        }
        TestDatabase::Postgres(url) => {
            let mut db = postgres::Client::connect(url, postgres::NoTls)?;
            for table in tables {
                let mut copy = db.copy_in(&format!(
                    "COPY {} ({}) FROM STDIN",
                    table.name,
                    table.columns.join(", ")
                ))?;
                // COPY's text format: tab-separated, \N for NULL; no seeded value holds a tab,
                // a line break or a backslash.
                for row in &table.rows {
                    let line: Vec<&str> =
                        row.iter().map(|v| v.as_deref().unwrap_or("\\N")).collect();
                    writeln!(copy, "{}", line.join("\t"))?;
                }
                copy.finish()?;
            }
        }
    }
    Ok(())
}

/// The process's peak resident set (VmHWM in /proc), MiB.
fn peak_rss_mib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/PID/status")?;
    Ok(kib / 1024.0)
}
