//! The close-of-business run: for one business date and each loan of a tenant active on
//! that date (active now, or closed by something assessed after it), the pipeline in pages
//! of loans, one transaction per page. The run's loans are split into claims (claims.rs)
//! that concurrent invocations work under leases; each claim's cursor is stored with each
//! page, so a run that is stopped (a time budget spent, a host killed) resumes after the
//! last page it stored, and actions carry a key per loan and date, so no page run twice adds
//! one twice. Dates missed since the last completed run are closed first, in order.

use std::time::{Duration, Instant};

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde_json::{Value, json};
use spin_sdk::http::Response;

use super::audit::{self, Entry};
use super::auth::{Caller, Role};
use super::claims;
use super::db::{Db, Param, Row, get_int, get_optional, get_text, int, text};
use super::events::publish;
use super::loans::query_value;
use super::pipeline::{self, Context};
use super::tenants;
use super::{instant, now, parse_date};
use crate::problem::Problem;

/// Loans per transaction.
const PAGE: i64 = 100;

/// Dates one call closes at most when catching up; the next call goes on.
const MAX_CATCH_UP_DAYS: u64 = 400;

/// The Spin variable bounding the time one invocation spends on jobs, in seconds; it must
/// stay under the host's request timeout.
const BUDGET_VARIABLE: &str = "job_budget_seconds";

/// The Spin variable setting how long a claim's lease lasts without progress, in seconds.
const LEASE_VARIABLE: &str = "job_lease_seconds";

/// `POST /v1/jobs/close-of-business?date=YYYY-MM-DD`: closes every date from the last one
/// closed up to `date`, within this call's time budget. `200` when `date` is closed, `202`
/// while work remains (call again, or let the cron trigger go on).
pub fn start(db: &Db, caller: &Caller, query: &str) -> Result<Response, Problem> {
    caller.require(&[Role::Admin])?;
    let date = query_value(query, "date")
        .ok_or_else(|| Problem::invalid_field("date".into(), "is required (YYYY-MM-DD)"))?;
    let date = parse_date("date", &date)?;
    let jobs = close_up_to(db, &caller.tenant, date, deadline())?;
    let done = jobs
        .last()
        .is_some_and(|j| j["status"] == "completed" && j["business_date"] == date.to_string());
    Ok(crate::json(
        if done { 200 } else { 202 },
        &json!({ "jobs": jobs }),
    ))
}

/// `GET /v1/jobs?limit=N`: the latest runs, the latest business date first.
pub fn list(db: &Db, caller: &Caller, query: &str) -> Result<Response, Problem> {
    let limit = super::page_limit(query, 20, 100)?;
    let items = db.rows(
        "SELECT * FROM job_runs WHERE tenant_id = ? ORDER BY business_date DESC LIMIT ?",
        &[text(&caller.tenant), int(limit)],
        job_json,
    )?;
    Ok(crate::json(200, &json!({ "items": items })))
}

/// `GET /v1/jobs/{id}`: a run and its progress.
pub fn show(db: &Db, caller: &Caller, id: &str) -> Result<Response, Problem> {
    let id_number: i64 = id.parse().map_err(|_| Problem::no_such("job", id))?;
    let job = db
        .row(
            "SELECT * FROM job_runs WHERE tenant_id = ? AND id = ?",
            &[text(&caller.tenant), int(id_number)],
            job_json,
        )?
        .ok_or_else(|| Problem::no_such("job", id))?;
    let mut job = with_failed_loans(db, id_number, job)?;
    job["claims"] = claims::progress(db, id_number)?;
    Ok(crate::json(200, &job))
}

/// The most failing loans a job's answer lists; `failures` counts them all.
const FAILED_LOANS_SHOWN: i64 = 100;

/// `job` with the loans it failed on (the first [`FAILED_LOANS_SHOWN`], by id) and why.
fn with_failed_loans(db: &Db, id: i64, mut job: Value) -> Result<Value, Problem> {
    let failed = db.rows(
        "SELECT loan_id, reason FROM job_failures WHERE job_id = ? ORDER BY loan_id LIMIT ?",
        &[int(id), int(FAILED_LOANS_SHOWN)],
        |row| json!({ "loan_id": get_text(row, "loan_id"), "reason": get_text(row, "reason") }),
    )?;
    job["failed_loans"] = Value::Array(failed);
    Ok(job)
}

