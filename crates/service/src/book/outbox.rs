//! The outbox and the collection queues: actions wait here until the lender's delivery
//! systems pull and acknowledge them, and collectors work their queue worst first.

use serde_json::{Value, json};
use spin_sdk::http::Response;

use super::audit::{self, Entry};
use super::auth::{Caller, Role, mask, mask_name_in};
use super::db::{Db, Param, Row, get_int, get_optional, get_text, int, text};
use super::loans::query_value;
use super::tenants::check_id;
use super::{instant, now, page_limit};
use crate::problem::Problem;

/// Rows per page when the caller does not say, and at most.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

fn limit(query: &str) -> Result<i64, Problem> {
    page_limit(query, DEFAULT_LIMIT, MAX_LIMIT)
}

/// `GET /v1/actions?status=pending|acknowledged|cancelled&after=ID&limit=N`: actions in the order
/// they were created; `next_after` continues.
pub fn list(db: &Db, caller: &Caller, query: &str) -> Result<Response, Problem> {
    let status = query_value(query, "status").unwrap_or_else(|| "pending".to_owned());
    if !["pending", "acknowledged", "cancelled"].contains(&status.as_str()) {
        return Err(Problem::invalid_field(
            "status".into(),
            "is not pending, acknowledged or cancelled",
        ));
    }
    let after = match query_value(query, "after") {
        Some(after) => after
            .parse::<i64>()
            .map_err(|_| Problem::invalid_field("after".into(), "is not an action id"))?,
        None => 0,
    };
    let limit = limit(query)?;
    let items = db.rows(
        &format!(
            "{WITH_BORROWER}
             WHERE actions.tenant_id = ? AND actions.status = ? AND actions.id > ?
             ORDER BY actions.id LIMIT ?"
        ),
        &[text(&caller.tenant), text(&status), int(after), int(limit)],
        |row| action_json(row, caller),
    )?;
    let next_after = (items.len() as i64 == limit).then(|| items.last().map(|a| a["id"].clone()));
    Ok(crate::json(
        200,
        &json!({ "items": items, "next_after": next_after.flatten() }),
    ))
}

/// `POST /v1/actions/{id}/ack`: the action was delivered; acknowledging twice is harmless.
/// The acknowledgement is recorded in the audit log (`action.acknowledged`), once.
pub fn acknowledge(db: &Db, caller: &Caller, id: &str) -> Result<Response, Problem> {
    caller.require(&[Role::Admin, Role::Collector])?;
    let number: i64 = id.parse().map_err(|_| Problem::no_such("action", id))?;
    let key: [Param; 2] = [text(&caller.tenant), int(number)];
    let at = instant(now());
    db.transaction(|db| {
        let acknowledged = db.row(
            "UPDATE actions SET status = 'acknowledged', acknowledged_at = ?
             WHERE tenant_id = ? AND id = ? AND status = 'pending'
             RETURNING loan_id, business_date, kind, channel, queue, rule",
            &[text(&at), key[0].clone(), key[1].clone()],
            |row| {
                json!({
                    "loan_id": get_text(row, "loan_id"),
                    "business_date": get_text(row, "business_date"),
                    "kind": get_text(row, "kind"),
                    "channel": get_optional(row, "channel"),
                    "queue": get_optional(row, "queue"),
                    "rule": get_text(row, "rule"),
                })
            },
        )?;
        match acknowledged {
            Some(detail) => audit::append(
                db,
                &caller.tenant,
                &at,
                Entry {
                    actor: &caller.actor(),
                    action: "action.acknowledged",
                    entity: &format!("action:{number}"),
                    detail: detail.to_string(),
                },
            ),
            None => Ok(()),
        }
    })?;
    let action = db
        .row(
            &format!("{WITH_BORROWER} WHERE actions.tenant_id = ? AND actions.id = ?"),
            &key,
            |row| action_json(row, caller),
        )?
        .ok_or_else(|| Problem::no_such("action", id))?;
    Ok(crate::json(200, &action))
}

/// The latest `limit` actions of loan `loan_id`, the newest first, as the API shows them.
pub fn of_loan(db: &Db, caller: &Caller, loan_id: &str, limit: i64) -> Result<Vec<Value>, Problem> {
    db.rows(
        &format!(
            "{WITH_BORROWER} WHERE actions.tenant_id = ? AND actions.loan_id = ?
             ORDER BY actions.id DESC LIMIT ?"
        ),
        &[text(&caller.tenant), text(loan_id), int(limit)],
        |row| action_json(row, caller),
    )
}

/// Actions with their borrower's profile, so that a view masks the borrower's name.
const WITH_BORROWER: &str = "SELECT actions.*, borrowers.profile AS borrower_profile
     FROM actions
     LEFT JOIN loans ON loans.tenant_id = actions.tenant_id AND loans.id = actions.loan_id
     LEFT JOIN borrowers
       ON borrowers.tenant_id = loans.tenant_id AND borrowers.id = loans.borrower_id";

