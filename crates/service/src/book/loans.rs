//! Loans in the book: created from explicit installments or from terms, read back with a
//! live assessment, and listed by their standing with cursor pagination.

use chrono::{DateTime, NaiveDate, Utc};
use postloan_domain::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};

use super::audit::{self, Entry};
use super::auth::{Caller, Role, mask, mask_name};
use super::db::{
    Db, Param, Row, get_int, get_optional, get_optional_int, get_text, int, optional, text,
};
use super::pipeline::{self, Origin, Refreshed};
use super::store::{self, Stored};
use super::tenants::{self, check_id};
use super::{csv_field, csv_response, instant, now, page_limit, parse_date};
use crate::contact_plan::ProfileJson;
use crate::input::RescheduleJson;
use crate::postloan::core::types as wit;
use crate::problem::Problem;
use crate::request::{from_value, parse};
use crate::schedules::{self, TermsJson};

/// A loan as posted to `POST /v1/loans` and carried by a `loan.created` event.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLoan {
    id: String,
    borrower: BorrowerJson,
    currency: Option<String>,
    disbursed_on: Option<String>,
    installments: Option<Vec<InstallmentJson>>,
    terms: Option<TermsJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BorrowerJson {
    id: String,
    id_number: Option<String>,
    profile: Value,
}

/// An installment as posted and as stored.
#[derive(Deserialize, Serialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct InstallmentJson {
    seq: u32,
    due_date: String,
    principal: String,
    interest: String,
    #[serde(default = "zero")]
    fees: String,
}

impl NewLoan {
    /// The loan's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

fn zero() -> String {
    "0".to_owned()
}

/// `POST /v1/loans`.
pub fn create(db: &Db, caller: &Caller, request: &Request) -> Result<Response, Problem> {
    caller.require(&[Role::Admin])?;
    let new: NewLoan = parse(request.body())?;
    let id = new.id.clone();
    let refreshed = db.transaction(|db| book(db, &caller.tenant, new, &caller.actor(), now()))?;
    super::events::publish(&refreshed.new_actions);
    Ok(crate::json(201, &view(db, caller, &id, "")?))
}

/// Books a new loan of `tenant` at instant `at` and runs it through the pipeline, inside
/// the caller's transaction.
pub fn book(
    db: &Db,
    tenant: &str,
    mut new: NewLoan,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Refreshed, Problem> {
    check_id("id", &new.id)?;
    check_id("borrower.id", &new.borrower.id)?;
    check_profile(&new.borrower.profile)?;
    let (currency, disbursed_on, installments) = schedule(
        new.currency.take(),
        new.disbursed_on.take(),
        new.installments.take(),
        new.terms.take(),
    )?;
    parse_date("disbursed_on", &disbursed_on)?;
    let settings = tenants::settings(db, tenant)?;
    // The overdue engine checks the schedule (dates, amounts, currency) before it is stored.
    pipeline::check_loan(
        &new_loan(&new.id, &currency, &installments),
        &disbursed_on,
        &settings,
    )?;
    let principal = total_principal(&installments, &currency)?;
    if exists(db, tenant, &new.id)? {
        return Err(Problem::conflict("id".into(), "a loan with this id exists"));
    }
    db.run(
        // A borrower booked before keeps the profile the book holds (flags, opt-outs):
        // it changes through the borrower routes only.
        "INSERT INTO borrowers (tenant_id, id, id_number, profile) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant_id, id) DO NOTHING",
        &[
            text(tenant),
            text(&new.borrower.id),
            optional(new.borrower.id_number.clone()),
            text(new.borrower.profile.to_string()),
        ],
    )?;
    db.run(
        "INSERT INTO loans (tenant_id, id, borrower_id, currency, principal, disbursed_on, created_at, outstanding_principal)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            text(tenant),
            text(&new.id),
            text(&new.borrower.id),
            text(&currency),
            text(&principal),
            text(&disbursed_on),
            text(instant(at)),
            text(&principal),
        ],
    )?;
    for i in &installments {
        db.run(
            "INSERT INTO installments (tenant_id, loan_id, seq, due_date, principal, interest, fees)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                text(tenant),
                text(&new.id),
                int(i.seq),
                text(&i.due_date),
                text(&i.principal),
                text(&i.interest),
                text(&i.fees),
            ],
        )?;
    }
    audit::append(
        db,
        tenant,
        &instant(at),
        Entry {
            actor,
            action: "loan.created",
            entity: &format!("loan:{}", new.id),
            detail: json!({ "borrower": new.borrower.id, "currency": currency, "principal": principal, "installments": installments.len() }).to_string(),
        },
    )?;
    pipeline::refresh(db, tenant, &settings, &new.id, Origin::Change(at))
}