/// The cron trigger: closes, for every tenant, the business day that ended before the
/// event (its UTC date minus one), catching up and resuming as the HTTP route does.
pub fn on_cron(timestamp: u64) -> Result<(), Problem> {
    let at = DateTime::<Utc>::from_timestamp(timestamp as i64, 0)
        .ok_or_else(|| Problem::internal(format!("cron timestamp {timestamp} is out of range")))?;
    let date = at.date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
    let db = Db::open()?;
    let until = deadline();
    let tenants = db.rows("SELECT id FROM tenants ORDER BY id", &[], |row| {
        get_text(row, "id")
    })?;
    for tenant in tenants {
        if Instant::now() >= until {
            break;
        }
        // One tenant's failure (its settings, its store) must not hold up the others.
        if let Err(problem) = close_up_to(&db, &tenant, date, until) {
            eprintln!(
                "postloan: nightly close of {date} for tenant {tenant} failed: {}",
                problem.detail()
            );
        }
    }
    Ok(())
}

/// When this invocation stops starting pages.
fn deadline() -> Instant {
    let seconds = spin_sdk::variables::get(BUDGET_VARIABLE)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(5);
    Instant::now() + Duration::from_secs(seconds)
}

/// Closes `tenant`'s dates up to `date` in order until `until`; the runs touched, oldest
/// first.
fn close_up_to(
    db: &Db,
    tenant: &str,
    date: NaiveDate,
    until: Instant,
) -> Result<Vec<Value>, Problem> {
    let mut touched = Vec::new();
    for day in dates_to_close(db, tenant, date)? {
        let id = job_for(db, tenant, day)?;
        let completed = run(db, tenant, id, day, until)?;
        touched.push(
            db.row("SELECT * FROM job_runs WHERE id = ?", &[int(id)], job_json)?
                .unwrap_or(Value::Null),
        );
        if !completed {
            break;
        }
    }
    if touched.is_empty() {
        // Closed before: the run of `date` as it stands.
        touched.extend(db.row(
            "SELECT * FROM job_runs WHERE tenant_id = ? AND business_date = ?",
            &[text(tenant), text(date.to_string())],
            job_json,
        )?);
    }
    Ok(touched)
}

/// The dates still to close up to `date`: from the day after the last completed run (or
/// `date` alone for a tenant's first run), leaving out dates closed already.
fn dates_to_close(db: &Db, tenant: &str, date: NaiveDate) -> Result<Vec<NaiveDate>, Problem> {
    let last = db
        .row(
            "SELECT MAX(business_date) AS d FROM job_runs WHERE tenant_id = ? AND status = 'completed'",
            &[text(tenant)],
            |row| get_optional(row, "d"),
        )?
        .flatten();
    let first = match last {
        Some(last) => parse_date("business_date", &last)?
            .checked_add_days(Days::new(1))
            .unwrap_or(date),
        None => date,
    };
    Ok(first
        .iter_days()
        .take_while(|d| *d <= date)
        .take(MAX_CATCH_UP_DAYS as usize)
        .collect())
}

/// The run of (`tenant`, `date`), created with its claims if there is none.
fn job_for(db: &Db, tenant: &str, date: NaiveDate) -> Result<i64, Problem> {
    db.transaction(|db| create_job(db, tenant, date))
}

/// The loans the close of a date runs over: the tenant's loans disbursed by the date that
/// are active, or were closed by something assessed after it (a loan paid off on 02-25 is
/// still in the close of 02-20), or were written off after it (a close caught up for a date
/// before the write-off still counts the loan; the writer stores only its snapshot), or are
/// written off at all when the run has the tenant's recovery strategy on. Its parameters are
/// [`closing_on`]'s.
const CLOSING_ON: &str = "tenant_id = ? AND disbursed_on <= ?
     AND ((status <> 'written_off' AND (status = 'active' OR assessed_on > ?))
          OR written_off_on > ? OR (status = 'written_off' AND ? = 'on'))";

/// The parameters of [`CLOSING_ON`] for `tenant` and business date `day`, with or without
/// the written-off loans (`recovery`).
fn closing_on(tenant: &str, day: &str, recovery: bool) -> Vec<Param> {
    let recovery = if recovery { "on" } else { "off" };
    vec![
        text(tenant),
        text(day),
        text(day),
        text(day),
        text(recovery),
    ]
}

