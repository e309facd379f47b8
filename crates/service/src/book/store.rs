//! The pipeline's store: reads the facts of a set of loans with one query per table, however
//! many loans the set holds, and writes back what the pipeline decided for them, batched.
//! The pipeline's steps (`pipeline.rs`) see typed facts and decisions, never SQL.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use postloan_domain::portfolio::{Recovery, WriteOff};

use super::audit::{self, Entry};
use super::db::{Db, Param, Row, get_int, get_optional, get_text, int, optional, text};
use super::parse_date;
use crate::assess::BreakdownJson;
use crate::input::RescheduleJson;
use crate::postloan::core::types as wit;
use crate::problem::Problem;

/// What the book holds of one loan, as the pipeline reads it.
pub struct Stored {
    /// The loan as the overdue component takes it.
    pub loan: wit::Loan,
    /// Its borrower.
    pub borrower_id: String,
    /// The borrower's identity number.
    pub id_number: Option<String>,
    /// The borrower's contact profile.
    pub profile: Value,
    /// When it was disbursed.
    pub disbursed_on: String,
    /// Its escalation stage so far.
    pub stage: String,
    /// The business date it was last assessed for.
    pub assessed_on: Option<String>,
}

/// A promise to pay as the book holds it.
#[derive(Clone)]
pub struct PromiseRow {
    /// Its id.
    pub id: String,
    /// The amount promised.
    pub amount: String,
    /// The date it was promised for.
    pub date: String,
    /// The day it was made.
    pub made_on: String,
    /// `open`, `kept` or `broken`.
    pub status: String,
}

/// One loan's facts for the pipeline: the loan, its promises and its borrower's recent
/// contact attempts (on any of the borrower's loans, oldest first).
pub struct Facts {
    /// The loan.
    pub stored: Stored,
    /// Its promises, by date.
    pub promises: Vec<PromiseRow>,
    /// The borrower's contact attempts since the instant asked for, and the contacts planned
    /// for the loan.
    pub attempts: Vec<AttemptRow>,
    /// Its write-off and the recoveries since, when it is written off.
    pub written_off: Option<(WriteOff, Vec<Recovery>)>,
}

/// A contact attempt as the book holds it, or a contact the outbox holds as `planned`.
#[derive(Clone)]
pub struct AttemptRow {
    /// The loan it is about.
    pub loan_id: String,
    /// The channel's name, such as `sms`.
    pub channel: String,
    /// When it was made, or the start of its window.
    pub at: String,
    /// The outcome's name, such as `delivered` or `planned`.
    pub outcome: String,
}

/// `?, ?, ?` for `n` parameters of `x IN (...)`; `NULL` for none, which no `x` is in
/// (PostgreSQL refuses an empty `IN ()`, which SQLite reads as no value).
fn placeholders(n: usize) -> String {
    if n == 0 {
        return "NULL".to_owned();
    }
    vec!["?"; n].join(", ")
}

/// The tenant, then each of `ids`: the parameters of `tenant_id = ? AND x IN (...)`.
fn keyed(tenant: &str, ids: &[String]) -> Vec<Param> {
    std::iter::once(text(tenant))
        .chain(ids.iter().map(text))
        .collect()
}

/// Rows of one table for the loans `ids`, grouped by their `loan_id` column.
fn by_loan<T>(
    db: &Db,
    sql: &str,
    params: &[Param],
    map: impl Fn(&Row<'_>) -> T,
) -> Result<BTreeMap<String, Vec<T>>, Problem> {
    let mut grouped: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for (loan_id, row) in db.rows(sql, params, |row| (get_text(row, "loan_id"), map(row)))? {
        grouped.entry(loan_id).or_default().push(row);
    }
    Ok(grouped)
}

/// `AND loan_id IN (...)` with its parameters after the tenant's, for the loans `ids` of
/// `tenant` only; nothing more for all its loans.
fn of_loans(tenant: &str, ids: Option<&[String]>) -> (String, Vec<Param>) {
    match ids {
        Some(ids) => (
            format!("AND loan_id IN ({})", placeholders(ids.len())),
            keyed(tenant, ids),
        ),
        None => (String::new(), vec![text(tenant)]),
    }
}

/// The recoveries of `tenant` (on the loans `ids` only, when given): payments on loans
/// after their write-off, less those reversed.
pub fn recoveries(db: &Db, tenant: &str, ids: Option<&[String]>) -> Result<Vec<Recovery>, Problem> {
    let (of_loans, params) = of_loans(tenant, ids);
    let rows = db.rows(
        &format!(
            "SELECT loan_id, value_date, amount FROM payments p
             WHERE tenant_id = ? AND recovery = 1 {of_loans}
             AND NOT EXISTS (SELECT 1 FROM reversals r
                             WHERE r.tenant_id = p.tenant_id AND r.payment_id = p.id)
             ORDER BY loan_id, value_date, id"
        ),
        &params,
        |row| {
            (
                get_text(row, "loan_id"),
                get_text(row, "value_date"),
                get_text(row, "amount"),
            )
        },
    )?;
    rows.into_iter()
        .map(|(loan_id, value_date, amount)| {
            Ok(Recovery {
                loan_id,
                value_date: parse_date("value_date", &value_date)?,
                amount: stored_sum("amount", &amount)?,
            })
        })
        .collect()
}

/// A sum the book wrote, read back: over many installments it may be beyond what one posted
/// amount can be, so it is read as a plain decimal.
fn stored_sum(field: &str, text: &str) -> Result<rust_decimal::Decimal, Problem> {
    text.parse()
        .map_err(|e| Problem::internal(format!("the stored {field} `{text}`: {e}")))
}

/// How many loans of `tenant` were restructured, and how many re-aged, on or before `date`:
/// a loan counts once in each however often it was.
pub fn rescheduled_loans(db: &Db, tenant: &str, date: &str) -> Result<(i64, i64), Problem> {
    let counts = db.rows(
        "SELECT kind, COUNT(DISTINCT loan_id) AS loans FROM reschedules
         WHERE tenant_id = ? AND on_date <= ? GROUP BY kind",
        &[text(tenant), text(date)],
        |row| (get_text(row, "kind"), get_int(row, "loans")),
    )?;
    let of = |kind: &str| {
        counts
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n)
    };
    Ok((of("restructure"), of("re_age")))
}