/// The schedule of a new loan: its own installments, or those generated from its terms.
fn schedule(
    currency: Option<String>,
    disbursed_on: Option<String>,
    installments: Option<Vec<InstallmentJson>>,
    terms: Option<TermsJson>,
) -> Result<(String, String, Vec<InstallmentJson>), Problem> {
    match (installments, terms) {
        (Some(installments), None) => {
            let currency = currency.ok_or_else(|| {
                Problem::invalid_field("currency".into(), "is required with installments")
            })?;
            let disbursed_on = disbursed_on.ok_or_else(|| {
                Problem::invalid_field("disbursed_on".into(), "is required with installments")
            })?;
            if installments.is_empty() {
                return Err(Problem::invalid_field(
                    "installments".into(),
                    "needs at least one installment",
                ));
            }
            Ok((currency, disbursed_on, installments))
        }
        (None, Some(terms)) => {
            if currency.is_some() || disbursed_on.is_some() {
                return Err(Problem::invalid_field(
                    "terms".into(),
                    "carries currency and disbursed_on itself; leave them out of the loan",
                ));
            }
            let currency = terms.currency().to_owned();
            let disbursed_on = terms.disbursed_on().to_owned();
            let generated = schedules::generate(terms).map_err(|p| p.under("terms"))?;
            let installments = generated
                .installments
                .into_iter()
                .map(|i| InstallmentJson {
                    seq: i.seq,
                    due_date: i.due_date,
                    principal: i.principal,
                    interest: i.interest,
                    fees: i.fees,
                })
                .collect();
            Ok((currency, disbursed_on, installments))
        }
        _ => Err(Problem::invalid_field(
            "installments".into(),
            "give exactly one of installments or terms",
        )),
    }
}

/// The sum of the installments' principal: the amount lent, in the currency's minor unit.
fn total_principal(installments: &[InstallmentJson], currency: &str) -> Result<String, Problem> {
    let currency = Currency::parse("currency", currency).map_err(Problem::from)?;
    let mut total = rust_decimal::Decimal::ZERO;
    for (i, installment) in installments.iter().enumerate() {
        let principal: rust_decimal::Decimal = installment.principal.parse().map_err(|_| {
            Problem::invalid_field(format!("installments[{i}].principal"), "is not a decimal")
        })?;
        total += principal;
    }
    Ok(currency.format(total))
}

/// A profile must read as `/v1/contact-plan`'s and name a known IANA time zone.
fn check_profile(profile: &Value) -> Result<(), Problem> {
    let parsed: ProfileJson = from_value(profile, "borrower.profile")?;

    parsed
        .time_zone()
        .parse::<chrono_tz::Tz>()
        .map(|_| ())
        .map_err(|_| {
            Problem::invalid_field(
                "borrower.profile.time_zone".into(),
                "is not an IANA time zone such as Asia/Shanghai",
            )
        })
}

/// Whether `tenant` has a loan `id`.
pub fn exists(db: &Db, tenant: &str, id: &str) -> Result<bool, Problem> {
    Ok(booked(db, tenant, id)?.is_some())
}

/// What a change to a booked loan is checked against.
pub struct Booked {
    /// The loan's currency, which bounds an amount's decimals.
    pub currency: Currency,
    /// The day it was disbursed: nothing is paid before it.
    pub disbursed_on: NaiveDate,
    /// The business date it was written off, if it was: payments after it are recoveries.
    pub written_off_on: Option<NaiveDate>,
}

/// The currency and disbursement of `tenant`'s loan `id`, when it is booked.
pub fn booked(db: &Db, tenant: &str, id: &str) -> Result<Option<Booked>, Problem> {
    let stored = db.row(
        "SELECT currency, disbursed_on, written_off_on FROM loans WHERE tenant_id = ? AND id = ?",
        &[text(tenant), text(id)],
        |row| {
            (
                get_text(row, "currency"),
                get_text(row, "disbursed_on"),
                get_optional(row, "written_off_on"),
            )
        },
    )?;
    // All were checked when they were stored.
    stored
        .map(|(currency, disbursed_on, written_off_on)| {
            Ok(Booked {
                currency: Currency::parse("currency", &currency)?,
                disbursed_on: parse_date("disbursed_on", &disbursed_on)?,
                written_off_on: written_off_on
                    .map(|on| parse_date("written_off_on", &on))
                    .transpose()?,
            })
        })
        .transpose()
}