fn create_job(db: &Db, tenant: &str, date: NaiveDate) -> Result<i64, Problem> {
    let day = date.to_string();
    // Settings that cannot be read fail the run's loans later, each counted.
    let recovery = tenants::settings(db, tenant).is_ok_and(|s| s.recovery.is_some());
    let mut params = vec![
        text(tenant),
        text(&day),
        text(instant(now())),
        int(i64::from(recovery)),
    ];
    params.extend(closing_on(tenant, &day, recovery));
    db.run(
        &format!(
            "INSERT INTO job_runs (tenant_id, business_date, status, total, started_at, recovery)
             SELECT ?, ?, 'running', COUNT(*), ?, ? FROM loans WHERE {CLOSING_ON}
             ON CONFLICT (tenant_id, business_date) DO NOTHING"
        ),
        &params,
    )?;
    let (id, cursor, recovery) = db
        .row(
            "SELECT id, cursor, recovery FROM job_runs WHERE tenant_id = ? AND business_date = ?",
            &[text(tenant), text(&day)],
            |row| {
                (
                    get_int(row, "id"),
                    get_text(row, "cursor"),
                    get_int(row, "recovery") != 0,
                )
            },
        )?
        .ok_or_else(|| Problem::internal(format!("the run of {day} was not stored")))?;
    // A run started before claims existed goes on after its own cursor.
    claims::partition(db, id, &cursor, |after| {
        let mut params = closing_on(tenant, &day, recovery);
        params.extend([text(after), int(claims::LOANS - 1)]);
        db.row(
            &format!(
                "SELECT id FROM loans WHERE {CLOSING_ON} AND id > ? ORDER BY id LIMIT 1 OFFSET ?"
            ),
            &params,
            |row| get_text(row, "id"),
        )
    })?;
    Ok(id)
}

/// Runs job `id` claim by claim, page by page, until it completes (`true`) or `until`
/// passes (`false`). Several invocations may run one job at once: each works the claims it
/// holds, and the job completes when the last claim is done, by whichever worker.
fn run(db: &Db, tenant: &str, id: i64, date: NaiveDate, until: Instant) -> Result<bool, Problem> {
    // A tenant whose settings cannot be read fails every loan, counted, as any failing loan.
    let context = tenants::settings(db, tenant).and_then(|s| Context::new(&s));
    let recovery = db
        .row(
            "SELECT recovery FROM job_runs WHERE id = ?",
            &[int(id)],
            |row| get_int(row, "recovery") != 0,
        )?
        .unwrap_or(false);
    let scope = Scope {
        context,
        date,
        recovery,
    };
    let worker = claims::Worker::new(lease_seconds());
    loop {
        let Some(claim) = db.transaction(|db| worker.take(db, id))? else {
            // Nothing free: done, or every open claim held by a live worker.
            return db.transaction(|db| complete_if_done(db, tenant, id, date));
        };
        // The claim's pages until it is done or lost to another worker.
        while let Page::Written(new_actions) = page(db, tenant, &scope, &worker, &claim, until)? {
            publish(&new_actions);
            if Instant::now() >= until {
                return Ok(false);
            }
        }
        if Instant::now() >= until {
            return db.transaction(|db| complete_if_done(db, tenant, id, date));
        }
    }
}

/// How long a worker holds a claim without showing progress before another may take it
/// over, from the Spin variable `job_lease_seconds`; well above a page's time budget.
fn lease_seconds() -> i64 {
    spin_sdk::variables::get(LEASE_VARIABLE)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(60)
}

/// What one page of a claim did.
enum Page {
    /// Its decisions were written: the actions they added to the outbox.
    Written(Vec<Value>),
    /// The claim had no loans left: it is done.
    ClaimDone,
    /// Another worker took the claim over (this one's lease expired): nothing was written.
    Lost,
}

/// What every page of a run decides its loans by: the tenant's settings (or why they cannot
/// be read), the business date, and whether the run takes in the written-off loans.
struct Scope {
    context: Result<Context, Problem>,
    date: NaiveDate,
    recovery: bool,
}

