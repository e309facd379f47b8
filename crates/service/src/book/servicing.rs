//! What happens to a loan after it is booked: payments and their reversals, pauses,
//! extensions (展期), promises to pay, contact outcomes, write-offs (charge-offs) and the
//! recoveries after them, and the borrower's disputes, hardship and opt-outs. The HTTP routes and the events both come here, so a change means
//! the same whichever way it arrives; each is stored, audited and the loan reassessed in
//! one transaction.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use postloan_domain::money;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::audit::{self, Entry};
use super::db::{Db, get_int, get_optional, get_text, int, optional, text};
use super::loans::{self, Booked};
use super::pipeline::{self, Origin, Refreshed};
use super::store;
use super::tenants::{ReAgeLimit, Settings, check_id};
use super::{instant, parse_date};
use crate::assess::BreakdownJson;
use crate::input::RescheduleJson;
use crate::postloan::core::types as wit;
use crate::problem::Problem;
use crate::request::from_value;

/// A payment as posted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    id: String,
    value_date: String,
    amount: String,
}

/// A pause of the DPD clock.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseIn {
    from: String,
    to: String,
    reason: String,
}

/// An extension: the due dates not yet reached move `periods` periods later.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionIn {
    periods: u32,
}

/// A promise to pay.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseIn {
    id: String,
    amount: String,
    date: String,
    /// The day it was made; the day it is recorded when left out.
    made_on: Option<String>,
}

/// A write-off (charge-off): why, and the business date the loan leaves the book.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteOffIn {
    reason: String,
    /// Today's UTC date when left out.
    on: Option<String>,
}

impl RescheduleJson {
    /// The business date it takes effect at the end of.
    pub(super) fn on(&self) -> &str {
        match self {
            Self::Restructure { on, .. } | Self::ReAge { on, .. } => on,
        }
    }

    /// Whether it is a re-age.
    pub(super) fn is_re_age(&self) -> bool {
        matches!(self, Self::ReAge { .. })
    }
}

/// A restructure or re-age: its date and terms, why, and who approved it.
pub struct RescheduleIn {
    terms: RescheduleJson,
    reason: String,
    approved_by: String,
}

impl RescheduleIn {
    /// Reads a posted restructure (`re_age` false) or re-age: `reason` and `approved_by`
    /// beside the fields of `/v1/assess`'s `loan.reschedules[i]` but `kind`, which the route
    /// says; `on` is today's UTC date when left out.
    pub fn from_body(body: Value, re_age: bool, today: NaiveDate) -> Result<Self, Problem> {
        let Value::Object(mut fields) = body else {
            return Err(Problem::invalid_field(String::new(), "is not an object"));
        };
        let mut words = |name: &str| match fields.remove(name) {
            Some(Value::String(text)) if !text.trim().is_empty() => Ok(text),
            _ => Err(Problem::invalid_field(
                name.to_owned(),
                "is missing or not a non-blank string",
            )),
        };
        let reason = words("reason")?;
        let approved_by = words("approved_by")?;
        if fields.contains_key("kind") {
            return Err(Problem::invalid_field(
                "kind".into(),
                "is not taken here: the route says which relief it is",
            ));
        }
        let kind = if re_age { "re_age" } else { "restructure" };
        fields.insert("kind".into(), kind.into());
        fields
            .entry("on")
            .or_insert_with(|| today.to_string().into());
        Ok(Self {
            terms: from_value(&Value::Object(fields), "")?,
            reason,
            approved_by,
        })
    }
}

/// The outcome of one contact attempt.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeIn {
    channel: String,
    at: String,
    outcome: String,
}

/// A change to one loan.
pub enum Change {
    /// A payment received, with the caller's idempotency key if it sent one.
    Payment(PaymentIn, Option<String>),
    /// A payment taken back.
    Reversal(String),
    /// A pause of the DPD clock.
    Pause(PauseIn),
    /// An extension of the schedule.
    Extension(ExtensionIn),
    /// A promise to pay.
    Promise(PromiseIn),
    /// A contact attempt's outcome.
    Outcome(OutcomeIn),
    /// A write-off: the loan leaves the active book.
    WriteOff(WriteOffIn),
    /// A restructure or re-age: what is left of the schedule is replaced.
    Reschedule(RescheduleIn),
}

