//! Claims on a close-of-business run: its loans split by id into ranges of [`LOANS`], each
//! worked by one worker at a time under a lease (who holds it, until when). Several
//! invocations — HTTP calls, overlapping cron ticks, replicas — thus work one date at once,
//! each page exactly once: a page is written in one transaction with its claim's cursor,
//! and only by the claim's holder. A holder that dies stops renewing its lease; once the
//! lease has passed another worker takes the claim over after its last stored page.

use std::hash::{BuildHasher, Hasher};

use chrono::{Duration, SecondsFormat};
use serde_json::{Value, json};

use super::db::{Db, get_int, get_optional, get_text, int, optional, text};
use super::now;
use crate::problem::Problem;

/// Loans per claim: five pages, so that a claim is a few seconds of work.
pub const LOANS: i64 = 500;

/// A claim a worker holds.
pub struct Claim {
    /// The run it belongs to.
    pub job_id: i64,
    /// Its place in the run.
    seq: i64,
    /// The last loan id it covers; `None` for the last claim, which takes every id after.
    pub last_id: Option<String>,
}

/// One invocation working a run: its name in the claims it holds and the length of its
/// leases.
pub struct Worker {
    name: String,
    lease_seconds: i64,
}

impl Worker {
    /// A worker with a name of its own, random, and leases of `lease_seconds`.
    pub fn new(lease_seconds: i64) -> Self {
        // Seeded from the host's randomness (WASI random), so two invocations never share one.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Self {
            name: format!("worker-{random:016x}"),
            lease_seconds,
        }
    }

    /// The instant the lease taken now runs out.
    fn lease_end(&self) -> String {
        lease_instant(now() + Duration::seconds(self.lease_seconds))
    }

    /// Takes the first claim of run `job_id` that is open and held by nobody, or whose
    /// lease has passed; `None` when there is none.
    pub fn take(&self, db: &Db, job_id: i64) -> Result<Option<Claim>, Problem> {
        db.row(
            "UPDATE job_claims SET holder = ?, lease_until = ?
             WHERE job_id = ? AND seq = (
               SELECT seq FROM job_claims
               WHERE job_id = ? AND status = 'open' AND (holder IS NULL OR lease_until < ?)
               ORDER BY seq LIMIT 1)
             RETURNING seq, last_id",
            &[
                text(&self.name),
                text(self.lease_end()),
                int(job_id),
                int(job_id),
                text(lease_instant(now())),
            ],
            |row| Claim {
                job_id,
                seq: get_int(row, "seq"),
                last_id: get_optional(row, "last_id"),
            },
        )
    }

    /// Renews the lease on `claim`: its cursor, or `None` when another worker holds it now.
    pub fn renew(&self, db: &Db, claim: &Claim) -> Result<Option<String>, Problem> {
        db.row(
            "UPDATE job_claims SET lease_until = ?
             WHERE job_id = ? AND seq = ? AND holder = ? AND status = 'open'
             RETURNING cursor",
            &[
                text(self.lease_end()),
                int(claim.job_id),
                int(claim.seq),
                text(&self.name),
            ],
            |row| get_text(row, "cursor"),
        )
    }

    /// Moves `claim`'s cursor from `read` to `last`, the last loan done, if this worker still
    /// holds it at `read` (`false` when another has taken it over); `release` hands the claim
    /// back so that any worker may go on with it at once.
    pub fn advance(
        &self,
        db: &Db,
        claim: &Claim,
        read: &str,
        last: &str,
        release: bool,
    ) -> Result<bool, Problem> {
        let (holder, lease_until) = if release {
            (None, None)
        } else {
            (Some(self.name.clone()), Some(self.lease_end()))
        };
        let moved = db.row(
            "UPDATE job_claims SET cursor = ?, holder = ?, lease_until = ?
             WHERE job_id = ? AND seq = ? AND holder = ? AND cursor = ? AND status = 'open'
             RETURNING seq",
            &[
                text(last),
                optional(holder),
                optional(lease_until),
                int(claim.job_id),
                int(claim.seq),
                text(&self.name),
                text(read),
            ],
            |_| (),
        )?;
        Ok(moved.is_some())
    }

    /// Marks `claim` done at `cursor` if this worker still holds it there (`false` when
    /// another has taken it over); its holder stays, as the worker that finished it.
    pub fn finish(&self, db: &Db, claim: &Claim, cursor: &str) -> Result<bool, Problem> {
        let finished = db.row(
            "UPDATE job_claims SET status = 'done', lease_until = NULL
             WHERE job_id = ? AND seq = ? AND holder = ? AND cursor = ? AND status = 'open'
             RETURNING seq",
            &[
                int(claim.job_id),
                int(claim.seq),
                text(&self.name),
                text(cursor),
            ],
            |_| (),
        )?;
        Ok(finished.is_some())
    }
}