/// The write-offs of `tenant` (of the loans `ids` only, when given).
pub fn write_offs(db: &Db, tenant: &str, ids: Option<&[String]>) -> Result<Vec<WriteOff>, Problem> {
    let (of_loans, params) = of_loans(tenant, ids);
    let rows = db.rows(
        &format!(
            "SELECT loan_id, written_off_on, principal, total FROM write_offs
             WHERE tenant_id = ? {of_loans} ORDER BY loan_id"
        ),
        &params,
        |row| {
            (
                get_text(row, "loan_id"),
                get_text(row, "written_off_on"),
                get_text(row, "principal"),
                get_text(row, "total"),
            )
        },
    )?;
    rows.into_iter()
        .map(|(loan_id, on, principal, total)| {
            Ok(WriteOff {
                loan_id,
                on: parse_date("written_off_on", &on)?,
                principal: stored_sum("principal", &principal)?,
                total: stored_sum("total", &total)?,
            })
        })
        .collect()
}

/// The loans `ids` of `tenant` that exist, in the order of `ids`, with their schedules,
/// payments, reversals, pauses and borrowers: six queries for the whole set.
pub fn loans(db: &Db, tenant: &str, ids: &[String]) -> Result<Vec<Stored>, Problem> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let set = placeholders(ids.len());
    let params = keyed(tenant, ids);
    let heads: BTreeMap<String, (String, String, String, String, Option<String>)> = db
        .rows(
            &format!(
                "SELECT id, borrower_id, currency, disbursed_on, stage, assessed_on FROM loans
                 WHERE tenant_id = ? AND id IN ({set})"
            ),
            &params,
            |row| {
                (
                    get_text(row, "id"),
                    (
                        get_text(row, "borrower_id"),
                        get_text(row, "currency"),
                        get_text(row, "disbursed_on"),
                        get_text(row, "stage"),
                        get_optional(row, "assessed_on"),
                    ),
                )
            },
        )?
        .into_iter()
        .collect();
    let mut installments = by_loan(
        db,
        &format!(
            "SELECT loan_id, seq, due_date, principal, interest, fees FROM installments
             WHERE tenant_id = ? AND loan_id IN ({set}) ORDER BY loan_id, seq"
        ),
        &params,
        |row| wit::Installment {
            seq: get_int(row, "seq") as u32,
            due_date: get_text(row, "due_date"),
            principal: get_text(row, "principal"),
            interest: get_text(row, "interest"),
            fees: get_text(row, "fees"),
        },
    )?;
    let mut payments = by_loan(
        db,
        &format!(
            "SELECT loan_id, id, value_date, amount FROM payments
             WHERE tenant_id = ? AND loan_id IN ({set}) AND recovery = 0
             ORDER BY loan_id, value_date, id"
        ),
        &params,
        |row| wit::Payment {
            id: get_text(row, "id"),
            value_date: get_text(row, "value_date"),
            amount: get_text(row, "amount"),
        },
    )?;
    let mut reversals = by_loan(
        db,
        &format!(
            "SELECT loan_id, payment_id FROM reversals
             WHERE tenant_id = ? AND loan_id IN ({set})
             AND EXISTS (SELECT 1 FROM payments p
                         WHERE p.tenant_id = reversals.tenant_id AND p.id = reversals.payment_id
                         AND p.recovery = 0)
             ORDER BY loan_id, payment_id"
        ),
        &params,
        |row| wit::Reversal {
            payment_id: get_text(row, "payment_id"),
        },
    )?;
    let mut pauses = by_loan(
        db,
        &format!(
            "SELECT loan_id, from_date, to_date, reason FROM pauses
             WHERE tenant_id = ? AND loan_id IN ({set}) ORDER BY loan_id, from_date"
        ),
        &params,
        |row| wit::Pause {
            from: get_text(row, "from_date"),
            to: get_text(row, "to_date"),
            reason: get_text(row, "reason"),
        },
    )?;
    let mut reschedules = by_loan(
        db,
        &format!(
            "SELECT loan_id, terms FROM reschedules
             WHERE tenant_id = ? AND loan_id IN ({set}) ORDER BY loan_id, on_date"
        ),
        &params,
        |row| get_text(row, "terms"),
    )?;
    let borrower_ids: Vec<String> = heads.values().map(|h| h.0.clone()).collect();
    let borrowers: BTreeMap<String, (Option<String>, String)> = db
        .rows(
            &format!(
                "SELECT id, id_number, profile FROM borrowers
                 WHERE tenant_id = ? AND id IN ({})",
                placeholders(borrower_ids.len())
            ),
            &keyed(tenant, &borrower_ids),
            |row| {
                (
                    get_text(row, "id"),
                    (get_optional(row, "id_number"), get_text(row, "profile")),
                )
            },
        )?
        .into_iter()
        .collect();
    Ok(ids
        .iter()
        .filter_map(|id| {
            let (borrower_id, currency, disbursed_on, stage, assessed_on) = heads.get(id)?.clone();
            let (id_number, profile) = borrowers.get(&borrower_id).cloned().unwrap_or_default();
            Some(Stored {
                loan: wit::Loan {
                    id: id.clone(),
                    currency,
                    installments: installments.remove(id).unwrap_or_default(),
                    payments: payments.remove(id).unwrap_or_default(),
                    reversals: reversals.remove(id).unwrap_or_default(),
                    pauses: pauses.remove(id).unwrap_or_default(),
                    reschedules: reschedules
                        .remove(id)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|terms| stored_reschedule(terms))
                        .collect(),
                },
                borrower_id,
                id_number,
                profile: serde_json::from_str(&profile).unwrap_or(Value::Null),
                disbursed_on,
                stage,
                assessed_on,
            })
        })
        .collect())
}

