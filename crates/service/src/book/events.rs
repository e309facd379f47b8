//! Events: the envelope `{ id, tenant, type, occurred_at, data }` from the Redis channel
//! `postloan.events` or `POST /v1/events`. Each is applied once per tenant and id (a
//! duplicate is acknowledged and ignored), the loan is reassessed at once, and the new
//! actions are written to the outbox and published on `postloan.actions`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};

use super::auth::{Caller, Role};
use super::db::{Db, text};
use super::loans::{self, NewLoan};
use super::servicing::{self, Applied, Change, Flag, ProfileChange, RescheduleIn};
use super::tenants::{self, Settings};
use super::{instant, now};
use crate::problem::Problem;
use crate::request::{from_value, parse};

/// The channel new actions are published on.
pub const ACTIONS_CHANNEL: &str = "postloan.actions";

/// The Spin variable with the Redis address actions are published to; empty publishes
/// nothing (the outbox still holds them).
const REDIS_ADDRESS: &str = "redis_address";

/// The types of events the book applies.
const TYPES: [&str; 10] = [
    "loan.created",
    "loan.written_off",
    "loan.restructured",
    "loan.reaged",
    "payment.posted",
    "payment.reversed",
    "contact.outcome",
    "promise.made",
    "dispute.opened",
    "dispute.closed",
];

/// An event as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    id: String,
    tenant: String,
    #[serde(rename = "type")]
    kind: String,
    occurred_at: String,
    data: Value,
}

/// What applying an event did.
pub struct Outcome {
    /// Whether the event was new.
    pub duplicate: bool,
    /// The actions it added to the outbox.
    pub new_actions: Vec<Value>,
}

/// Applies one message of `postloan.events`.
pub fn on_message(message: &[u8]) -> Result<(), Problem> {
    let envelope: Envelope = parse(message)?;
    let db = Db::open()?;
    let outcome = apply(&db, envelope)?;
    publish(&outcome.new_actions);
    Ok(())
}

/// `POST /v1/events`: the same envelope over HTTP; its tenant must be the key's.
pub fn post(db: &Db, caller: &Caller, request: &Request) -> Result<Response, Problem> {
    caller.require(&[Role::Admin])?;
    let envelope: Envelope = parse(request.body())?;
    if envelope.tenant != caller.tenant {
        return Err(Problem::invalid_field(
            "tenant".into(),
            "is not the tenant of the API key",
        ));
    }
    let id = envelope.id.clone();
    let outcome = apply(db, envelope)?;
    publish(&outcome.new_actions);
    Ok(crate::json(
        if outcome.duplicate { 200 } else { 201 },
        &json!({
            "event": id,
            "status": if outcome.duplicate { "duplicate" } else { "applied" },
            "new_actions": outcome.new_actions.len(),
        }),
    ))
}

/// Applies `envelope` in one transaction with its record in `processed_events`.
pub fn apply(db: &Db, envelope: Envelope) -> Result<Outcome, Problem> {
    tenants::check_id("id", &envelope.id)?;
    if !TYPES.contains(&envelope.kind.as_str()) {
        return Err(Problem::invalid_field(
            "type".into(),
            &format!("`{}` is not one of {}", envelope.kind, TYPES.join(", ")),
        ));
    }
    let at = DateTime::parse_from_rfc3339(&envelope.occurred_at)
        .map_err(|_| Problem::invalid_field("occurred_at".into(), "is not an RFC 3339 instant"))?
        .with_timezone(&Utc);
    let settings = tenants::settings(db, &envelope.tenant)
        .map_err(|_| Problem::invalid_field("tenant".into(), "is not a known tenant"))?;
    let tenant = envelope.tenant.clone();
    db.transaction(|db| {
        let seen = db
            .row(
                "SELECT 1 AS one FROM processed_events WHERE tenant_id = ? AND event_id = ?",
                &[text(&tenant), text(&envelope.id)],
                |_| (),
            )?
            .is_some();
        if seen {
            return Ok(Outcome {
                duplicate: true,
                new_actions: Vec::new(),
            });
        }
        let actor = format!("event:{}", envelope.id);
        let new_actions = dispatch(db, &tenant, &settings, &envelope.kind, envelope.data.clone(), &actor, at)
            .map_err(|p| p.under("data"))?;
        db.run(
            "INSERT INTO processed_events (tenant_id, event_id, type, applied_at) VALUES (?, ?, ?, ?)",
            &[text(&tenant), text(&envelope.id), text(&envelope.kind), text(instant(now()))],
        )?;
        Ok(Outcome {
            duplicate: false,
            new_actions,
        })
    })
}