/// An instant as leases store it: RFC 3339 UTC with milliseconds, so that they compare as
/// text.
fn lease_instant(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Splits run `job_id` into claims, unless it has them: ranges of [`LOANS`] loans after
/// `start`, where `boundary(after)` is the id [`LOANS`] loans after `after` (`None` when
/// fewer remain). The last claim is open-ended, so loans booked later are still closed.
pub fn partition(
    db: &Db,
    job_id: i64,
    start: &str,
    boundary: impl Fn(&str) -> Result<Option<String>, Problem>,
) -> Result<(), Problem> {
    if count(db, job_id, "1 = 1")? > 0 {
        return Ok(());
    }
    let mut after = start.to_owned();
    for seq in 0.. {
        let last = boundary(&after)?;
        db.run(
            "INSERT INTO job_claims (job_id, seq, after_id, last_id, cursor) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (job_id, seq) DO NOTHING",
            &[
                int(job_id),
                int(seq),
                text(&after),
                optional(last.clone()),
                text(&after),
            ],
        )?;
        match last {
            Some(last) => after = last,
            None => break,
        }
    }
    Ok(())
}

/// How many of run `job_id`'s claims are still open.
pub fn open(db: &Db, job_id: i64) -> Result<i64, Problem> {
    count(db, job_id, "status = 'open'")
}

fn count(db: &Db, job_id: i64, condition: &str) -> Result<i64, Problem> {
    Ok(db
        .row(
            &format!("SELECT COUNT(*) AS n FROM job_claims WHERE job_id = ? AND {condition}"),
            &[int(job_id)],
            |row| get_int(row, "n"),
        )?
        .unwrap_or(0))
}

/// Run `job_id`'s progress across workers: its claims, how many are done and how many held
/// now, how many workers finished one and how many each did.
pub fn progress(db: &Db, job_id: i64) -> Result<Value, Problem> {
    let now = lease_instant(now());
    db.row(
        "SELECT COUNT(*) AS total,
           SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done,
           SUM(CASE WHEN status = 'open' AND holder IS NOT NULL AND lease_until >= ? THEN 1 ELSE 0 END) AS held,
           COUNT(DISTINCT CASE WHEN status = 'done' THEN holder END) AS workers
         FROM job_claims WHERE job_id = ?",
        &[text(now), int(job_id)],
        |row| {
            json!({
                "total": get_int(row, "total"),
                "done": get_int(row, "done"),
                "held": get_int(row, "held"),
                "workers": get_int(row, "workers"),
            })
        },
    )
    .and_then(|progress| {
        let Some(mut progress) = progress else {
            return Ok(Value::Null);
        };
        progress["by_worker"] = Value::Array(db.rows(
            "SELECT holder, COUNT(*) AS claims FROM job_claims
             WHERE job_id = ? AND status = 'done' AND holder IS NOT NULL
             GROUP BY holder ORDER BY holder",
            &[int(job_id)],
            |row| json!({ "worker": get_text(row, "holder"), "claims": get_int(row, "claims") }),
        )?);
        Ok(progress)
    })
}