/// A stored reschedule's terms: written by [`record_reschedule`] from the same type, after
/// the overdue component accepted them, so they always read back.
fn stored_reschedule(terms: &str) -> Option<wit::Reschedule> {
    serde_json::from_str::<RescheduleJson>(terms)
        .ok()
        .map(wit::Reschedule::from)
}

/// Stores a restructure or re-age of a loan.
#[allow(clippy::too_many_arguments)]
pub fn record_reschedule(
    db: &Db,
    tenant: &str,
    loan_id: &str,
    terms: &RescheduleJson,
    reason: &str,
    approved_by: &str,
    actor: &str,
    at: &str,
) -> Result<(), Problem> {
    let kind = if terms.is_re_age() {
        "re_age"
    } else {
        "restructure"
    };
    let json = serde_json::to_string(terms)
        .map_err(|e| Problem::internal(format!("reschedule terms: {e}")))?;
    db.run(
        "INSERT INTO reschedules (tenant_id, loan_id, on_date, kind, terms, reason, approved_by,
           actor, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            text(tenant),
            text(loan_id),
            text(terms.on()),
            text(kind),
            text(&json),
            text(reason),
            text(approved_by),
            text(actor),
            text(at),
        ],
    )
}

/// The promises of the loans `ids`, each loan's by date.
pub fn promises(
    db: &Db,
    tenant: &str,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<PromiseRow>>, Problem> {
    by_loan(
        db,
        &format!(
            "SELECT loan_id, id, amount, due_date, made_on, status FROM promises
             WHERE tenant_id = ? AND loan_id IN ({}) ORDER BY loan_id, due_date, id",
            placeholders(ids.len())
        ),
        &keyed(tenant, ids),
        |row| PromiseRow {
            id: get_text(row, "id"),
            amount: get_text(row, "amount"),
            date: get_text(row, "due_date"),
            made_on: get_text(row, "made_on"),
            status: get_text(row, "status"),
        },
    )
}

/// The contact attempts at or after `since` on any loan of the borrowers `borrower_ids`,
/// oldest first, grouped by borrower.
fn attempts(
    db: &Db,
    tenant: &str,
    borrower_ids: &[String],
    since: &str,
) -> Result<BTreeMap<String, Vec<AttemptRow>>, Problem> {
    let params: Vec<Param> = [text(tenant), text(since), text(tenant)]
        .into_iter()
        .chain(borrower_ids.iter().map(text))
        .collect();
    let mut grouped: BTreeMap<String, Vec<AttemptRow>> = BTreeMap::new();
    let rows = db.rows(
        &format!(
            "SELECT l.borrower_id, a.loan_id, a.channel, a.at, a.outcome
             FROM contact_attempts a JOIN loans l ON l.tenant_id = a.tenant_id AND l.id = a.loan_id
             WHERE a.tenant_id = ? AND a.at >= ? AND l.tenant_id = ? AND l.borrower_id IN ({})
             ORDER BY a.at",
            placeholders(borrower_ids.len())
        ),
        &params,
        |row| {
            (
                get_text(row, "borrower_id"),
                AttemptRow {
                    loan_id: get_text(row, "loan_id"),
                    channel: get_text(row, "channel"),
                    at: get_text(row, "at"),
                    outcome: get_text(row, "outcome"),
                },
            )
        },
    )?;
    for (borrower, attempt) in rows {
        grouped.entry(borrower).or_default().push(attempt);
    }
    Ok(grouped)
}

/// The contacts the outbox holds for the loans `ids`, created at or after `since`, as the
/// contact rules count them (`planned` at their window's start), by loan: every message
/// (a delivered one is acknowledged, and its day is taken), and the calls, letters and
/// visits still pending (one done is reported as a contact attempt).
fn planned(
    db: &Db,
    tenant: &str,
    ids: &[String],
    since: &str,
) -> Result<BTreeMap<String, Vec<AttemptRow>>, Problem> {
    let params: Vec<Param> = [text(tenant), text(since)]
        .into_iter()
        .chain(ids.iter().map(text))
        .collect();
    let rows = db.rows(
        &format!(
            "SELECT loan_id, COALESCE(channel, kind) AS contact, status, detail FROM actions
             WHERE tenant_id = ? AND created_at >= ? AND loan_id IN ({})
               AND (COALESCE(channel, kind) IN ('sms', 'email', 'push', 'im')
                 OR (kind IN ('voice_call', 'letter', 'field_visit') AND status = 'pending'))
             ORDER BY id",
            placeholders(ids.len())
        ),
        &params,
        |row| {
            let detail: Value = serde_json::from_str(&get_text(row, "detail")).unwrap_or_default();
            let outcome = if get_text(row, "status") == "pending" {
                "planned"
            } else {
                "delivered"
            };
            (
                get_text(row, "loan_id"),
                detail["not_before"].as_str().map(|at| AttemptRow {
                    loan_id: get_text(row, "loan_id"),
                    channel: get_text(row, "contact"),
                    at: at.to_owned(),
                    outcome: outcome.to_owned(),
                }),
            )
        },
    )?;
    let mut grouped: BTreeMap<String, Vec<AttemptRow>> = BTreeMap::new();
    for (loan_id, attempt) in rows {
        if let Some(attempt) = attempt {
            grouped.entry(loan_id).or_default().push(attempt);
        }
    }
    Ok(grouped)
}

/// The facts of the loans `ids` (those that exist, in order), with the contact attempts of
/// their borrowers and the contacts planned for them at or after `attempts_since`: ten
/// queries for the whole set.
pub fn facts(
    db: &Db,
    tenant: &str,
    ids: &[String],
    attempts_since: &str,
) -> Result<Vec<Facts>, Problem> {
    let stored = loans(db, tenant, ids)?;
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let mut promises = promises(db, tenant, ids)?;
    let mut borrowers: Vec<String> = stored.iter().map(|s| s.borrower_id.clone()).collect();
    borrowers.sort();
    borrowers.dedup();
    let attempts = attempts(db, tenant, &borrowers, attempts_since)?;
    let mut planned = planned(db, tenant, ids, attempts_since)?;
    let mut written_off = written_off_with_recoveries(db, tenant, ids)?;
    Ok(stored
        .into_iter()
        .map(|stored| {
            let mut made = attempts
                .get(&stored.borrower_id)
                .cloned()
                .unwrap_or_default();
            made.extend(planned.remove(&stored.loan.id).unwrap_or_default());
            Facts {
                promises: promises.remove(&stored.loan.id).unwrap_or_default(),
                attempts: made,
                written_off: written_off.remove(&stored.loan.id),
                stored,
            }
        })
        .collect())
}

/// The loans of `ids` written off, each with its write-off and recoveries: a second query
/// only when there are any.
fn written_off_with_recoveries(
    db: &Db,
    tenant: &str,
    ids: &[String],
) -> Result<BTreeMap<String, (WriteOff, Vec<Recovery>)>, Problem> {
    let write_offs = write_offs(db, tenant, Some(ids))?;
    if write_offs.is_empty() {
        return Ok(BTreeMap::new());
    }
    let written: Vec<String> = write_offs.iter().map(|w| w.loan_id.clone()).collect();
    let mut recovered: BTreeMap<String, Vec<Recovery>> = BTreeMap::new();
    for recovery in recoveries(db, tenant, Some(&written))? {
        recovered
            .entry(recovery.loan_id.clone())
            .or_default()
            .push(recovery);
    }
    Ok(write_offs
        .into_iter()
        .map(|w| {
            let recoveries = recovered.remove(&w.loan_id).unwrap_or_default();
            (w.loan_id.clone(), (w, recoveries))
        })
        .collect())
}

/// A loan's standing as of a business date, as the pipeline decided it.
pub struct Standing {
    /// `active`, or `closed` once nothing is outstanding.
    pub status: &'static str,
    /// Days past due.
    pub dpd: u32,
    /// Delinquency bucket.
    pub bucket: String,
    /// Classification, on the loan's own.
    pub classification: String,
    /// Its place in the policy's scheme, 0 the mildest.
    pub classification_rank: u32,
    /// Escalation stage.
    pub stage: &'static str,
    /// Collector queue, if a task names one.
    pub queue: Option<String>,
    /// Behavioural risk tier.
    pub tier: &'static str,
    /// Behavioural score.
    pub score: i32,
    /// Outstanding principal.
    pub outstanding_principal: String,
    /// Amount overdue.
    pub overdue_amount: String,
}

/// An action the pipeline asks for, before the outbox has seen it.
pub struct Candidate {
    /// `reminder`, a task kind or `stage_change`.
    pub kind: String,
    /// The reminder's channel.
    pub channel: Option<&'static str>,
    /// The task's collector queue.
    pub queue: Option<String>,
    /// The rule behind it.
    pub rule: String,
    /// The whole action, as the outbox shows it.
    pub detail: Value,
}

/// What the pipeline decided for one loan on one business date.
pub struct Decision {
    /// The loan.
    pub loan_id: String,
    /// The business date it was assessed for.
    pub date: String,
    /// The instant of the change or the close, as stored in the audit log and the outbox.
    pub at: String,
    /// Promises whose status changed: id and new status.
    pub settled: Vec<(String, &'static str)>,
    /// The standing on the date.
    pub standing: Standing,
    /// Whether it is the loan's standing now: not when a later date was assessed already
    /// (the standing never moves back).
    pub moves: bool,
    /// The stage before, when the standing moves to another stage.
    pub previous_stage: Option<String>,
    /// Whether the standing is stored as the close's snapshot of the date.
    pub snapshot: bool,
    /// The actions it asks for.
    pub actions: Vec<Candidate>,
    /// The contacts the contact rules held back.
    pub held: Vec<Held>,
    /// A charge-off by the tenant's policy: why, and what the loan owed by component.
    pub write_off: Option<(String, wit::Breakdown)>,
    /// Whether it decides a loan written off by its date: only its recovery stage, its
    /// actions and what was held back are written.
    pub recovery: bool,
}

/// A contact the contact rules held back.
pub struct Held {
    /// The channel or task it would have used.
    pub kind: String,
    /// The rule that held it.
    pub rule: String,
    /// What the rule found.
    pub detail: String,
}

impl Held {
    /// From a plan's channel or task, rule and finding.
    pub fn new((kind, rule, detail): (&str, &str, &str)) -> Self {
        Self {
            kind: kind.to_owned(),
            rule: rule.to_owned(),
            detail: detail.to_owned(),
        }
    }
}

/// Writes `decisions` of `tenant`: promise statuses, standings, snapshots and actions
/// (several rows a statement), and each decision in the audit log. Returns the actions the
/// outbox did not hold yet, as the outbox shows them. Call it in the caller's transaction.
/// With `contagion`, the borrowers' loans then stand at their worst classification.
pub fn write(
    db: &Db,
    tenant: &str,
    decisions: &[Decision],
    contagion: bool,
) -> Result<Vec<Value>, Problem> {
    // A loan written off is left as the write-off left it: no standing, contact or audit
    // entry from a decision, whether it was written off since its page was read (the close
    // decides a page outside the write transaction) or on a later date than a close caught
    // up; only the snapshot of a date before its write-off is kept. A decision of its
    // recovery stage (the tenant's recovery strategy) writes that stage and its contacts.
    let written_off = written_off(db, tenant, decisions)?;
    let recovering: Vec<&Decision> = decisions
        .iter()
        .filter(|d| d.recovery && written_off.contains_key(&d.loan_id))
        .collect();
    let before_write_off = |d: &Decision| {
        written_off
            .get(&d.loan_id)
            .is_some_and(|on| d.date.as_str() < on.as_str())
    };
    let snapshots: Vec<&Decision> = decisions
        .iter()
        .filter(|d| !written_off.contains_key(&d.loan_id) || before_write_off(d))
        .collect();
    let decisions: Vec<&Decision> = decisions
        .iter()
        .filter(|d| !written_off.contains_key(&d.loan_id))
        .collect();
    for decision in &decisions {
        write_one(db, tenant, decision)?;
    }
    for decision in &recovering {
        write_recovery_stage(db, tenant, decision)?;
    }
    write_snapshots(db, tenant, &snapshots)?;
    if contagion {
        apply_contagion(db, tenant, &decisions)?;
    }
    let acting: Vec<&Decision> = decisions.iter().chain(&recovering).copied().collect();
    let created = write_actions(db, tenant, &acting)?;
    audit_decisions(db, tenant, &acting, &created)?;
    Ok(created)
}

/// The loans of `decisions` that are written off now, with the date of each write-off.
fn written_off(
    db: &Db,
    tenant: &str,
    decisions: &[Decision],
) -> Result<BTreeMap<String, String>, Problem> {
    let ids: Vec<String> = decisions.iter().map(|d| d.loan_id.clone()).collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = db.rows(
        &format!(
            "SELECT id, written_off_on FROM loans
             WHERE tenant_id = ? AND id IN ({}) AND status = 'written_off'",
            placeholders(ids.len())
        ),
        &keyed(tenant, &ids),
        |row| (get_text(row, "id"), get_text(row, "written_off_on")),
    )?;
    Ok(rows.into_iter().collect())
}

/// Records in the audit log, one entry per loan (`loan.decided`), each decision that did or
/// held back something: a stage change, promises settled, the contacts planned (the
/// actions `created` in the outbox, by id; their texts and addresses stay there) and those
/// the contact rules held back, with the rule. The entries are chained and written together
/// (`audit::append_all`), so a page of the close costs one read of the chain's head.
fn audit_decisions(
    db: &Db,
    tenant: &str,
    decisions: &[&Decision],
    created: &[Value],
) -> Result<(), Problem> {
    let mut planned: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for action in created {
        planned
            .entry(action["loan_id"].as_str().unwrap_or_default())
            .or_default()
            .push(json!({
                "action": action["id"],
                "kind": action["kind"],
                "channel": action["channel"],
                "queue": action["queue"],
                "rule": action["rule"],
            }));
    }
    let (heads, details): (Vec<(&str, String)>, Vec<String>) = decisions
        .iter()
        .filter_map(|d| {
            let planned = planned.remove(d.loan_id.as_str()).unwrap_or_default();
            if planned.is_empty()
                && d.held.is_empty()
                && d.settled.is_empty()
                && d.previous_stage.is_none()
                && d.write_off.is_none()
            {
                return None;
            }
            let s = &d.standing;
            let mut detail = json!({
                "business_date": d.date,
                "dpd": s.dpd,
                "stage": s.stage,
                "planned": planned,
                "held": d.held.iter().map(|h| json!({ "kind": h.kind, "rule": h.rule, "detail": h.detail })).collect::<Vec<_>>(),
                "promises": d.settled.iter().map(|(id, status)| json!({ "id": id, "status": status })).collect::<Vec<_>>(),
            });
            if let Some(from) = &d.previous_stage {
                detail["stage_changed"] = json!({ "from": from, "to": s.stage });
            }
            if let Some((reason, charged_off)) = &d.write_off {
                detail["written_off"] = json!({
                    "reason": reason,
                    "charged_off": BreakdownJson::from(charged_off.clone()),
                });
            }
            Some((
                (d.at.as_str(), format!("loan:{}", d.loan_id)),
                detail.to_string(),
            ))
        })
        .unzip();
    audit::append_all(
        db,
        tenant,
        heads.iter().zip(details).map(|((at, entity), detail)| {
            (
                *at,
                Entry {
                    actor: "pipeline",
                    action: "loan.decided",
                    entity,
                    detail,
                },
            )
        }),
    )
}

/// Writes loan `loan_id` off on business date `on`: what it owes, `charged_off`, is kept by
/// component with the reason, the actor and the instant; the loan leaves the active book;
/// its pending actions are cancelled.
#[allow(clippy::too_many_arguments)]
pub fn record_write_off(
    db: &Db,
    tenant: &str,
    loan_id: &str,
    on: &str,
    reason: &str,
    actor: &str,
    at: &str,
    charged_off: &wit::Breakdown,
) -> Result<(), Problem> {
    let c = charged_off;
    db.run(
        "INSERT INTO write_offs (tenant_id, loan_id, written_off_on, reason, actor, recorded_at,
           principal, interest, fees, penalty, total)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            text(tenant),
            text(loan_id),
            text(on),
            text(reason),
            text(actor),
            text(at),
            text(&c.principal),
            text(&c.interest),
            text(&c.fees),
            text(&c.penalty),
            text(&c.total),
        ],
    )?;
    db.run(
        "UPDATE loans SET status = 'written_off', written_off_on = ?, queue = NULL
         WHERE tenant_id = ? AND id = ?",
        &[text(on), text(tenant), text(loan_id)],
    )?;
    db.run(
        "UPDATE actions SET status = 'cancelled'
         WHERE tenant_id = ? AND loan_id = ? AND status = 'pending'",
        &[text(tenant), text(loan_id)],
    )?;
    Ok(())
}