/// A new loan as the overdue component takes it: its schedule, nothing paid yet.
fn new_loan(id: &str, currency: &str, installments: &[InstallmentJson]) -> wit::Loan {
    wit::Loan {
        id: id.to_owned(),
        currency: currency.to_owned(),
        installments: installments
            .iter()
            .map(|i| wit::Installment {
                seq: i.seq,
                due_date: i.due_date.clone(),
                principal: i.principal.clone(),
                interest: i.interest.clone(),
                fees: i.fees.clone(),
            })
            .collect(),
        payments: Vec::new(),
        reversals: Vec::new(),
        pauses: Vec::new(),
        reschedules: Vec::new(),
    }
}

/// A stored loan in the JSON of `/v1/assess`'s `loan`.
fn loan_view(loan: &wit::Loan) -> Value {
    json!({
        "id": loan.id,
        "currency": loan.currency,
        "installments": loan.installments.iter().map(|i| json!({
            "seq": i.seq, "due_date": i.due_date, "principal": i.principal,
            "interest": i.interest, "fees": i.fees,
        })).collect::<Vec<_>>(),
        "payments": loan.payments.iter().map(|p| json!({
            "id": p.id, "value_date": p.value_date, "amount": p.amount,
        })).collect::<Vec<_>>(),
        "reversals": loan.reversals.iter().map(|r| json!({ "payment_id": r.payment_id })).collect::<Vec<_>>(),
        "pauses": loan.pauses.iter().map(|p| json!({
            "from": p.from, "to": p.to, "reason": p.reason,
        })).collect::<Vec<_>>(),
        "reschedules": loan.reschedules.iter().map(RescheduleJson::from).collect::<Vec<_>>(),
    })
}

/// Loads loan `id` of `tenant` with its schedule, payments, reversals and pauses.
pub fn load(db: &Db, tenant: &str, id: &str) -> Result<Option<Stored>, Problem> {
    Ok(store::loans(db, tenant, &[id.to_owned()])?.pop())
}

/// `GET /v1/loans/{id}`: the stored loan, its standing and a live assessment as of `as_of`
/// (today's UTC date when left out).
pub fn show(db: &Db, caller: &Caller, id: &str, query: &str) -> Result<Response, Problem> {
    Ok(crate::json(200, &view(db, caller, id, query)?))
}

/// A loan as `GET /v1/loans/{id}` shows it.
fn view(db: &Db, caller: &Caller, id: &str, query: &str) -> Result<Value, Problem> {
    let stored = load(db, &caller.tenant, id)?.ok_or_else(|| Problem::no_such("loan", id))?;
    let as_of = match query_value(query, "as_of") {
        Some(date) => {
            parse_date("as_of", &date)?;
            date
        }
        None => now().date_naive().to_string(),
    };
    let settings = tenants::settings(db, &caller.tenant)?;
    let standing = standing(db, &caller.tenant, id)?;
    let promises = db.rows(
        "SELECT id, amount, due_date, made_on, status FROM promises WHERE tenant_id = ? AND loan_id = ? ORDER BY due_date, id",
        &[text(&caller.tenant), text(id)],
        |row| json!({ "id": get_text(row, "id"), "amount": get_text(row, "amount"), "date": get_text(row, "due_date"), "made_on": get_text(row, "made_on"), "status": get_text(row, "status") }),
    )?;
    let live = pipeline::live(&stored, &as_of, &settings, &promises)?;
    let allocations = pipeline::allocations(&stored, &as_of, &settings)?;
    let actions = super::outbox::of_loan(db, caller, id, CARD_ROWS)?;
    let contacts = db.rows(
        "SELECT channel, at, outcome FROM contact_attempts
         WHERE tenant_id = ? AND loan_id = ? ORDER BY at DESC LIMIT ?",
        &[text(&caller.tenant), text(id), int(CARD_ROWS)],
        |row| json!({ "loan_id": id, "channel": get_text(row, "channel"), "at": get_text(row, "at"), "outcome": get_text(row, "outcome") }),
    )?;
    Ok(json!({
        "contact_window": contact_window(&stored.profile, &actions, now()),
        "contacts": contacts,
        "actions": actions,
        "loan": loan_view(&stored.loan),
        "disbursed_on": stored.disbursed_on,
        "borrower": borrower_view(caller, &stored),
        "standing": standing,
        "promises": promises,
        "assessment": live,
        "allocations": allocations,
        "write_off": write_off_view(db, &caller.tenant, id)?,
    }))
}

/// The most actions and contact attempts a loan's view lists, the newest first.
const CARD_ROWS: i64 = 50;

