//! Tenants, their settings and their keys. A tenant is created with the platform token (the
//! `platform_token` Spin variable) and gets its first admin key; its admins make the rest.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Request, Response};

use super::audit::{self, Entry};
use super::auth::{self, Caller, Role};
use super::db::{Db, get_text, text};
use crate::contact_plan::{ContactPolicyJson, check_contact_policy};
use crate::input::PolicyJson;
use crate::postloan::overdue::overdue;
use crate::problem::Problem;
use crate::request::{from_value, parse};

/// The Spin variable holding the token that may create tenants; empty disables it.
const PLATFORM_TOKEN: &str = "platform_token";

/// A tenant's settings: its overdue policy and its contact settings, in the JSON of
/// `/v1/assess`'s `policy` and `/v1/contact-plan`'s `contact`.
#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub policy: Value,
    #[serde(default)]
    pub contact: Value,
    /// The close's automatic charge-off; none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_off: Option<ChargeOff>,
    /// The recovery strategy for loans written off; off (no contact after a write-off) by
    /// default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
    /// How often a loan may be re-aged; FFIEC's retail policy when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub re_age_limits: Option<Vec<ReAgeLimit>>,
}

/// A loan is re-aged at most `at_most` times in any `months` months, the new one counted.
#[derive(Deserialize, Serialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct ReAgeLimit {
    /// Re-ages allowed in the window: 1 or more.
    pub at_most: u32,
    /// The window's length in months, up to and including the new re-age's date: 1 to 1200.
    pub months: u32,
}

/// FFIEC's Uniform Retail Credit Classification and Account Management Policy: an open-end
/// account should not be re-aged more than once within any twelve-month period, nor more
/// than twice within any five-year period.
const FFIEC_RE_AGE_LIMITS: [ReAgeLimit; 2] = [
    ReAgeLimit {
        at_most: 1,
        months: 12,
    },
    ReAgeLimit {
        at_most: 2,
        months: 60,
    },
];

/// The close writes off a loan once it is this many days in arrears (FFIEC's retail policy:
/// 120 days past due for closed-end loans, 180 for open-end).
#[derive(Deserialize, Serialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct ChargeOff {
    /// Days in arrears at which the close writes a loan off: 1 or more.
    pub days_in_arrears: u32,
}

/// The recovery strategy: the close contacts a written-off loan's borrower about what is
/// still owed every `every_days` days after the write-off (letters and calls, through the
/// contact rules), until nothing is.
#[derive(Deserialize, Serialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    /// Days between recovery contacts: 1 to 366.
    pub every_days: u32,
}

impl Settings {
    /// Checks both parts as the pipeline will read them; a field at fault is named under
    /// `settings.`.
    fn check(&self) -> Result<(), Problem> {
        let prefixed = |problem: Problem, part: &str| problem.under(&format!("settings.{part}"));
        let policy: PolicyJson = from_value_or_default(&self.policy, "settings.policy")?;
        let policy = policy.into_wit().map_err(|p| prefixed(p, "policy"))?;
        // The overdue component's fields already start with `policy.`.
        overdue::check_policy(&policy).map_err(|e| Problem::from(e).under("settings"))?;
        if self.charge_off.is_some_and(|c| c.days_in_arrears == 0) {
            return Err(Problem::invalid_field(
                "settings.charge_off.days_in_arrears".into(),
                "must be 1 or more",
            ));
        }
        if self
            .recovery
            .is_some_and(|r| !(1..=366).contains(&r.every_days))
        {
            return Err(Problem::invalid_field(
                "settings.recovery.every_days".into(),
                "must be 1 to 366",
            ));
        }
        for (i, limit) in self.re_age_limits.iter().flatten().enumerate() {
            let at = |name: &str| format!("settings.re_age_limits[{i}].{name}");
            if limit.at_most == 0 {
                return Err(Problem::invalid_field(at("at_most"), "must be 1 or more"));
            }
            if !(1..=1200).contains(&limit.months) {
                return Err(Problem::invalid_field(at("months"), "must be 1 to 1200"));
            }
        }
        let contact: ContactPolicyJson = from_value_or_default(&self.contact, "settings.contact")?;
        check_contact_policy(contact).map_err(|p| prefixed(p, "contact"))
    }

    /// The re-age limits: the tenant's, or FFIEC's when it set none.
    pub fn re_age_limits(&self) -> Vec<ReAgeLimit> {
        self.re_age_limits
            .clone()
            .unwrap_or_else(|| FFIEC_RE_AGE_LIMITS.to_vec())
    }

    /// The policy, as the pipeline reads it.
    pub fn policy(&self) -> Result<PolicyJson, Problem> {
        from_value_or_default(&self.policy, "settings.policy")
    }
}

/// `value` as `T`, or `T`'s default when it is `null`.
fn from_value_or_default<T: serde::de::DeserializeOwned + Default>(
    value: &Value,
    field: &str,
) -> Result<T, Problem> {
    if value.is_null() {
        return Ok(T::default());
    }
    from_value(value, field)
}