/// The statements of one loan: its settled promises and its standing.
fn write_one(db: &Db, tenant: &str, decision: &Decision) -> Result<(), Problem> {
    for (id, status) in &decision.settled {
        db.run(
            "UPDATE promises SET status = ? WHERE tenant_id = ? AND id = ?",
            &[text(*status), text(tenant), text(id)],
        )?;
    }
    if !decision.moves {
        return Ok(());
    }
    let s = &decision.standing;
    db.run(
        "UPDATE loans SET status = ?, dpd = ?, bucket = ?, classification = ?,
           own_classification = ?, own_rank = ?, stage = ?,
           queue = ?, tier = ?, score = ?, outstanding_principal = ?, overdue_amount = ?,
           assessed_on = ?
         WHERE tenant_id = ? AND id = ? AND status <> 'written_off'",
        &[
            text(s.status),
            int(s.dpd),
            text(&s.bucket),
            text(&s.classification),
            text(&s.classification),
            int(s.classification_rank),
            text(s.stage),
            optional(s.queue.clone()),
            text(s.tier),
            int(s.score),
            text(&s.outstanding_principal),
            text(&s.overdue_amount),
            text(&decision.date),
            text(tenant),
            text(&decision.loan_id),
        ],
    )?;
    if let Some((reason, charged_off)) = &decision.write_off {
        record_write_off(
            db,
            tenant,
            &decision.loan_id,
            &decision.date,
            reason,
            "pipeline",
            &decision.at,
            charged_off,
        )?;
    }
    Ok(())
}