/// When the borrower may next be contacted on each channel: of the loan's pending contacts
/// whose window has not passed at `now`, the earliest window per channel, as the contact
/// rules set it when the contact was planned (borrower's local time, with its offset).
fn contact_window(profile: &Value, actions: &[Value], now: DateTime<Utc>) -> Value {
    let at = |action: &Value, end: &str| {
        action["detail"][end]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    };
    let mut earliest: Vec<&Value> = Vec::new();
    let upcoming = actions
        .iter()
        .filter(|a| a["status"] == "pending" && a["channel"].is_string())
        .filter(|a| at(a, "not_before").is_some())
        .filter(|a| at(a, "not_after").is_some_and(|end| end > now));
    for action in upcoming {
        match earliest
            .iter_mut()
            .find(|e| e["channel"] == action["channel"])
        {
            Some(kept) if at(action, "not_before") < at(kept, "not_before") => *kept = action,
            Some(_) => {}
            None => earliest.push(action),
        }
    }
    let channels: Vec<Value> = earliest
        .iter()
        .map(|a| {
            json!({
                "channel": a["channel"],
                "not_before": a["detail"]["not_before"],
                "not_after": a["detail"]["not_after"],
                "rule": a["rule"],
                "action_id": a["id"],
            })
        })
        .collect();
    json!({ "time_zone": profile["time_zone"], "channels": channels })
}

/// The borrower, name, identity number and contact addresses masked unless the caller's
/// role may see them.
fn borrower_view(caller: &Caller, stored: &Stored) -> Value {
    let mut profile = stored.profile.clone();
    let mut id_number = stored.id_number.clone();
    if !caller.sees_personal_data() {
        id_number = id_number.as_deref().map(mask);
        if let Some(name) = profile.get_mut("name") {
            *name = Value::String(mask_name(name.as_str().unwrap_or_default()));
        }
        if let Some(points) = profile
            .get_mut("contact_points")
            .and_then(Value::as_array_mut)
        {
            for point in points {
                if let Some(address) = point.get_mut("address") {
                    *address = Value::String(mask(address.as_str().unwrap_or_default()));
                }
            }
        }
    }
    json!({ "id": stored.borrower_id, "id_number": id_number, "profile": profile })
}

/// What was charged off and what has been recovered since, when the loan is written off;
/// null otherwise. Recoveries are the payments after the write-off, less those reversed.
fn write_off_view(db: &Db, tenant: &str, id: &str) -> Result<Value, Problem> {
    let Some(mut view) = db.row(
        "SELECT written_off_on, reason, actor, principal, interest, fees, penalty, total
         FROM write_offs WHERE tenant_id = ? AND loan_id = ?",
        &[text(tenant), text(id)],
        |row| {
            json!({
                "on": get_text(row, "written_off_on"),
                "reason": get_text(row, "reason"),
                "by": get_text(row, "actor"),
                "charged_off": {
                    "principal": get_text(row, "principal"),
                    "interest": get_text(row, "interest"),
                    "fees": get_text(row, "fees"),
                    "penalty": get_text(row, "penalty"),
                    "total": get_text(row, "total"),
                },
            })
        },
    )?
    else {
        return Ok(Value::Null);
    };
    let recoveries = store::recoveries(db, tenant, Some(&[id.to_owned()]))?;
    let recovered: Decimal = recoveries.iter().map(|r| r.amount).sum();
    view["recoveries"] = json!(recoveries.len());
    view["recovered"] = json!(recovered.to_string());
    Ok(view)
}

/// The standing the book last recorded for a loan.
fn standing(db: &Db, tenant: &str, id: &str) -> Result<Value, Problem> {
    Ok(db
        .row(
            "SELECT * FROM loans WHERE tenant_id = ? AND id = ?",
            &[text(tenant), text(id)],
            summary,
        )?
        .unwrap_or(Value::Null))
}

/// A loan's row as the API shows it.
fn summary(row: &Row<'_>) -> Value {
    json!({
        "id": get_text(row, "id"),
        "borrower_id": get_text(row, "borrower_id"),
        "currency": get_text(row, "currency"),
        "principal": get_text(row, "principal"),
        "status": get_text(row, "status"),
        "dpd": get_int(row, "dpd"),
        "bucket": get_text(row, "bucket"),
        "classification": get_text(row, "classification"),
        "own_classification": Some(get_text(row, "own_classification")).filter(|c| !c.is_empty()),
        "stage": get_text(row, "stage"),
        "queue": get_optional(row, "queue"),
        "tier": get_optional(row, "tier"),
        "score": get_optional_int(row, "score"),
        "outstanding_principal": get_text(row, "outstanding_principal"),
        "overdue_amount": get_text(row, "overdue_amount"),
        "assessed_on": get_optional(row, "assessed_on"),
        "written_off_on": get_optional(row, "written_off_on"),
    })
}