/// The settings of `tenant`.
pub fn settings(db: &Db, tenant: &str) -> Result<Settings, Problem> {
    let stored = db
        .row(
            "SELECT settings FROM tenants WHERE id = ?",
            &[text(tenant)],
            |row| get_text(row, "settings"),
        )?
        .ok_or_else(|| Problem::no_such("tenant", tenant))?;
    serde_json::from_str(&stored)
        .map_err(|e| Problem::internal(format!("the stored settings of `{tenant}`: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    id: String,
    name: String,
    #[serde(default)]
    settings: Settings,
}

/// `POST /v1/tenants`: creates a tenant and its first admin key, with the platform token.
pub fn create(db: &Db, request: &Request) -> Result<Response, Problem> {
    check_platform_token(request)?;
    let new: NewTenant = parse(request.body())?;
    check_id("id", &new.id)?;
    new.settings.check()?;
    let at = super::instant(super::now());
    let key = db.transaction(|db| {
        if db
            .row(
                "SELECT 1 AS one FROM tenants WHERE id = ?",
                &[text(&new.id)],
                |_| (),
            )?
            .is_some()
        {
            return Err(Problem::conflict(
                "id".into(),
                "a tenant with this id exists",
            ));
        }
        db.run(
            "INSERT INTO tenants (id, name, settings, created_at) VALUES (?, ?, ?, ?)",
            &[
                text(&new.id),
                text(&new.name),
                text(settings_json(&new.settings)),
                text(&at),
            ],
        )?;
        let key = auth::create_key(db, &new.id, Role::Admin, "first-admin", &at)?;
        audit::append(
            db,
            &new.id,
            &at,
            Entry {
                actor: "platform",
                action: "tenant.created",
                entity: &format!("tenant:{}", new.id),
                detail: json!({ "name": new.name, "settings": settings_value(&new.settings) })
                    .to_string(),
            },
        )?;
        Ok(key)
    })?;
    Ok(crate::json(
        201,
        &json!({ "tenant": new.id, "name": new.name, "admin_key": key }),
    ))
}

/// The platform token must match the `platform_token` variable, which must be set.
fn check_platform_token(request: &Request) -> Result<(), Problem> {
    let expected = spin_sdk::variables::get(PLATFORM_TOKEN).unwrap_or_default();
    if expected.is_empty() {
        return Err(Problem::unauthorized(
            "creating tenants is disabled: the `platform_token` variable is not set",
        ));
    }
    let given = auth::bearer(request)?;
    // Comparing digests keeps the time taken independent of where the strings differ.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
        return Err(Problem::unauthorized("the platform token is not correct"));
    }
    Ok(())
}

/// `GET /v1/tenant`: the caller's tenant and settings.
pub fn show(db: &Db, caller: &Caller) -> Result<Response, Problem> {
    let (name, settings) = db
        .row(
            "SELECT name, settings FROM tenants WHERE id = ?",
            &[text(&caller.tenant)],
            |row| (get_text(row, "name"), get_text(row, "settings")),
        )?
        .ok_or_else(|| Problem::no_such("tenant", &caller.tenant))?;
    let settings: Value = serde_json::from_str(&settings).unwrap_or(Value::Null);
    Ok(crate::json(
        200,
        &json!({ "tenant": caller.tenant, "name": name, "role": caller.role.name(), "settings": settings }),
    ))
}

/// `PUT /v1/tenant/settings`: replaces the tenant's settings.
pub fn update_settings(db: &Db, caller: &Caller, request: &Request) -> Result<Response, Problem> {
    caller.require(&[Role::Admin])?;
    let settings: Settings = parse(request.body())?;
    settings.check()?;
    let at = super::instant(super::now());
    db.transaction(|db| {
        db.run(
            "UPDATE tenants SET settings = ? WHERE id = ?",
            &[text(settings_json(&settings)), text(&caller.tenant)],
        )?;
        audit::append(
            db,
            &caller.tenant,
            &at,
            Entry {
                actor: &caller.actor(),
                action: "tenant.settings_changed",
                entity: &format!("tenant:{}", caller.tenant),
                detail: settings_json(&settings),
            },
        )
    })?;
    Ok(crate::json(200, &settings_value(&settings)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    role: String,
    label: String,
}

/// `POST /v1/api-keys`: a new key for the caller's tenant, shown this once.
pub fn create_key(db: &Db, caller: &Caller, request: &Request) -> Result<Response, Problem> {
    caller.require(&[Role::Admin])?;
    let new: NewKey = parse(request.body())?;
    let role = Role::parse(&new.role).ok_or_else(|| {
        Problem::invalid_field("role".into(), "is not admin, collector, viewer or auditor")
    })?;
    check_id("label", &new.label)?;
    let at = super::instant(super::now());
    let key = db.transaction(|db| {
        let key = auth::create_key(db, &caller.tenant, role, &new.label, &at)?;
        audit::append(
            db,
            &caller.tenant,
            &at,
            Entry {
                actor: &caller.actor(),
                action: "api_key.created",
                entity: &format!("api_key:{}", new.label),
                detail: json!({ "role": role.name() }).to_string(),
            },
        )?;
        Ok(key)
    })?;
    Ok(crate::json(
        201,
        &json!({ "key": key, "role": role.name(), "label": new.label }),
    ))
}

fn settings_json(settings: &Settings) -> String {
    settings_value(settings).to_string()
}

/// The settings as stored, audited and answered.
fn settings_value(settings: &Settings) -> Value {
    serde_json::to_value(settings).unwrap_or_default()
}

/// Identifiers are 1 to 64 characters of letters, digits, `-`, `_` and `.`, so they are
/// safe in paths, keys and logs.
pub fn check_id(field: &str, id: &str) -> Result<(), Problem> {
    let ok = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Problem::invalid_field(
            field.to_owned(),
            "must be 1 to 64 letters, digits, `-`, `_` or `.`",
        ))
    }
}