/// A written-off loan's move to the recovery stage, with the queue its contacts name.
fn write_recovery_stage(db: &Db, tenant: &str, decision: &Decision) -> Result<(), Problem> {
    if decision.previous_stage.is_none() {
        return Ok(());
    }
    db.run(
        "UPDATE loans SET stage = ?, queue = ?
         WHERE tenant_id = ? AND id = ? AND status = 'written_off'",
        &[
            text(decision.standing.stage),
            optional(decision.standing.queue.clone()),
            text(tenant),
            text(&decision.loan_id),
        ],
    )?;
    Ok(())
}

/// Rows a multi-row statement carries at most: SQLite takes 32,766 parameters.
const ROWS_PER_STATEMENT: usize = 200;

/// Stores the standing of each snapshot decision as its loan's snapshot of the date.
fn write_snapshots(db: &Db, tenant: &str, decisions: &[&Decision]) -> Result<(), Problem> {
    let rows: Vec<(&Decision, &Standing)> = decisions
        .iter()
        .filter(|d| d.snapshot)
        .map(|d| (*d, &d.standing))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let params: Vec<Param> = chunk
            .iter()
            .flat_map(|(d, s)| {
                [
                    text(tenant),
                    text(&d.date),
                    text(&d.loan_id),
                    int(s.dpd),
                    text(&s.bucket),
                    text(&s.classification),
                    text(&s.classification),
                    int(s.classification_rank),
                    text(s.stage),
                    text(&s.outstanding_principal),
                    text(&s.overdue_amount),
                ]
            })
            .collect();
        db.run(
            &format!(
                "INSERT INTO loan_snapshots (tenant_id, business_date, loan_id, dpd,
                   bucket, classification, own_classification, own_rank, stage,
                   outstanding_principal, overdue_amount)
                 VALUES {values}
                 ON CONFLICT (tenant_id, business_date, loan_id) DO UPDATE SET
                   dpd = excluded.dpd, bucket = excluded.bucket,
                   classification = excluded.classification,
                   own_classification = excluded.own_classification,
                   own_rank = excluded.own_rank, stage = excluded.stage,
                   outstanding_principal = excluded.outstanding_principal,
                   overdue_amount = excluded.overdue_amount"
            ),
            &params,
        )?;
    }
    Ok(())
}