impl Change {
    fn action(&self) -> &'static str {
        match self {
            Self::Payment(..) => "payment.posted",
            Self::Reversal(_) => "payment.reversed",
            Self::Pause(_) => "pause.recorded",
            Self::Extension(_) => "extension.recorded",
            Self::Promise(_) => "promise.made",
            Self::Outcome(_) => "contact.outcome",
            Self::WriteOff(_) => "loan.written_off",
            Self::Reschedule(r) if r.terms.is_re_age() => "loan.reaged",
            Self::Reschedule(_) => "loan.restructured",
        }
    }
}

/// Whether a change was new or had been applied before.
pub enum Applied {
    /// Stored now; the loan was reassessed if it is booked.
    New(Refreshed),
    /// The same change was stored before; nothing changed.
    Again,
}

/// Applies `change` to loan `loan_id` of `tenant` at instant `at`, inside the caller's
/// transaction. A payment, reversal, promise or outcome for a loan not booked yet is kept
/// and counts once the loan is created, so events may arrive in any order.
pub fn apply(
    db: &Db,
    tenant: &str,
    settings: &Settings,
    loan_id: &str,
    change: Change,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Applied, Problem> {
    let loan = loans::booked(db, tenant, loan_id)?;
    let booked = loan.is_some();
    // A loan written off is out of the pipeline: what comes after is kept, not reassessed.
    let written_off = loan.as_ref().is_some_and(|l| l.written_off_on.is_some());
    if written_off
        && matches!(
            change,
            Change::Pause(_) | Change::Extension(_) | Change::Promise(_) | Change::Reschedule(_)
        )
    {
        return Err(Problem::conflict(
            "status".into(),
            "the loan is written off: it takes payments (recoveries), reversals and contact outcomes",
        ));
    }
    let mut action = change.action();
    let detail = match change {
        Change::Payment(p, key) => {
            let stored = payment(db, tenant, loan.as_ref(), loan_id, p, at, key.as_deref())?;
            match stored {
                Some(detail) if written_off => {
                    action = "recovery.posted";
                    detail
                }
                Some(detail) => detail,
                None => return Ok(Applied::Again),
            }
        }
        Change::Reversal(payment_id) => match reversal(db, tenant, loan_id, &payment_id, at)? {
            Some(detail) => detail,
            None => return Ok(Applied::Again),
        },
        Change::Promise(p) => match promise(db, tenant, loan.as_ref(), loan_id, p, at)? {
            Some(detail) => detail,
            None => return Ok(Applied::Again),
        },
        Change::Outcome(o) => outcome(db, tenant, loan_id, o)?,
        Change::Pause(p) => {
            require_booked(booked, loan_id)?;
            pause(db, tenant, loan_id, p)?
        }
        Change::Extension(e) => {
            require_booked(booked, loan_id)?;
            extension(db, tenant, loan_id, e, at)?
        }
        Change::WriteOff(w) => match &loan {
            Some(loan) => match write_off(db, tenant, settings, loan_id, loan, w, actor, at)? {
                Some(detail) => detail,
                None => return Ok(Applied::Again),
            },
            None => return Err(Problem::no_such("loan", loan_id)),
        },
        Change::Reschedule(r) => match &loan {
            Some(loan) => match reschedule(db, tenant, settings, loan_id, loan, r, actor, at)? {
                Some(detail) => detail,
                None => return Ok(Applied::Again),
            },
            None => return Err(Problem::no_such("loan", loan_id)),
        },
    };
    audit::append(
        db,
        tenant,
        &instant(at),
        Entry {
            actor,
            action,
            entity: &format!("loan:{loan_id}"),
            detail: detail.to_string(),
        },
    )?;
    if !booked || written_off || action == "loan.written_off" {
        return Ok(Applied::New(Refreshed::default()));
    }
    pipeline::refresh(db, tenant, settings, loan_id, Origin::Change(at)).map(Applied::New)
}

/// Writes off a booked loan: what it owes at the end of the write-off date (the live
/// assessment's outstanding amounts, by component) is charged off, it leaves the active book,
/// and its pending contacts are cancelled. `None` when the same write-off (date and reason)
/// is stored already. Refused for a date after today, before a payment it has, or on or
/// before a date the book has closed with it.
#[allow(clippy::too_many_arguments)]
fn write_off(
    db: &Db,
    tenant: &str,
    settings: &Settings,
    loan_id: &str,
    loan: &Booked,
    w: WriteOffIn,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Option<Value>, Problem> {
    if w.reason.trim().is_empty() {
        return Err(Problem::invalid_field("reason".into(), "must not be empty"));
    }
    let on = match &w.on {
        Some(text) => value_date("on", text, Some(loan))?,
        None => at.date_naive(),
    };
    if on > at.date_naive() {
        return Err(Problem::invalid_field(
            "on".into(),
            &format!("{on} is after today, {}", at.date_naive()),
        ));
    }
    if let Some(written_off_on) = loan.written_off_on {
        let stored_reason = db.row(
            "SELECT reason FROM write_offs WHERE tenant_id = ? AND loan_id = ?",
            &[text(tenant), text(loan_id)],
            |row| get_text(row, "reason"),
        )?;
        if written_off_on == on && stored_reason.as_deref() == Some(w.reason.as_str()) {
            return Ok(None);
        }
        return Err(Problem::conflict(
            "status".into(),
            &format!("the loan was written off on {written_off_on} already"),
        ));
    }
    // What is charged off is what the payments known by then left: none may come after it.
    let last_paid = db.row(
        "SELECT MAX(value_date) AS last FROM payments p
         WHERE tenant_id = ? AND loan_id = ? AND recovery = 0
         AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.tenant_id = p.tenant_id AND r.payment_id = p.id)",
        &[text(tenant), text(loan_id)],
        |row| get_optional(row, "last"),
    )?;
    if let Some(last) = last_paid
        .flatten()
        .filter(|last| last.as_str() > on.to_string().as_str())
    {
        return Err(Problem::conflict(
            "on".into(),
            &format!("the loan has a payment valued {last}; write it off on or after that date"),
        ));
    }
    let status = db
        .row(
            "SELECT status FROM loans WHERE tenant_id = ? AND id = ?",
            &[text(tenant), text(loan_id)],
            |row| get_text(row, "status"),
        )?
        .ok_or_else(|| Problem::no_such("loan", loan_id))?;
    not_closed_since(db, tenant, loan_id, on, "write it off")?;
    let stored =
        loans::load(db, tenant, loan_id)?.ok_or_else(|| Problem::no_such("loan", loan_id))?;
    let charged_off = pipeline::assessed(&stored, &on.to_string(), settings, &[])?
        .assessment
        .outstanding;
    if status == "closed" || pipeline::is_zero(&charged_off.total) {
        return Err(Problem::conflict(
            "status".into(),
            "the loan owes nothing to write off",
        ));
    }
    let on = on.to_string();
    store::record_write_off(
        db,
        tenant,
        loan_id,
        &on,
        &w.reason,
        actor,
        &instant(at),
        &charged_off,
    )?;
    Ok(Some(json!({
        "on": on,
        "reason": w.reason,
        "charged_off": BreakdownJson::from(charged_off),
    })))
}

/// Refuses a change that takes effect on `on` when the book has closed that date or a later
/// one with the loan in it: the portfolio of a closed date stays as it was.
fn not_closed_since(
    db: &Db,
    tenant: &str,
    loan_id: &str,
    on: NaiveDate,
    what: &str,
) -> Result<(), Problem> {
    let closed_later = db.row(
        "SELECT MAX(business_date) AS last FROM loan_snapshots
         WHERE tenant_id = ? AND loan_id = ? AND business_date >= ?",
        &[text(tenant), text(loan_id), text(on.to_string())],
        |row| get_optional(row, "last"),
    )?;
    match closed_later.flatten() {
        Some(closed) => Err(Problem::conflict(
            "on".into(),
            &format!("the book has closed {closed} with the loan in it; {what} after that date"),
        )),
        None => Ok(()),
    }
}

/// Restructures or re-ages a booked loan at the end of its date: the overdue component
/// checks the terms and works out the new installments from what is unpaid then. `None` when
/// the same one (date, terms, reason and approver) is stored already. Refused for a date
/// after today, on or before the latest reschedule or a date the book has closed with the
/// loan, a loan that owes nothing, or a re-age beyond the tenant's limits.
#[allow(clippy::too_many_arguments)]
fn reschedule(
    db: &Db,
    tenant: &str,
    settings: &Settings,
    loan_id: &str,
    loan: &Booked,
    r: RescheduleIn,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Option<Value>, Problem> {
    let on = value_date("on", r.terms.on(), Some(loan))?;
    if on > at.date_naive() {
        return Err(Problem::invalid_field(
            "on".into(),
            &format!("{on} is after today, {}", at.date_naive()),
        ));
    }
    let stored = db.row(
        "SELECT terms, reason, approved_by FROM reschedules
         WHERE tenant_id = ? AND loan_id = ? AND on_date = ?",
        &[text(tenant), text(loan_id), text(on.to_string())],
        |row| {
            let terms = serde_json::from_str::<RescheduleJson>(&get_text(row, "terms")).ok();
            (terms, get_text(row, "reason"), get_text(row, "approved_by"))
        },
    )?;
    if let Some((terms, reason, approved_by)) = stored {
        if terms.as_ref() == Some(&r.terms) && reason == r.reason && approved_by == r.approved_by {
            return Ok(None);
        }
        return Err(Problem::conflict(
            "on".into(),
            &format!("the loan was rescheduled on {on} already"),
        ));
    }
    let mut stored =
        loans::load(db, tenant, loan_id)?.ok_or_else(|| Problem::no_such("loan", loan_id))?;
    if let Some(latest) = stored
        .loan
        .reschedules
        .last()
        .filter(|l| l.on >= on.to_string())
    {
        return Err(Problem::conflict(
            "on".into(),
            &format!(
                "the loan was rescheduled on {}; a new one takes effect after that date",
                latest.on
            ),
        ));
    }
    not_closed_since(db, tenant, loan_id, on, "reschedule it")?;
    if r.terms.is_re_age() {
        within_re_age_limits(&settings.re_age_limits(), &stored.loan.reschedules, on)?;
    }
    let index = stored.loan.reschedules.len();
    stored.loan.reschedules.push(r.terms.clone().into());
    // Fields come back under the loan's reschedule; the posted body has them at the top.
    let assessment = pipeline::assessed(&stored, &on.to_string(), settings, &[])
        .map_err(|p| p.unprefixed(&format!("loan.reschedules[{index}].")))?
        .assessment;
    // Not applied, or nothing moved: nothing owed, or more than a reschedule may move.
    let Some(made) = assessment
        .reschedules
        .get(index)
        .filter(|made| made.new_installments.is_some())
    else {
        return Err(Problem::conflict(
            "status".into(),
            "the loan owes nothing to reschedule, or more than a reschedule moves (10^21)",
        ));
    };
    store::record_reschedule(
        db,
        tenant,
        loan_id,
        &r.terms,
        &r.reason,
        &r.approved_by,
        actor,
        &instant(at),
    )?;
    let (first, last) = made.new_installments.unwrap_or_default();
    Ok(Some(json!({
        "terms": r.terms,
        "reason": r.reason,
        "approved_by": r.approved_by,
        "moved": BreakdownJson::from(made.moved.clone()),
        "capitalised": made.capitalised,
        "first_new_seq": first,
        "last_new_seq": last,
    })))
}

/// Refuses a re-age on `on` that would make more re-ages than a limit allows within its
/// window (the months up to and including `on`), naming the limit and the earlier re-ages.
fn within_re_age_limits(
    limits: &[ReAgeLimit],
    reschedules: &[wit::Reschedule],
    on: NaiveDate,
) -> Result<(), Problem> {
    let re_aged: Vec<NaiveDate> = reschedules
        .iter()
        .filter(|r| matches!(r.relief, wit::Relief::ReAge(_)))
        .filter_map(|r| r.on.parse().ok())
        .collect();
    for limit in limits {
        let since = on
            .checked_sub_months(Months::new(limit.months))
            .unwrap_or(NaiveDate::MIN);
        let within: Vec<String> = re_aged
            .iter()
            .filter(|d| **d > since)
            .map(NaiveDate::to_string)
            .collect();
        if within.len() >= limit.at_most as usize {
            return Err(Problem::conflict(
                "on".into(),
                &format!(
                    "re-age limit: at most {} in any {} months (settings.re_age_limits); \
                     the loan was re-aged on {}",
                    limit.at_most,
                    limit.months,
                    within.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn require_booked(booked: bool, loan_id: &str) -> Result<(), Problem> {
    if booked {
        Ok(())
    } else {
        Err(Problem::no_such("loan", loan_id))
    }
}

/// An amount paid or promised: above zero, within the largest amount and, once the loan is
/// booked, within its currency's decimals; so that a stored amount never fails the loan's
/// assessment later.
fn positive_amount(field: &str, amount: &str, loan: Option<&Booked>) -> Result<Decimal, Problem> {
    let value = match loan {
        Some(loan) => loan.currency.parse_amount(field, amount),
        None => money::parse_amount(field, amount),
    }?;
    if value.is_zero() {
        return Err(Problem::invalid_field(
            field.to_owned(),
            "must be greater than zero",
        ));
    }
    Ok(value)
}

/// A payment's value date: a business date, not before the loan's disbursement.
fn value_date(field: &str, value: &str, loan: Option<&Booked>) -> Result<NaiveDate, Problem> {
    let date = parse_date(field, value)?;
    match loan {
        Some(loan) if date < loan.disbursed_on => Err(Problem::invalid_field(
            field.to_owned(),
            &format!(
                "{date} is before the loan was disbursed on {}",
                loan.disbursed_on
            ),
        )),
        _ => Ok(date),
    }
}

/// Stores a payment; `None` when the same payment (same id, or same idempotency key) is
/// there already.
fn payment(
    db: &Db,
    tenant: &str,
    loan: Option<&Booked>,
    loan_id: &str,
    p: PaymentIn,
    at: DateTime<Utc>,
    idempotency_key: Option<&str>,
) -> Result<Option<Value>, Problem> {
    check_id("id", &p.id)?;
    let valued = value_date("value_date", &p.value_date, loan)?;
    positive_amount("amount", &p.amount, loan)?;
    let existing = db.row(
        "SELECT id, loan_id, value_date, amount FROM payments
         WHERE tenant_id = ? AND (id = ? OR idempotency_key = ?)",
        &[text(tenant), text(&p.id), optional(idempotency_key)],
        |row| {
            [
                get_text(row, "id"),
                get_text(row, "loan_id"),
                get_text(row, "value_date"),
                get_text(row, "amount"),
            ]
        },
    )?;
    if let Some(stored) = existing {
        let same = stored
            == [
                p.id.clone(),
                loan_id.to_owned(),
                p.value_date.clone(),
                p.amount.clone(),
            ];
        return if same {
            Ok(None)
        } else {
            Err(Problem::conflict(
                "id".into(),
                "a different payment with this id or idempotency key is stored",
            ))
        };
    }
    // A repeat of a payment stored before the write-off is answered above, as a repeat.
    let written_off_on = loan.and_then(|l| l.written_off_on);
    if let Some(on) = written_off_on.filter(|on| valued <= *on) {
        return Err(Problem::conflict(
            "value_date".into(),
            &format!("the loan was written off on {on}; a recovery is valued after that date"),
        ));
    }
    let recovery = written_off_on.is_some();
    db.run(
        "INSERT INTO payments (tenant_id, id, loan_id, value_date, amount, idempotency_key, recorded_at, recovery)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            text(tenant),
            text(&p.id),
            text(loan_id),
            text(&p.value_date),
            text(&p.amount),
            optional(idempotency_key),
            text(instant(at)),
            int(i64::from(recovery)),
        ],
    )?;
    Ok(Some(
        json!({ "payment": p.id, "value_date": p.value_date, "amount": p.amount, "recovery": recovery }),
    ))
}

/// Stores a reversal; `None` when it is stored already.
fn reversal(
    db: &Db,
    tenant: &str,
    loan_id: &str,
    payment_id: &str,
    at: DateTime<Utc>,
) -> Result<Option<Value>, Problem> {
    check_id("payment_id", payment_id)?;
    if let Some(paid_to) = db.row(
        "SELECT loan_id FROM payments WHERE tenant_id = ? AND id = ?",
        &[text(tenant), text(payment_id)],
        |row| get_text(row, "loan_id"),
    )? && paid_to != loan_id
    {
        return Err(Problem::conflict(
            "payment_id".into(),
            "the payment was made to another loan",
        ));
    }
    let inserted = db.row(
        "INSERT INTO reversals (tenant_id, payment_id, loan_id, recorded_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant_id, payment_id) DO NOTHING RETURNING payment_id",
        &[
            text(tenant),
            text(payment_id),
            text(loan_id),
            text(instant(at)),
        ],
        |_| (),
    )?;
    Ok(inserted.map(|()| json!({ "payment": payment_id })))
}

/// Stores a promise; `None` when the same promise is stored already.
fn promise(
    db: &Db,
    tenant: &str,
    loan: Option<&Booked>,
    loan_id: &str,
    p: PromiseIn,
    at: DateTime<Utc>,
) -> Result<Option<Value>, Problem> {
    check_id("id", &p.id)?;
    positive_amount("amount", &p.amount, loan)?;
    parse_date("date", &p.date)?;
    let made_on = p.made_on.unwrap_or_else(|| at.date_naive().to_string());
    parse_date("made_on", &made_on)?;
    let inserted = db.row(
        "INSERT INTO promises (tenant_id, id, loan_id, amount, due_date, made_on)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id",
        &[
            text(tenant),
            text(&p.id),
            text(loan_id),
            text(&p.amount),
            text(&p.date),
            text(&made_on),
        ],
        |_| (),
    )?;
    if inserted.is_some() {
        return Ok(Some(
            json!({ "promise": p.id, "amount": p.amount, "date": p.date, "made_on": made_on }),
        ));
    }
    let stored = db.row(
        "SELECT loan_id, amount, due_date, made_on FROM promises WHERE tenant_id = ? AND id = ?",
        &[text(tenant), text(&p.id)],
        |row| ["loan_id", "amount", "due_date", "made_on"].map(|c| get_text(row, c)),
    )?;
    if stored == Some([loan_id.to_owned(), p.amount, p.date, made_on]) {
        Ok(None)
    } else {
        Err(Problem::conflict(
            "id".into(),
            "a different promise with this id is stored",
        ))
    }
}

/// The channels and outcomes the contact components know.
const CHANNELS: [&str; 7] = [
    "sms",
    "email",
    "push",
    "im",
    "voice_call",
    "letter",
    "field_visit",
];
const OUTCOMES: [&str; 8] = [
    "delivered",
    "no_answer",
    "connected",
    "right_party_contact",
    "promise_to_pay",
    "wrong_number",
    "refused",
    "dispute_raised",
];

fn outcome(db: &Db, tenant: &str, loan_id: &str, o: OutcomeIn) -> Result<Value, Problem> {
    if !CHANNELS.contains(&o.channel.as_str()) {
        return Err(Problem::invalid_field(
            "channel".into(),
            &format!("is not one of {}", CHANNELS.join(", ")),
        ));
    }
    if !OUTCOMES.contains(&o.outcome.as_str()) {
        return Err(Problem::invalid_field(
            "outcome".into(),
            &format!("is not one of {}", OUTCOMES.join(", ")),
        ));
    }
    let at = DateTime::parse_from_rfc3339(&o.at)
        .map_err(|_| Problem::invalid_field("at".into(), "is not an RFC 3339 instant"))?
        .with_timezone(&Utc);
    db.run(
        "INSERT INTO contact_attempts (tenant_id, loan_id, channel, at, outcome) VALUES (?, ?, ?, ?, ?)",
        &[text(tenant), text(loan_id), text(&o.channel), text(instant(at)), text(&o.outcome)],
    )?;
    Ok(json!({ "channel": o.channel, "at": instant(at), "outcome": o.outcome }))
}

fn pause(db: &Db, tenant: &str, loan_id: &str, p: PauseIn) -> Result<Value, Problem> {
    let from = parse_date("from", &p.from)?;
    let to = parse_date("to", &p.to)?;
    if to < from {
        return Err(Problem::invalid_field("to".into(), "is before from"));
    }
    db.run(
        "INSERT INTO pauses (tenant_id, loan_id, from_date, to_date, reason) VALUES (?, ?, ?, ?, ?)",
        &[text(tenant), text(loan_id), text(&p.from), text(&p.to), text(&p.reason)],
    )?;
    Ok(json!({ "from": p.from, "to": p.to, "reason": p.reason }))
}

/// Moves every due date after `at`'s date `periods` periods later. The period is the
/// schedule's: whole months when installments fall a month or more apart, else the days
/// between the first two.
fn extension(
    db: &Db,
    tenant: &str,
    loan_id: &str,
    e: ExtensionIn,
    at: DateTime<Utc>,
) -> Result<Value, Problem> {
    if !(1..=120).contains(&e.periods) {
        return Err(Problem::invalid_field(
            "periods".into(),
            "is not from 1 to 120",
        ));
    }
    let key = [text(tenant), text(loan_id)];
    // An extension moves the booked schedule's dates; after a reschedule what is owed
    // follows the new installments, which a further reschedule changes instead.
    let rescheduled = db.row(
        "SELECT MAX(on_date) AS last FROM reschedules WHERE tenant_id = ? AND loan_id = ?",
        &key,
        |row| get_optional(row, "last"),
    )?;
    if let Some(last) = rescheduled.flatten() {
        return Err(Problem::conflict(
            "periods".into(),
            &format!("the loan was rescheduled on {last}: restructure or re-age it again instead"),
        ));
    }
    let dates = db.rows(
        "SELECT seq, due_date FROM installments WHERE tenant_id = ? AND loan_id = ? ORDER BY seq",
        &key,
        |row| (get_int(row, "seq"), get_text(row, "due_date")),
    )?;
    let today = at.date_naive();
    let parsed: Vec<(i64, NaiveDate)> = dates
        .iter()
        .map(|(seq, d)| parse_date("due_date", d).map(|d| (*seq, d)))
        .collect::<Result<_, _>>()?;
    let remaining: Vec<&(i64, NaiveDate)> = parsed.iter().filter(|(_, d)| *d > today).collect();
    let Some(first) = remaining.first() else {
        return Err(Problem::conflict(
            "periods".into(),
            "no due date of the loan is still ahead",
        ));
    };
    let step = period(&parsed);
    // Later dates first, so no two installments share a date on the way.
    for (seq, due) in remaining.iter().rev() {
        let moved = shift(*due, step, e.periods)
            .filter(|moved| *moved <= postloan_domain::date::LATEST)
            .ok_or_else(|| {
                Problem::invalid_field(
                    "periods".into(),
                    "moves a due date past the last business date, 2200-12-31",
                )
            })?;
        db.run(
            "UPDATE installments SET due_date = ? WHERE tenant_id = ? AND loan_id = ? AND seq = ?",
            &[
                text(moved.to_string()),
                text(tenant),
                text(loan_id),
                int(*seq),
            ],
        )?;
    }
    db.run(
        "INSERT INTO extensions (tenant_id, loan_id, periods, from_seq, recorded_at) VALUES (?, ?, ?, ?, ?)",
        &[text(tenant), text(loan_id), int(e.periods), int(first.0), text(instant(at))],
    )?;
    Ok(json!({ "periods": e.periods, "from_seq": first.0 }))
}

/// The schedule's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Months(u32),
    Days(u64),
}

fn period(dates: &[(i64, NaiveDate)]) -> Period {
    match dates {
        [(_, a), (_, b), ..] => {
            let days = (*b - *a).num_days().max(1) as u64;
            if days >= 28 {
                Period::Months(1)
            } else {
                Period::Days(days)
            }
        }
        _ => Period::Months(1),
    }
}

fn shift(date: NaiveDate, step: Period, periods: u32) -> Option<NaiveDate> {
    match step {
        Period::Months(m) => date.checked_add_months(Months::new(m * periods)),
        Period::Days(d) => date.checked_add_days(Days::new(d * u64::from(periods))),
    }
}

/// A borrower flag the lender records.
#[derive(Clone, Copy)]
pub enum Flag {
    /// An open dispute (`dispute_open`).
    Dispute,
    /// Hardship (`hardship`).
    Hardship,
}

impl Flag {
    fn field(self) -> &'static str {
        match self {
            Self::Dispute => "dispute_open",
            Self::Hardship => "hardship",
        }
    }
}

/// A change to a borrower's contact profile.
pub enum ProfileChange {
    /// A flag set or cleared.
    Flag(Flag, bool),
    /// The channels the borrower opted out of, replacing the list.
    OptOuts(Vec<String>),
}

/// Changes borrower `borrower_id`'s profile and reassesses their booked loans.
pub fn change_profile(
    db: &Db,
    tenant: &str,
    settings: &Settings,
    borrower_id: &str,
    change: ProfileChange,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Value>, Problem> {
    let profile = db
        .row(
            "SELECT profile FROM borrowers WHERE tenant_id = ? AND id = ?",
            &[text(tenant), text(borrower_id)],
            |row| get_optional(row, "profile"),
        )?
        .flatten()
        .ok_or_else(|| Problem::no_such("borrower", borrower_id))?;
    let mut profile: Value = serde_json::from_str(&profile)
        .map_err(|e| Problem::internal(format!("the stored profile of `{borrower_id}`: {e}")))?;
    let (action, detail) = match change {
        ProfileChange::Flag(flag, on) => {
            profile[flag.field()] = Value::Bool(on);
            (
                match (flag, on) {
                    (Flag::Dispute, true) => "dispute.opened",
                    (Flag::Dispute, false) => "dispute.closed",
                    (Flag::Hardship, true) => "hardship.started",
                    (Flag::Hardship, false) => "hardship.ended",
                },
                json!({ flag.field(): on }),
            )
        }
        ProfileChange::OptOuts(channels) => {
            if let Some(bad) = channels
                .iter()
                .position(|c| !CHANNELS.contains(&c.as_str()))
            {
                return Err(Problem::invalid_field(
                    format!("channels[{bad}]"),
                    &format!("is not one of {}", CHANNELS.join(", ")),
                ));
            }
            profile["opted_out"] = json!(channels);
            ("opt_outs.changed", json!({ "opted_out": channels }))
        }
    };
    db.run(
        "UPDATE borrowers SET profile = ? WHERE tenant_id = ? AND id = ?",
        &[text(profile.to_string()), text(tenant), text(borrower_id)],
    )?;
    audit::append(
        db,
        tenant,
        &instant(at),
        Entry {
            actor,
            action,
            entity: &format!("borrower:{borrower_id}"),
            detail: detail.to_string(),
        },
    )?;
    let loan_ids = db.rows(
        "SELECT id FROM loans WHERE tenant_id = ? AND borrower_id = ? AND status = 'active' ORDER BY id",
        &[text(tenant), text(borrower_id)],
        |row| get_text(row, "id"),
    )?;
    let mut actions = Vec::new();
    for loan_id in loan_ids {
        let refreshed = pipeline::refresh(db, tenant, settings, &loan_id, Origin::Change(at))?;
        actions.extend(refreshed.new_actions);
    }
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_monthly_schedule_extends_by_whole_months_keeping_month_end() {
        let dates = [
            (1, day("2026-01-31")),
            (2, day("2026-02-28")),
            (3, day("2026-03-31")),
        ];
        assert_eq!(period(&dates), Period::Months(1));
        // 2026-03-31 + 2 months = 2026-05-31; 2026-02-28 + 1 month = 2026-03-28.
        assert_eq!(
            shift(day("2026-03-31"), Period::Months(1), 2),
            Some(day("2026-05-31"))
        );
        assert_eq!(
            shift(day("2026-02-28"), Period::Months(1), 1),
            Some(day("2026-03-28"))
        );
    }

    #[test]
    fn a_weekly_schedule_extends_by_weeks() {
        let dates = [(1, day("2026-01-07")), (2, day("2026-01-14"))];
        assert_eq!(period(&dates), Period::Days(7));
        assert_eq!(
            shift(day("2026-01-14"), Period::Days(7), 3),
            Some(day("2026-02-04"))
        );
    }
}