/// One page of claim `claim`'s loans after its cursor. The loans are read and decided
/// outside any transaction, so that other workers' pages go on meanwhile; the decisions are
/// then written in one transaction with the claim's and the job's progress, which starts by
/// moving the claim's cursor on — only if this worker still holds the claim at the cursor it
/// read, so a page is written once however workers come and go. A loan the pipeline fails on
/// writes nothing; it is counted, recorded on the job and logged, so one bad loan does not
/// stop the book. The page ends early once `until` has passed, so a slow page cannot outlast
/// the host's request timeout; it always does one loan, so every call makes progress. A page
/// that ends past `until` hands the claim back, so the next call (or another worker) goes on
/// at once.
fn page(
    db: &Db,
    tenant: &str,
    scope: &Scope,
    worker: &claims::Worker,
    claim: &claims::Claim,
    until: Instant,
) -> Result<Page, Problem> {
    let date = scope.date;
    let Some(cursor) = worker.renew(db, claim)? else {
        return Ok(Page::Lost);
    };
    let day = date.to_string();
    let loan_ids = claim_loans(db, tenant, claim, &cursor, &day, scope.recovery)?;
    if loan_ids.is_empty() {
        let finished = db.transaction(|db| worker.finish(db, claim, &cursor))?;
        return Ok(if finished {
            Page::ClaimDone
        } else {
            Page::Lost
        });
    }
    let closed = pipeline::close(db, tenant, &scope.context, &loan_ids, date, || {
        Instant::now() < until
    })?;
    // Every loan the page read is done unless the budget ran out first.
    let last = closed.done.last().or(loan_ids.last()).unwrap_or(&cursor);
    let release = Instant::now() >= until;
    db.transaction(|db| {
        if !worker.advance(db, claim, &cursor, last, release)? {
            return Ok(Page::Lost);
        }
        record_failures(db, claim.job_id, &day, tenant, &closed.failures)?;
        let new_actions = closed.write(db, tenant)?;
        db.run(
            "UPDATE job_runs SET processed = processed + ?, actions = actions + ?,
               failures = failures + ? WHERE id = ?",
            &[
                int(closed.done.len() as i64),
                int(new_actions.len() as i64),
                int(closed.failures.len() as i64),
                int(claim.job_id),
            ],
        )?;
        Ok(Page::Written(new_actions))
    })
}

/// The next page of the claim's loans after `cursor` that close on `day`.
fn claim_loans(
    db: &Db,
    tenant: &str,
    claim: &claims::Claim,
    cursor: &str,
    day: &str,
    recovery: bool,
) -> Result<Vec<String>, Problem> {
    let mut sql = format!("SELECT id FROM loans WHERE {CLOSING_ON} AND id > ?");
    let mut params = closing_on(tenant, day, recovery);
    params.push(text(cursor));
    if let Some(last) = &claim.last_id {
        sql.push_str(" AND id <= ?");
        params.push(text(last));
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    params.push(int(PAGE));
    db.rows(&sql, &params, |row| get_text(row, "id"))
}

/// Logs the loans a page failed on and records them on the job, for `GET /v1/jobs/{id}`.
fn record_failures(
    db: &Db,
    job_id: i64,
    day: &str,
    tenant: &str,
    failures: &[(String, String)],
) -> Result<(), Problem> {
    for (loan_id, reason) in failures {
        eprintln!("postloan: close of {day}: tenant {tenant} loan {loan_id} failed: {reason}");
        db.run(
            "INSERT INTO job_failures (job_id, loan_id, reason) VALUES (?, ?, ?)
             ON CONFLICT (job_id, loan_id) DO UPDATE SET reason = excluded.reason",
            &[int(job_id), text(loan_id), text(reason)],
        )?;
    }
    Ok(())
}

/// Completes job `id` once every claim is done (`true`); `false` while some are open.
fn complete_if_done(db: &Db, tenant: &str, id: i64, date: NaiveDate) -> Result<bool, Problem> {
    let status = db
        .row(
            "SELECT status FROM job_runs WHERE id = ?",
            &[int(id)],
            |row| get_text(row, "status"),
        )?
        .ok_or_else(|| Problem::internal(format!("job {id} vanished")))?;
    if status == "completed" {
        return Ok(true);
    }
    if claims::open(db, id)? > 0 {
        return Ok(false);
    }
    complete(db, tenant, id, date)?;
    Ok(true)
}

/// Marks the run completed and records it in the audit log.
fn complete(db: &Db, tenant: &str, id: i64, date: NaiveDate) -> Result<(), Problem> {
    let at = instant(now());
    db.run(
        "UPDATE job_runs SET status = 'completed', finished_at = ? WHERE id = ?",
        &[text(&at), int(id)],
    )?;
    super::portfolio::keep_headline(db, tenant, id, date)?;
    let summary = db
        .row("SELECT * FROM job_runs WHERE id = ?", &[int(id)], job_json)?
        .unwrap_or(Value::Null);
    audit::append(
        db,
        tenant,
        &at,
        Entry {
            actor: "close-of-business",
            action: "close_of_business.completed",
            entity: &format!("job:{id}"),
            detail: json!({ "business_date": date.to_string(), "processed": summary["processed"], "actions": summary["actions"], "failures": summary["failures"] }).to_string(),
        },
    )
}

fn job_json(row: &Row<'_>) -> Value {
    json!({
        "id": get_int(row, "id"),
        "business_date": get_text(row, "business_date"),
        "status": get_text(row, "status"),
        "processed": get_int(row, "processed"),
        "total": get_int(row, "total"),
        "actions": get_int(row, "actions"),
        "failures": get_int(row, "failures"),
        "started_at": get_text(row, "started_at"),
        "finished_at": get_optional(row, "finished_at"),
    })
}