/// Contagion (domain.md, borrower-level view): every active loan of the decisions'
/// borrowers stands at the worst own classification among the borrower's active loans, and
/// every snapshot of the decisions' dates at the worst among the borrower's snapshots of
/// that date. Set-based, so a page costs two statements; run after each page, a close
/// leaves every borrower right once the last of their loans is decided.
fn apply_contagion(db: &Db, tenant: &str, decisions: &[&Decision]) -> Result<(), Problem> {
    for chunk in decisions.chunks(ROWS_PER_STATEMENT) {
        let ids: Vec<Param> = chunk.iter().map(|d| text(&d.loan_id)).collect();
        let borrowers = format!(
            "SELECT borrower_id FROM loans WHERE tenant_id = ? AND id IN ({})",
            placeholders(ids.len())
        );
        let params = || -> Vec<Param> {
            [text(tenant), text(tenant)]
                .into_iter()
                .chain(ids.iter().cloned())
                .collect()
        };
        db.run(
            &format!(
                "UPDATE loans SET classification = COALESCE((
                   SELECT w.own_classification FROM loans w
                   WHERE w.tenant_id = loans.tenant_id AND w.borrower_id = loans.borrower_id
                     AND w.status = 'active' AND w.own_classification <> ''
                   ORDER BY w.own_rank DESC LIMIT 1), own_classification)
                 WHERE tenant_id = ? AND status = 'active' AND own_classification <> ''
                   AND borrower_id IN ({borrowers})"
            ),
            &params(),
        )?;
        let dates: Vec<&str> = {
            let mut dates: Vec<&str> = chunk
                .iter()
                .filter(|d| d.snapshot)
                .map(|d| d.date.as_str())
                .collect();
            dates.sort_unstable();
            dates.dedup();
            dates
        };
        for date in dates {
            let params: Vec<Param> = [text(tenant), text(date)]
                .into_iter()
                .chain(params())
                .collect();
            db.run(
                &format!(
                    "UPDATE loan_snapshots SET classification = COALESCE((
                       SELECT w.own_classification FROM loan_snapshots w
                       JOIN loans wl ON wl.tenant_id = w.tenant_id AND wl.id = w.loan_id
                       JOIN loans l ON l.tenant_id = loan_snapshots.tenant_id
                         AND l.id = loan_snapshots.loan_id
                       WHERE w.tenant_id = loan_snapshots.tenant_id
                         AND w.business_date = loan_snapshots.business_date
                         AND wl.borrower_id = l.borrower_id AND w.own_classification <> ''
                       ORDER BY w.own_rank DESC LIMIT 1), own_classification)
                     WHERE tenant_id = ? AND business_date = ? AND own_classification <> ''
                       AND loan_id IN (SELECT id FROM loans WHERE tenant_id = ?
                         AND borrower_id IN ({borrowers}))"
                ),
                &params,
            )?;
        }
    }
    Ok(())
}