/// Refuses a filter value no loan can have: a status or stage that does not exist.
/// Buckets, classes and queues are the tenant's own names, so any value may match.
pub(super) fn check_filter(filter: &str, value: &str) -> Result<(), Problem> {
    let known = match filter {
        "status" => ["active", "closed", "written_off"].contains(&value),
        "stage" => crate::contact_plan::is_stage_name(value),
        "tier" => ["A", "B", "C", "D", "E"].contains(&value),
        _ => true,
    };
    if known {
        Ok(())
    } else {
        Err(Problem::invalid_field(
            filter.to_owned(),
            &format!("`{value}` is not a {filter} a loan can have"),
        ))
    }
}

/// Loans per page when the caller does not say, and at most.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

/// `GET /v1/loans?bucket=&stage=&classification=&queue=&status=&limit=&cursor=&format=`:
/// loans in id order; `next_cursor` (the `x-next-cursor` header for CSV) continues after the
/// last one. The CSV export carries the borrower's identity number and first contact
/// address, masked unless the caller's role may see them.
pub fn list(db: &Db, caller: &Caller, query: &str) -> Result<Response, Problem> {
    let csv = match query_value(query, "format").as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(Problem::invalid_field(
                "format".into(),
                "is not json or csv",
            ));
        }
    };
    let mut sql = String::from(
        "SELECT loans.*, borrowers.id_number AS id_number, borrowers.profile AS profile
         FROM loans LEFT JOIN borrowers
           ON borrowers.tenant_id = loans.tenant_id AND borrowers.id = loans.borrower_id
         WHERE loans.tenant_id = ?",
    );
    let mut params: Vec<Param> = vec![text(&caller.tenant)];
    for filter in ["bucket", "stage", "classification", "queue", "status"] {
        if let Some(value) = query_value(query, filter) {
            check_filter(filter, &value)?;
            sql.push_str(&format!(" AND loans.{filter} = ?"));
            params.push(text(value));
        }
    }
    // An empty cursor is the first page.
    if let Some(cursor) = query_value(query, "cursor").filter(|c| !c.is_empty()) {
        check_id("cursor", &cursor).map_err(|_| {
            Problem::invalid_field("cursor".into(), "is not a cursor this route gave")
        })?;
        sql.push_str(" AND loans.id > ?");
        params.push(text(cursor));
    }
    let limit = page_limit(query, DEFAULT_LIMIT, MAX_LIMIT)?;
    sql.push_str(" ORDER BY loans.id LIMIT ?");
    params.push(int(limit + 1));
    let mut rows = db.rows(&sql, &params, |row| {
        (
            summary(row),
            get_optional(row, "id_number"),
            get_optional(row, "profile"),
        )
    })?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .and_then(|(l, _, _)| l["id"].as_str())
            .map(str::to_owned)
    } else {
        None
    };
    if csv {
        return Ok(loans_csv(caller, &rows, next_cursor));
    }
    let items: Vec<Value> = rows.into_iter().map(|(summary, _, _)| summary).collect();
    Ok(crate::json(
        200,
        &json!({ "items": items, "next_cursor": next_cursor }),
    ))
}

/// The CSV export of a page of loans.
fn loans_csv(
    caller: &Caller,
    rows: &[(Value, Option<String>, Option<String>)],
    next_cursor: Option<String>,
) -> Response {
    const COLUMNS: [&str; 11] = [
        "id",
        "borrower_id",
        "status",
        "dpd",
        "bucket",
        "classification",
        "stage",
        "queue",
        "currency",
        "outstanding_principal",
        "overdue_amount",
    ];
    let shown = |value: &str| {
        if caller.sees_personal_data() {
            value.to_owned()
        } else {
            mask(value)
        }
    };
    let mut out = format!("{},id_number,contact_address\n", COLUMNS.join(","));
    for (summary, id_number, profile) in rows {
        for column in COLUMNS {
            let value = match &summary[column] {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.push_str(&csv_field(&value));
            out.push(',');
        }
        let address = profile
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .and_then(|p| {
                p["contact_points"][0]["address"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        out.push_str(&csv_field(&shown(id_number.as_deref().unwrap_or_default())));
        out.push(',');
        out.push_str(&csv_field(&shown(&address)));
        out.push('\n');
    }
    let mut response = csv_response(out);
    if let Some(cursor) = next_cursor {
        response.set_header("x-next-cursor", cursor);
    }
    response
}

/// The value of `name` in a URL query string, percent-decoded.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
