//! The loan book's HTTP routes. Every route but tenant creation and the OpenAPI document
//! takes a tenant's API key, and every query is scoped to the key's tenant.

use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};

use super::audit;
use super::auth::{self, Caller, Role};
use super::db::{Db, get_int, get_text, int, text};
use super::loans::{self, query_value};
use super::servicing::{self, Applied, Change, Flag, ProfileChange, RescheduleIn};
use super::{events, jobs, now, outbox, portfolio, tenants};
use crate::problem::Problem;
use crate::request::parse;

/// The OpenAPI 3.1 description of every route.
const OPENAPI: &str = include_str!("openapi.json");

/// Answers a request for a loan-book route.
pub fn handle(request: &Request) -> Result<Response, Problem> {
    let path: Vec<&str> = request
        .path()
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .collect();
    let method = request.method();
    match (method, path.as_slice()) {
        (Method::Get, ["v1", "openapi.json"]) => Ok(Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(OPENAPI)
            .build()),
        (Method::Post, ["v1", "tenants"]) => tenants::create(&Db::open()?, request),
        (_, ["v1", rest @ ..]) if known(rest) => {
            let db = Db::open()?;
            let caller = auth::authenticate(&db, request)?;
            route(&db, &caller, request, rest)
        }
        _ => Err(no_route(request)),
    }
}

/// A 405 naming the methods the path takes when the OpenAPI document lists it, else a 404:
/// the document is the one list of routes (tests/tests/openapi.rs holds it to the code).
fn no_route(request: &Request) -> Problem {
    let path = request.path().trim_end_matches('/');
    let document: serde_json::Value = serde_json::from_str(OPENAPI).unwrap_or_default();
    let allowed: Vec<String> = document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(template, _)| template_matches(template, path))
        .flat_map(|(_, operations)| operations.as_object().into_iter().flatten())
        .map(|(method, _)| method.to_uppercase())
        .filter(|method| ["GET", "POST", "PUT", "DELETE", "PATCH"].contains(&method.as_str()))
        .collect();
    if allowed.is_empty() {
        Problem::not_found(request.path())
    } else {
        Problem::method_not_allowed_here(request.method(), &allowed)
    }
}

