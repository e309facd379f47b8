//! The nightly close of business over the synthetic book, end to end: postloan-host serving
//! `spin.toml` on a fresh SQLite file, the book seeded straight into that file (booking
//! 100,000 loans through the API would take longer than closing them), then
//! `POST /v1/jobs/close-of-business` called until the date is closed, as a scheduler does.
//! Each run closes the next business date of the same book, so every run assesses, scores,
//! plans and stores every loan.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{Days, NaiveDate};
use postloan_tests::{Book, RedisServer};
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

/// Seeds `loans` into a fresh book and closes `runs` business dates from [`AS_OF`] on, each
/// by `workers` concurrent callers of the close route.
pub fn close(loans: &[LoanRecord], runs: usize, workers: usize) -> Result<Vec<Close>> {
    let redis = RedisServer::start();
    let book = Book::start("bench-nightly", &redis);
    let key = book.create_tenant("bench", json!({}));
    seed(&book.dir.join("state/sqlite/default.db"), "bench", loans)?;
    let first: NaiveDate = AS_OF.parse()?;
    (0..runs)
        .map(|run| {
            let date = first + Days::new(run as u64);
            let started = Instant::now();
            let day = date.to_string();
            // The date is closed when the last worker sees it closed.
            let closed = std::thread::scope(|scope| {
                let callers: Vec<_> = (0..workers)
                    .map(|_| scope.spawn(|| book.close(&key, &day)))
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
            Ok(Close {
                loans_per_second: processed as f64 / seconds,
                peak_rss_mib: peak_rss_mib(book.pid())?,
            })
        })
        .collect()
}

/// Writes the book's borrowers, loans, installments, payments and reversals as
/// `POST /v1/loans` would store them, in one transaction.
fn seed(database: &Path, tenant: &str, loans: &[LoanRecord]) -> Result<()> {
    let mut db = rusqlite::Connection::open(database)?;
    let tx = db.transaction()?;
    {
        let recorded_at = format!("{AS_OF}T00:00:00Z");
        let profile = json!({
            "name": "Borrower", "language": "zh-CN", "time_zone": "Asia/Shanghai",
            "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
        })
        .to_string();
        let mut borrower = tx.prepare(
            "INSERT INTO borrowers (tenant_id, id, id_number, profile) VALUES (?, ?, NULL, ?)",
        )?;
        let mut loan = tx.prepare(
            "INSERT INTO loans (tenant_id, id, borrower_id, currency, principal, disbursed_on,
               created_at, outstanding_principal) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        let mut installment = tx.prepare(
            "INSERT INTO installments (tenant_id, loan_id, seq, due_date, principal, interest, fees)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )?;
        let mut payment = tx.prepare(
            "INSERT INTO payments (tenant_id, id, loan_id, value_date, amount, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )?;
        let mut reversal = tx.prepare(
            "INSERT INTO reversals (tenant_id, payment_id, loan_id, recorded_at) VALUES (?, ?, ?, ?)",
        )?;
        for l in loans {
            let borrower_id = format!("B{}", l.id);
            borrower.execute((tenant, &borrower_id, &profile))?;
            loan.execute((
                tenant,
                &l.id,
                &borrower_id,
                &l.currency,
                &l.principal,
                &l.disbursed_on,
                &recorded_at,
                &l.principal,
            ))?;
            for i in &l.installments {
                installment.execute((
                    tenant,
                    &l.id,
                    i.seq,
                    &i.due_date,
                    &i.principal,
                    &i.interest,
                    &i.fees,
                ))?;
            }
            // Payment ids are unique in a tenant; the generator's are unique in a loan.
            for p in &l.payments {
                let id = format!("{}-{}", l.id, p.id);
                payment.execute((tenant, &id, &l.id, &p.value_date, &p.amount, &recorded_at))?;
            }
            for r in &l.reversals {
                let id = format!("{}-{}", l.id, r.payment_id);
                reversal.execute((tenant, &id, &l.id, &recorded_at))?;
            }
        }
    }
    tx.commit()?;
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
