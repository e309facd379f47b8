//! One loan through the post-loan pipeline, for one business date: assess → score → plan
//! reminders → decide escalation, then its standing, the new actions (the outbox) and, for
//! the nightly run, its snapshot are written. The components do the deciding; this module
//! reads what they need from the book and writes back what they decided.

use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::audit::{self, Entry};
use super::db::{Db, get_text, int, optional, text};
use super::loans::{self, Stored};
use super::tenants::Settings;
use super::{instant, parse_date};
use crate::assess::AssessRequest;
use crate::contact_plan::{self, ContactInputs, PlanJson};
use crate::postloan::overdue::overdue;
use crate::problem::Problem;
use crate::request::from_value;
use crate::score::{self, AssessedJson, Scored};

/// Why a loan is run through the pipeline.
#[derive(Clone, Copy)]
pub enum Origin {
    /// Something happened to it at this instant (an API call or an event): it is assessed
    /// as of that date, or the date it was last assessed for if that is later, so events
    /// arriving out of order never move it back in time.
    Change(DateTime<Utc>),
    /// The close of this business date: it is assessed as of the date, its snapshot is
    /// stored, and contacts are planned from the midnight (UTC) that ends the date.
    Close(NaiveDate),
}

/// Checks a new loan by assessing it on its disbursement date.
pub fn check_loan(loan: &Value, disbursed_on: &str, settings: &Settings) -> Result<(), Problem> {
    let request = assess_request(loan, disbursed_on, settings, json!({}))?;
    let policy = request.policy.into_wit()?;
    overdue::assess(&request.loan.into(), disbursed_on, &policy)
        .map(|_| ())
        .map_err(|e| Problem::from(e).unprefixed("loan."))
}

/// A live assessment and score of a stored loan, as `/v1/assess` answers, counting the
/// promises made and broken as the book holds them.
pub fn live(
    stored: &Stored,
    as_of: &str,
    settings: &Settings,
    promises: &[Value],
) -> Result<Value, Problem> {
    let broken = promises.iter().filter(|p| p["status"] == "broken").count();
    let request = assess_request(
        &stored.loan,
        as_of,
        settings,
        history(stored, promises.len(), broken),
    )?;
    let scored = score::assess_and_score(request)?;
    serde_json::to_value(AssessedJson::from(scored))
        .map_err(|e| Problem::internal(format!("could not write the assessment: {e}")))
}

/// The request `/v1/assess` would take for this loan.
fn assess_request(
    loan: &Value,
    as_of: &str,
    settings: &Settings,
    history: Value,
) -> Result<AssessRequest, Problem> {
    let document = json!({ "as_of": as_of, "loan": loan, "policy": policy_or_empty(settings), "history": history });
    from_value(&document, "")
}

fn policy_or_empty(settings: &Settings) -> Value {
    if settings.policy.is_null() {
        json!({})
    } else {
        settings.policy.clone()
    }
}

fn history(stored: &Stored, made: usize, broken: usize) -> Value {
    json!({ "disbursed_on": stored.disbursed_on, "promises_made": made, "promises_broken": broken })
}

/// What one run of the pipeline changed.
#[derive(Default)]
pub struct Refreshed {
    /// The actions it added to the outbox (none that were there already).
    pub new_actions: Vec<Value>,
}

/// Runs loan `loan_id` of `tenant` through the pipeline. Call it inside the transaction of
/// the change that prompted it.
pub fn refresh(
    db: &Db,
    tenant: &str,
    settings: &Settings,
    loan_id: &str,
    origin: Origin,
) -> Result<Refreshed, Problem> {
    let Some(stored) = loans::load(db, tenant, loan_id)? else {
        return Err(Problem::no_such("loan", loan_id));
    };
    let last = stored
        .assessed_on
        .as_deref()
        .map(|d| parse_date("assessed_on", d))
        .transpose()?;
    let (date, now, snapshot) = match origin {
        Origin::Change(at) => (
            at.date_naive().max(last.unwrap_or(NaiveDate::MIN)),
            at,
            false,
        ),
        Origin::Close(date) => (date, midnight_after(date), true),
    };
    let promises = resolve_promises(db, tenant, loan_id, &stored, date, settings)?;
    let broken = promises.iter().filter(|p| p.status == "broken").count();
    let request = assess_request(
        &stored.loan,
        &date.to_string(),
        settings,
        history(&stored, promises.len(), broken),
    )?;
    let scored = score::assess_and_score(request)?;
    let closed = is_zero(&scored.assessment.outstanding.total);
    let plan = if closed {
        None
    } else {
        Some(plan(
            db, tenant, &stored, &scored, &promises, now, settings,
        )?)
    };
    let standing_moves = last.is_none_or(|last| date >= last);
    if standing_moves {
        write_standing(
            db,
            tenant,
            loan_id,
            &stored,
            &scored,
            plan.as_ref(),
            date,
            now,
        )?;
    }
    if snapshot {
        write_snapshot(db, tenant, loan_id, &scored, plan.as_ref(), date)?;
    }
    let new_actions = match &plan {
        Some(plan) => write_actions(db, tenant, loan_id, plan, date, now)?,
        None => Vec::new(),
    };
    Ok(Refreshed { new_actions })
}