/// Whether `path` fits `template`, whose `{name}` segments take any one segment.
fn template_matches(template: &str, path: &str) -> bool {
    let (template, path): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

/// Whether `path` (after `/v1/`) is one of the book's resources, so that a request without
/// a key for an unknown path is a 404 rather than a 401.
fn known(path: &[&str]) -> bool {
    matches!(
        path,
        [
            "tenant" | "api-keys" | "loans" | "events" | "actions" | "portfolio" | "audit",
            ..
        ] | ["borrowers", _, ..]
            | ["queues" | "jobs", ..]
    )
}

fn route(db: &Db, caller: &Caller, request: &Request, path: &[&str]) -> Result<Response, Problem> {
    let query = request.query();
    match (request.method(), path) {
        (Method::Get, ["tenant"]) => tenants::show(db, caller),
        (Method::Put, ["tenant", "settings"]) => tenants::update_settings(db, caller, request),
        (Method::Post, ["api-keys"]) => tenants::create_key(db, caller, request),
        (Method::Post, ["loans"]) => loans::create(db, caller, request),
        (Method::Get, ["loans"]) => loans::list(db, caller, query),
        (Method::Get, ["loans", id]) => loans::show(db, caller, id, query),
        (Method::Post, ["loans", id, "payments"]) => {
            caller.require(&[Role::Admin])?;
            let key = idempotency_key(request)?;
            loan_change(db, caller, id, Change::Payment(parse(request.body())?, key))
        }
        (Method::Post, ["loans", id, "payments", payment, "reversal"]) => {
            caller.require(&[Role::Admin])?;
            loan_change(db, caller, id, Change::Reversal((*payment).to_owned()))
        }
        (Method::Post, ["loans", id, "pauses"]) => {
            caller.require(&[Role::Admin])?;
            loan_change(db, caller, id, Change::Pause(parse(request.body())?))
        }
        (Method::Post, ["loans", id, "extensions"]) => {
            caller.require(&[Role::Admin])?;
            loan_change(db, caller, id, Change::Extension(parse(request.body())?))
        }
        (Method::Post, ["loans", id, "write-off"]) => {
            caller.require(&[Role::Admin])?;
            loan_change(db, caller, id, Change::WriteOff(parse(request.body())?))
        }
        (Method::Post, ["loans", id, "restructure"]) => reschedule(db, caller, id, request, false),
        (Method::Post, ["loans", id, "re-age"]) => reschedule(db, caller, id, request, true),
        (Method::Post, ["loans", id, "promises"]) => {
            caller.require(&[Role::Admin, Role::Collector])?;
            loan_change(db, caller, id, Change::Promise(parse(request.body())?))
        }
        (Method::Post, ["loans", id, "contact-outcomes"]) => {
            caller.require(&[Role::Admin, Role::Collector])?;
            loan_change(db, caller, id, Change::Outcome(parse(request.body())?))
        }
        (Method::Post, ["borrowers", id, "dispute"]) => {
            caller.require(&[Role::Admin, Role::Collector])?;
            let body: Switch = parse(request.body())?;
            profile_change(
                db,
                caller,
                id,
                ProfileChange::Flag(Flag::Dispute, body.open),
            )
        }
        (Method::Post, ["borrowers", id, "hardship"]) => {
            caller.require(&[Role::Admin, Role::Collector])?;
            let body: Switch = parse(request.body())?;
            profile_change(
                db,
                caller,
                id,
                ProfileChange::Flag(Flag::Hardship, body.open),
            )
        }
        (Method::Put, ["borrowers", id, "opt-outs"]) => {
            caller.require(&[Role::Admin, Role::Collector])?;
            let body: OptOuts = parse(request.body())?;
            profile_change(db, caller, id, ProfileChange::OptOuts(body.channels))
        }
        (Method::Get, ["queues"]) => outbox::queues(db, caller),
        (Method::Get, ["queues", name]) => outbox::queue(db, caller, name, query),
        (Method::Get, ["actions"]) => outbox::list(db, caller, query),
        (Method::Post, ["actions", id, "ack"]) => outbox::acknowledge(db, caller, id),
        (Method::Get, ["portfolio"]) => portfolio::summary(db, caller, query),
        (Method::Get, ["portfolio", "flows"]) => portfolio::flows(db, caller, query),
        (Method::Get, ["portfolio", "trend"]) => portfolio::trend(db, caller, query),
        (Method::Post, ["jobs", "close-of-business"]) => jobs::start(db, caller, query),
        (Method::Get, ["jobs"]) => jobs::list(db, caller, query),
        (Method::Get, ["jobs", id]) => jobs::show(db, caller, id),
        (Method::Post, ["events"]) => events::post(db, caller, request),
        (Method::Get, ["audit", "verify"]) => {
            caller.require(&[Role::Admin, Role::Auditor])?;
            let anchor = audit::Anchor::from_query(query)?;
            Ok(crate::json(
                200,
                &audit::verify(db, &caller.tenant, anchor.as_ref())?,
            ))
        }
        (Method::Get, ["audit"]) => audit_log(db, caller, query),
        _ => Err(no_route(request)),
    }
}

/// `{ "open": true }` for a flag set, `false` for cleared.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Switch {
    open: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptOuts {
    channels: Vec<String>,
}

/// A restructure (`re_age` false) or re-age posted to a loan, by an admin.
fn reschedule(
    db: &Db,
    caller: &Caller,
    loan_id: &str,
    request: &Request,
    re_age: bool,
) -> Result<Response, Problem> {
    caller.require(&[Role::Admin])?;
    let body = RescheduleIn::from_body(
        parse::<serde_json::Value>(request.body())?,
        re_age,
        now().date_naive(),
    )?;
    loan_change(db, caller, loan_id, Change::Reschedule(body))
}

/// Applies a change to a loan in one transaction and answers with the loan.
fn loan_change(
    db: &Db,
    caller: &Caller,
    loan_id: &str,
    change: Change,
) -> Result<Response, Problem> {
    if !loans::exists(db, &caller.tenant, loan_id)? {
        return Err(Problem::no_such("loan", loan_id));
    }
    let settings = tenants::settings(db, &caller.tenant)?;
    let applied = db.transaction(|db| {
        servicing::apply(
            db,
            &caller.tenant,
            &settings,
            loan_id,
            change,
            &caller.actor(),
            now(),
        )
    })?;
    let (status, new_actions) = match applied {
        Applied::New(refreshed) => {
            events::publish(&refreshed.new_actions);
            (201, refreshed.new_actions.len())
        }
        Applied::Again => (200, 0),
    };
    let loan = db
        .row(
            "SELECT dpd, bucket, stage, status FROM loans WHERE tenant_id = ? AND id = ?",
            &[text(&caller.tenant), text(loan_id)],
            |row| json!({ "dpd": get_int(row, "dpd"), "bucket": get_text(row, "bucket"), "stage": get_text(row, "stage"), "status": get_text(row, "status") }),
        )?;
    Ok(crate::json(
        status,
        &json!({ "loan_id": loan_id, "applied": status == 201, "new_actions": new_actions, "standing": loan }),
    ))
}

/// Changes a borrower's profile in one transaction.
fn profile_change(
    db: &Db,
    caller: &Caller,
    borrower_id: &str,
    change: ProfileChange,
) -> Result<Response, Problem> {
    let settings = tenants::settings(db, &caller.tenant)?;
    let actions = db.transaction(|db| {
        servicing::change_profile(
            db,
            &caller.tenant,
            &settings,
            borrower_id,
            change,
            &caller.actor(),
            now(),
        )
    })?;
    events::publish(&actions);
    Ok(crate::json(
        200,
        &json!({ "borrower_id": borrower_id, "new_actions": actions.len() }),
    ))
}

/// `GET /v1/audit?after=SEQ&limit=N`: the tenant's audit entries in order; with
/// `before=SEQ` instead, those before it, the latest first (`before` alone, the latest).
fn audit_log(db: &Db, caller: &Caller, query: &str) -> Result<Response, Problem> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let entry_number = |name: &str| {
        query_value(query, name)
            .map(|a| {
                a.parse::<i64>()
                    .map_err(|_| Problem::invalid_field(name.into(), "is not an entry number"))
            })
            .transpose()
    };
    let limit = super::page_limit(query, 500, 500)?;
    let (bound, order) = match (entry_number("after")?, entry_number("before")?) {
        (Some(_), Some(_)) => {
            return Err(Problem::invalid_field(
                "before".into(),
                "cannot be given with after",
            ));
        }
        (after, None) => (("seq > ?", after.unwrap_or(0)), "ASC"),
        (None, Some(before)) => (("seq < ?", before), "DESC"),
    };
    let entries = db.rows(
        &format!(
            "SELECT seq, at, actor, action, entity, detail, prev_hash, hash FROM audit_log
             WHERE tenant_id = ? AND {} ORDER BY seq {order} LIMIT ?",
            bound.0
        ),
        &[text(&caller.tenant), int(bound.1), int(limit)],
        |row| json!({
            "seq": get_int(row, "seq"),
            "at": get_text(row, "at"),
            "actor": get_text(row, "actor"),
            "action": get_text(row, "action"),
            "entity": get_text(row, "entity"),
            "detail": serde_json::from_str::<serde_json::Value>(&get_text(row, "detail")).unwrap_or_default(),
            "prev_hash": get_text(row, "prev_hash"),
            "hash": get_text(row, "hash"),
        }),
    )?;
    Ok(crate::json(200, &json!({ "entries": entries })))
}

/// The longest `Idempotency-Key` kept: room for a UUID or a lender's own reference.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The caller's `Idempotency-Key`: printable ASCII of 1 to [`MAX_IDEMPOTENCY_KEY`]
/// characters, as HTTP header values should be, or none.
fn idempotency_key(request: &Request) -> Result<Option<String>, Problem> {
    let Some(value) = request.header("idempotency-key") else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    let printable = !bytes.is_empty()
        && bytes.len() <= MAX_IDEMPOTENCY_KEY
        && bytes.iter().all(|b| (b' '..=b'~').contains(b));
    if !printable {
        return Err(Problem::invalid_field(
            "Idempotency-Key".into(),
            &format!("must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"),
        ));
    }
    Ok(value.as_str().map(str::to_owned))
}