/// An action as the API shows it (a row of [`WITH_BORROWER`]). Unless the caller's role
/// may see personal data, its address is masked, and the borrower's name wherever it stands
/// in the action (a message's text, above all).
fn action_json(row: &Row<'_>, caller: &Caller) -> Value {
    let mut detail: Value = serde_json::from_str(&get_text(row, "detail")).unwrap_or(Value::Null);
    if !caller.sees_personal_data() {
        if let Some(address) = detail.get_mut("address") {
            *address = Value::String(mask(address.as_str().unwrap_or_default()));
        }
        let name = get_optional(row, "borrower_profile")
            .and_then(|p| serde_json::from_str::<Value>(&p).ok())
            .and_then(|p| p["name"].as_str().map(str::to_owned))
            .unwrap_or_default();
        mask_name_everywhere(&mut detail, &name);
    }
    json!({
        "id": get_int(row, "id"),
        "loan_id": get_text(row, "loan_id"),
        "business_date": get_text(row, "business_date"),
        "kind": get_text(row, "kind"),
        "channel": get_optional(row, "channel"),
        "queue": get_optional(row, "queue"),
        "rule": get_text(row, "rule"),
        "status": get_text(row, "status"),
        "created_at": get_text(row, "created_at"),
        "acknowledged_at": get_optional(row, "acknowledged_at"),
        "detail": detail,
    })
}

/// `GET /v1/queues`: each collector queue holding active loans, by name, with how many and
/// the most days past due among them.
pub fn queues(db: &Db, caller: &Caller) -> Result<Response, Problem> {
    let items = db.rows(
        "SELECT queue, COUNT(*) AS loans, MAX(dpd) AS max_dpd FROM loans
         WHERE tenant_id = ? AND queue IS NOT NULL AND status = 'active'
         GROUP BY queue ORDER BY queue",
        &[text(&caller.tenant)],
        |row| json!({ "queue": get_text(row, "queue"), "loans": get_int(row, "loans"), "max_dpd": get_int(row, "max_dpd") }),
    )?;
    Ok(crate::json(200, &json!({ "items": items })))
}

/// The filters `GET /v1/queues/{name}` takes: columns of `loans` compared for equality.
const QUEUE_FILTERS: [&str; 3] = ["stage", "tier", "bucket"];

/// `GET /v1/queues/{name}?stage=&tier=&bucket=&min_dpd=&limit=N&cursor=C`: the active loans
/// in a collector queue, the most days past due first, each with its pending tasks.
pub fn queue(db: &Db, caller: &Caller, name: &str, query: &str) -> Result<Response, Problem> {
    let limit = limit(query)?;
    let mut sql = String::from(
        "SELECT id, borrower_id, dpd, bucket, stage, tier, overdue_amount, currency FROM loans
         WHERE tenant_id = ? AND queue = ? AND status = 'active'",
    );
    let mut params = vec![text(&caller.tenant), text(name)];
    for filter in QUEUE_FILTERS {
        if let Some(value) = query_value(query, filter) {
            super::loans::check_filter(filter, &value)?;
            sql.push_str(&format!(" AND {filter} = ?"));
            params.push(text(value));
        }
    }
    if let Some(min) = query_value(query, "min_dpd") {
        let min: u32 = min.parse().map_err(|_| {
            Problem::invalid_field(
                "min_dpd".into(),
                "is not a whole number of days (0 or more)",
            )
        })?;
        sql.push_str(" AND dpd >= ?");
        params.push(int(min));
    }
    if let Some(cursor) = query_value(query, "cursor") {
        let (dpd, id) = cursor
            .split_once(':')
            .filter(|(_, i)| check_id("cursor", i).is_ok())
            .and_then(|(d, i)| Some((d.parse::<i64>().ok()?, i.to_owned())))
            .ok_or_else(|| {
                Problem::invalid_field("cursor".into(), "is not a cursor this route gave")
            })?;
        sql.push_str(" AND (dpd < ? OR (dpd = ? AND id > ?))");
        params.extend([int(dpd), int(dpd), text(id)]);
    }
    sql.push_str(" ORDER BY dpd DESC, id LIMIT ?");
    params.push(int(limit));
    let mut items = db.rows(&sql, &params, |row| {
        json!({
            "loan_id": get_text(row, "id"),
            "borrower_id": get_text(row, "borrower_id"),
            "dpd": get_int(row, "dpd"),
            "bucket": get_text(row, "bucket"),
            "stage": get_text(row, "stage"),
            "tier": get_optional(row, "tier"),
            "overdue_amount": get_text(row, "overdue_amount"),
            "currency": get_text(row, "currency"),
        })
    })?;
    for item in &mut items {
        let loan_id = item["loan_id"].as_str().unwrap_or_default().to_owned();
        item["pending_tasks"] = json!(db.rows(
            "SELECT id, kind, rule, business_date FROM actions
             WHERE tenant_id = ? AND loan_id = ? AND queue = ? AND status = 'pending' ORDER BY id",
            &[text(&caller.tenant), text(&loan_id), text(name)],
            |row| json!({ "id": get_int(row, "id"), "kind": get_text(row, "kind"), "rule": get_text(row, "rule"), "business_date": get_text(row, "business_date") }),
        )?);
    }
    let next_cursor = (items.len() as i64 == limit)
        .then(|| {
            items
                .last()
                .map(|l| format!("{}:{}", l["dpd"], l["loan_id"].as_str().unwrap_or_default()))
        })
        .flatten();
    Ok(crate::json(
        200,
        &json!({ "queue": name, "items": items, "next_cursor": next_cursor }),
    ))
}

/// Masks `name` in every string of `value`, however deep.
fn mask_name_everywhere(value: &mut Value, name: &str) {
    match value {
        Value::String(text) => *text = mask_name_in(text, name),
        Value::Array(items) => items.iter_mut().for_each(|v| mask_name_everywhere(v, name)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|v| mask_name_everywhere(v, name)),
        _ => {}
    }
}