/// The instant that ends business date `date`.
fn midnight_after(date: NaiveDate) -> DateTime<Utc> {
    date.checked_add_days(Days::new(1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

fn is_zero(amount: &str) -> bool {
    amount.parse::<Decimal>().is_ok_and(|a| a.is_zero())
}

/// A promise to pay as the pipeline reads it.
struct PromiseRow {
    id: String,
    amount: String,
    date: String,
    made_on: String,
    status: String,
}

/// Days after a promise's date before it counts as broken, from the contact settings
/// (`contact.escalation.promise_grace_days`, 3 by default as in the escalation component).
fn promise_grace_days(settings: &Settings) -> u64 {
    settings.contact["escalation"]["promise_grace_days"]
        .as_u64()
        .unwrap_or(3)
}

/// Settles open promises: kept once the payments from the day it was made to its date plus
/// the grace days cover its amount, broken once that day has passed without.
fn resolve_promises(
    db: &Db,
    tenant: &str,
    loan_id: &str,
    stored: &Stored,
    date: NaiveDate,
    settings: &Settings,
) -> Result<Vec<PromiseRow>, Problem> {
    let mut promises = db.rows(
        "SELECT id, amount, due_date, made_on, status FROM promises
         WHERE tenant_id = ? AND loan_id = ? ORDER BY due_date, id",
        &[text(tenant), text(loan_id)],
        |row| PromiseRow {
            id: get_text(row, "id"),
            amount: get_text(row, "amount"),
            date: get_text(row, "due_date"),
            made_on: get_text(row, "made_on"),
            status: get_text(row, "status"),
        },
    )?;
    let payments = paid(&stored.loan);
    let grace = promise_grace_days(settings);
    for promise in promises.iter_mut().filter(|p| p.status == "open") {
        let status = promise_status(promise, &payments, date, grace);
        if status != "open" {
            promise.status = status.to_owned();
            db.run(
                "UPDATE promises SET status = ? WHERE tenant_id = ? AND id = ?",
                &[text(status), text(tenant), text(&promise.id)],
            )?;
        }
    }
    Ok(promises)
}

/// The loan's payments that stand (not reversed): value date and amount.
fn paid(loan: &Value) -> Vec<(String, Decimal)> {
    let reversed: Vec<&str> = loan["reversals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["payment_id"].as_str())
        .collect();
    loan["payments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| !reversed.contains(&p["id"].as_str().unwrap_or_default()))
        .filter_map(|p| {
            Some((
                p["value_date"].as_str()?.to_owned(),
                p["amount"].as_str()?.parse().ok()?,
            ))
        })
        .collect()
}

/// `kept`, `broken` or still `open` on business date `date`.
fn promise_status(
    promise: &PromiseRow,
    payments: &[(String, Decimal)],
    date: NaiveDate,
    grace: u64,
) -> &'static str {
    let (Ok(due), Ok(amount)) = (
        NaiveDate::parse_from_str(&promise.date, "%Y-%m-%d"),
        promise.amount.parse::<Decimal>(),
    ) else {
        return "open";
    };
    let deadline = due.checked_add_days(Days::new(grace)).unwrap_or(due);
    let last_day = deadline.min(date).to_string();
    let covered: Decimal = payments
        .iter()
        .filter(|(value_date, _)| *value_date >= promise.made_on && *value_date <= last_day)
        .map(|(_, amount)| *amount)
        .sum();
    if covered >= amount {
        "kept"
    } else if date > deadline {
        "broken"
    } else {
        "open"
    }
}

/// Plans the loan's contacts through the reminders and escalation components.
fn plan(
    db: &Db,
    tenant: &str,
    stored: &Stored,
    scored: &Scored,
    promises: &[PromiseRow],
    now: DateTime<Utc>,
    settings: &Settings,
) -> Result<PlanJson, Problem> {
    let since = instant(now - chrono::Duration::days(30));
    let attempts = db.rows(
        "SELECT loan_id, channel, at, outcome FROM contact_attempts
         WHERE tenant_id = ? AND at >= ? AND loan_id IN
           (SELECT id FROM loans WHERE tenant_id = ? AND borrower_id = ?)
         ORDER BY at",
        &[
            text(tenant),
            text(since),
            text(tenant),
            text(&stored.borrower_id),
        ],
        |row| {
            json!({
                "loan_id": get_text(row, "loan_id"),
                "channel": get_text(row, "channel"),
                "at": get_text(row, "at"),
                "outcome": get_text(row, "outcome"),
            })
        },
    )?;
    let promises: Vec<Value> = promises
        .iter()
        .map(|p| json!({ "amount": p.amount, "date": p.date, "status": p.status }))
        .collect();
    let contact = if settings.contact.is_null() {
        json!({})
    } else {
        settings.contact.clone()
    };
    let inputs: ContactInputs = serde_path_to_error::deserialize(json!({
        "now": instant(now),
        "profile": stored.profile,
        "history": attempts,
        "promises": promises,
        "previous_stage": stored.stage,
        "tier": scored.score.tier,
        "contact": contact,
    }))
    .map_err(|e| {
        Problem::internal(format!(
            "the stored contact data of loan `{}`: {e}",
            stored.loan["id"]
        ))
    })?;
    contact_plan::plan(&scored.assessment, inputs)
}

/// Records the loan's standing as of `date`.
#[allow(clippy::too_many_arguments)]
fn write_standing(
    db: &Db,
    tenant: &str,
    loan_id: &str,
    stored: &Stored,
    scored: &Scored,
    plan: Option<&PlanJson>,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), Problem> {
    let a = &scored.assessment;
    let (status, stage, queue) = match plan {
        Some(plan) => (
            "active",
            plan.escalation.stage,
            plan.escalation.actions.iter().find_map(|a| a.queue.clone()),
        ),
        None => ("closed", "current", None),
    };
    db.run(
        "UPDATE loans SET status = ?, dpd = ?, bucket = ?, classification = ?, stage = ?,
           queue = ?, tier = ?, score = ?, outstanding_principal = ?, overdue_amount = ?,
           assessed_on = ?
         WHERE tenant_id = ? AND id = ?",
        &[
            text(status),
            int(a.dpd),
            text(&a.bucket),
            text(&a.classification),
            text(stage),
            optional(queue),
            text(scored.score.tier),
            int(scored.score.value),
            text(&a.outstanding.principal),
            text(&a.overdue.total),
            text(date.to_string()),
            text(tenant),
            text(loan_id),
        ],
    )?;
    if stage != stored.stage {
        audit::append(
            db,
            tenant,
            &instant(now),
            Entry {
                actor: "pipeline",
                action: "loan.stage_changed",
                entity: &format!("loan:{loan_id}"),
                detail: json!({ "from": stored.stage, "to": stage, "business_date": date.to_string(), "dpd": a.dpd }).to_string(),
            },
        )?;
    }
    Ok(())
}

/// Stores the loan's standing at the close of `date`, for the portfolio measures.
fn write_snapshot(
    db: &Db,
    tenant: &str,
    loan_id: &str,
    scored: &Scored,
    plan: Option<&PlanJson>,
    date: NaiveDate,
) -> Result<(), Problem> {
    let a = &scored.assessment;
    let stage = plan.map_or("current", |p| p.escalation.stage);
    db.run(
        "INSERT OR REPLACE INTO loan_snapshots (tenant_id, business_date, loan_id, dpd, bucket,
           classification, stage, outstanding_principal, overdue_amount)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            text(tenant),
            text(date.to_string()),
            text(loan_id),
            int(a.dpd),
            text(&a.bucket),
            text(&a.classification),
            text(stage),
            text(&a.outstanding.principal),
            text(&a.overdue.total),
        ],
    )?;
    Ok(())
}

/// Adds the plan's reminders, collection tasks and stage change to the outbox. Each action
/// has a key made of the loan, the business date, its kind, rule and channel or queue, so a
/// second run for the same date adds nothing.
fn write_actions(
    db: &Db,
    tenant: &str,
    loan_id: &str,
    plan: &PlanJson,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<Value>, Problem> {
    let mut candidates = Vec::new();
    for reminder in &plan.reminders {
        candidates.push(Candidate {
            kind: "reminder".into(),
            channel: Some(reminder.channel),
            queue: None,
            rule: reminder.rule.clone(),
            detail: to_value(reminder)?,
        });
    }
    for action in &plan.escalation.actions {
        candidates.push(Candidate {
            kind: action.kind.clone(),
            channel: None,
            queue: action.queue.clone(),
            rule: action.rule.clone(),
            detail: to_value(action)?,
        });
    }
    if plan.escalation.transition != "unchanged" {
        candidates.push(Candidate {
            kind: "stage_change".into(),
            channel: None,
            queue: None,
            rule: plan.escalation.transition.to_owned(),
            detail: to_value(&plan.escalation)?,
        });
    }
    let mut created = Vec::new();
    for Candidate {
        kind,
        channel,
        queue,
        rule,
        detail,
    } in candidates
    {
        let dedupe_key = format!(
            "{loan_id}|{date}|{kind}|{rule}|{}",
            channel.or(queue.as_deref()).unwrap_or_default()
        );
        let inserted = db.row(
            "INSERT INTO actions (tenant_id, loan_id, business_date, kind, channel, queue, rule,
               detail, dedupe_key, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
             RETURNING id",
            &[
                text(tenant),
                text(loan_id),
                text(date.to_string()),
                text(&kind),
                optional(channel),
                optional(queue.clone()),
                text(&rule),
                text(detail.to_string()),
                text(&dedupe_key),
                text(instant(now)),
            ],
            |row| row.get::<i64>("id").unwrap_or_default(),
        )?;
        if let Some(id) = inserted {
            created.push(json!({
                "id": id,
                "tenant": tenant,
                "loan_id": loan_id,
                "business_date": date.to_string(),
                "kind": kind,
                "channel": channel,
                "queue": queue,
                "rule": rule,
                "detail": detail,
            }));
        }
    }
    Ok(created)
}

/// An action the plan asks for, before the outbox has seen it.
struct Candidate {
    kind: String,
    channel: Option<&'static str>,
    queue: Option<String>,
    rule: String,
    detail: Value,
}

fn to_value(value: &impl serde::Serialize) -> Result<Value, Problem> {
    serde_json::to_value(value)
        .map_err(|e| Problem::internal(format!("could not write an action: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promise(amount: &str, date: &str, made_on: &str) -> PromiseRow {
        PromiseRow {
            id: "P-1".into(),
            amount: amount.into(),
            date: date.into(),
            made_on: made_on.into(),
            status: "open".into(),
        }
    }

    fn pay(date: &str, amount: &str) -> (String, Decimal) {
        (date.into(), amount.parse().unwrap())
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_promise_is_kept_when_payments_since_it_was_made_cover_it() {
        // Promised 500.00 on 03-01 for 03-05; 200 on 03-02 + 300 on 03-07 (within 3 grace
        // days: deadline 03-08) = 500.00 ≥ 500.00.
        let p = promise("500.00", "2026-03-05", "2026-03-01");
        let payments = [pay("2026-03-02", "200"), pay("2026-03-07", "300.00")];
        assert_eq!(promise_status(&p, &payments, day("2026-03-08"), 3), "kept");
    }

    #[test]
    fn a_payment_before_the_promise_does_not_count() {
        // The 300 on 02-28 predates the promise: 200 < 500, and 03-09 is past the deadline
        // 03-08, so it is broken.
        let p = promise("500.00", "2026-03-05", "2026-03-01");
        let payments = [pay("2026-02-28", "300"), pay("2026-03-02", "200")];
        assert_eq!(
            promise_status(&p, &payments, day("2026-03-09"), 3),
            "broken"
        );
        // On the deadline itself it is still open.
        assert_eq!(promise_status(&p, &payments, day("2026-03-08"), 3), "open");
    }

    #[test]
    fn a_payment_after_the_deadline_does_not_keep_it() {
        let p = promise("500.00", "2026-03-05", "2026-03-01");
        let payments = [pay("2026-03-09", "500")];
        assert_eq!(
            promise_status(&p, &payments, day("2026-03-10"), 3),
            "broken"
        );
    }

    #[test]
    fn a_payment_dated_after_the_business_date_is_not_yet_seen() {
        // Business date 03-04: the payment of 03-06 has not happened yet as of that day.
        let p = promise("500.00", "2026-03-05", "2026-03-01");
        let payments = [pay("2026-03-06", "500")];
        assert_eq!(promise_status(&p, &payments, day("2026-03-04"), 3), "open");
    }

    #[test]
    fn reversed_payments_do_not_stand() {
        let loan = json!({
            "payments": [
                { "id": "a", "value_date": "2026-03-02", "amount": "100.00" },
                { "id": "b", "value_date": "2026-03-03", "amount": "50.00" }
            ],
            "reversals": [{ "payment_id": "a" }]
        });
        assert_eq!(paid(&loan), vec![pay("2026-03-03", "50.00")]);
    }
}