/// The types of events, and the change each makes.
fn dispatch(
    db: &Db,
    tenant: &str,
    settings: &Settings,
    kind: &str,
    data: Value,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Value>, Problem> {
    let to_loan = |change: Change, loan_id: String| -> Result<Vec<Value>, Problem> {
        Ok(
            match servicing::apply(db, tenant, settings, &loan_id, change, actor, at)? {
                Applied::New(refreshed) => refreshed.new_actions,
                Applied::Again => Vec::new(),
            },
        )
    };
    match kind {
        "loan.created" => {
            let new: NewLoan = from_value(&data, "")?;
            if loans::exists(db, tenant, new.id())? {
                return Ok(Vec::new());
            }
            Ok(loans::book(db, tenant, new, actor, at)?.new_actions)
        }
        "loan.written_off" => {
            let (loan_id, rest) = loan_scoped(data)?;
            to_loan(Change::WriteOff(from_value(&rest, "")?), loan_id)
        }
        "loan.restructured" | "loan.reaged" => {
            let (loan_id, rest) = loan_scoped(data)?;
            let re_age = kind == "loan.reaged";
            let change = RescheduleIn::from_body(rest, re_age, at.date_naive())?;
            to_loan(Change::Reschedule(change), loan_id)
        }
        "payment.posted" => {
            let (loan_id, rest) = loan_scoped(data)?;
            to_loan(Change::Payment(from_value(&rest, "")?, None), loan_id)
        }
        "payment.reversed" => {
            let (loan_id, rest) = loan_scoped(data)?;
            let payment: PaymentRef = from_value(&rest, "")?;
            to_loan(Change::Reversal(payment.payment_id), loan_id)
        }
        "contact.outcome" => {
            let (loan_id, rest) = loan_scoped(data)?;
            to_loan(Change::Outcome(from_value(&rest, "")?), loan_id)
        }
        "promise.made" => {
            let (loan_id, rest) = loan_scoped(data)?;
            to_loan(Change::Promise(from_value(&rest, "")?), loan_id)
        }
        "dispute.opened" | "dispute.closed" => {
            let borrower: BorrowerRef = from_value(&data, "")?;
            let open = kind == "dispute.opened";
            servicing::change_profile(
                db,
                tenant,
                settings,
                &borrower.borrower_id,
                ProfileChange::Flag(Flag::Dispute, open),
                actor,
                at,
            )
        }
        other => Err(Problem::internal(format!(
            "no handler for event type `{other}`"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentRef {
    payment_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BorrowerRef {
    borrower_id: String,
}

/// Splits `loan_id` off an event's data; the rest is the change as the HTTP route takes it.
fn loan_scoped(data: Value) -> Result<(String, Value), Problem> {
    let Value::Object(mut fields) = data else {
        return Err(Problem::invalid_field(String::new(), "is not an object"));
    };
    let loan_id = match fields.remove("loan_id") {
        Some(Value::String(id)) => id,
        _ => {
            return Err(Problem::invalid_field(
                "loan_id".into(),
                "is missing or not a string",
            ));
        }
    };
    Ok((loan_id, Value::Object(fields)))
}

/// Publishes `actions` on `postloan.actions`, when a Redis address is configured. The outbox
/// is the record; a failed publish is logged and the actions stay there to be pulled.
pub fn publish(actions: &[Value]) {
    if actions.is_empty() {
        return;
    }
    let address = spin_sdk::variables::get(REDIS_ADDRESS).unwrap_or_default();
    if address.is_empty() {
        return;
    }
    let sent = spin_sdk::redis::Connection::open(&address).and_then(|redis| {
        actions
            .iter()
            .try_for_each(|action| redis.publish(ACTIONS_CHANNEL, &action.to_string().into_bytes()))
    });
    if let Err(error) = sent {
        eprintln!(
            "postloan: could not publish {} action(s) on {ACTIONS_CHANNEL}: {error}",
            actions.len()
        );
    }
}