/// An action's key: the loan, the business date, its kind, rule and channel or queue, so a
/// second run for the same date adds nothing.
fn dedupe_key(decision: &Decision, candidate: &Candidate) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        decision.loan_id,
        decision.date,
        candidate.kind,
        candidate.rule,
        candidate
            .channel
            .or(candidate.queue.as_deref())
            .unwrap_or_default()
    )
}

/// Adds the decisions' actions to the outbox, those it holds already left out; returns the
/// new ones in the decisions' order.
fn write_actions(db: &Db, tenant: &str, decisions: &[&Decision]) -> Result<Vec<Value>, Problem> {
    let rows: Vec<(&Decision, &Candidate, String)> = decisions
        .iter()
        .flat_map(|&d| d.actions.iter().map(move |c| (d, c, dedupe_key(d, c))))
        .collect();
    let mut created = Vec::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let params: Vec<Param> = chunk
            .iter()
            .flat_map(|(d, c, key)| {
                [
                    text(tenant),
                    text(&d.loan_id),
                    text(&d.date),
                    text(&c.kind),
                    optional(c.channel),
                    optional(c.queue.clone()),
                    text(&c.rule),
                    text(c.detail.to_string()),
                    text(key),
                    text(&d.at),
                ]
            })
            .collect();
        let mut inserted: BTreeMap<String, i64> = db
            .rows(
                &format!(
                    "INSERT INTO actions (tenant_id, loan_id, business_date, kind, channel, queue,
                       rule, detail, dedupe_key, created_at)
                     VALUES {values}
                     ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
                     RETURNING id, dedupe_key"
                ),
                &params,
                |row| (get_text(row, "dedupe_key"), get_int(row, "id")),
            )?
            .into_iter()
            .collect();
        for (d, c, key) in chunk {
            // A key asked for twice is one action, the first.
            if let Some(id) = inserted.remove(key) {
                created.push(json!({
                    "id": id,
                    "tenant": tenant,
                    "loan_id": d.loan_id,
                    "business_date": d.date,
                    "kind": c.kind,
                    "channel": c.channel,
                    "queue": c.queue,
                    "rule": c.rule,
                    "detail": c.detail,
                }));
            }
        }
    }
    Ok(created)
}
