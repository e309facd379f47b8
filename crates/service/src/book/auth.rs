//! Tenants' API keys: only their SHA-256 is stored; a request names its key in
//! `Authorization: Bearer`, and the key's role says what it may do in its tenant.

use sha2::{Digest, Sha256};
use spin_sdk::http::Request;

use super::db::{Db, get_text, text};
use crate::problem::Problem;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything in its tenant: loans, payments, settings, keys, jobs.
    Admin,
    /// Works the collection queues: contact outcomes, promises, disputes, actions.
    Collector,
    /// Reads loans, queues, actions, jobs and the portfolio, with personal data masked.
    Viewer,
    /// Reads like a viewer and verifies the audit log.
    Auditor,
}

impl Role {
    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "admin" => Self::Admin,
            "collector" => Self::Collector,
            "viewer" => Self::Viewer,
            "auditor" => Self::Auditor,
            _ => return None,
        })
    }

    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Collector => "collector",
            Self::Viewer => "viewer",
            Self::Auditor => "auditor",
        }
    }
}

/// Who is calling: a key of one tenant.
pub struct Caller {
    /// The tenant every query is scoped to.
    pub tenant: String,
    /// What the key may do.
    pub role: Role,
    /// The key's label, as the audit log names the actor.
    pub label: String,
}

impl Caller {
    /// Refuses the call unless the caller's role is one of `allowed`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), Problem> {
        if allowed.contains(&self.role) {
            return Ok(());
        }
        let names: Vec<&str> = allowed.iter().map(|r| r.name()).collect();
        Err(Problem::forbidden(self.role.name(), &names.join(" or ")))
    }

    /// Whether names, identity numbers and contact addresses are shown unmasked.
    pub fn sees_personal_data(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Collector)
    }

    /// The actor as the audit log records it.
    pub fn actor(&self) -> String {
        format!("key:{}({})", self.label, self.role.name())
    }
}

/// The caller of `request`, from its bearer key.
pub fn authenticate(db: &Db, request: &Request) -> Result<Caller, Problem> {
    let key = bearer(request)?;
    db.row(
        "SELECT tenant_id, role, label FROM api_keys WHERE key_hash = ?",
        &[text(hash(key))],
        |row| {
            (
                get_text(row, "tenant_id"),
                get_text(row, "role"),
                get_text(row, "label"),
            )
        },
    )?
    .and_then(|(tenant, role, label)| {
        Role::parse(&role).map(|role| Caller {
            tenant,
            role,
            label,
        })
    })
    .ok_or_else(|| Problem::unauthorized("the API key is not known"))
}

/// The key in `Authorization: Bearer KEY`.
pub fn bearer(request: &Request) -> Result<&str, Problem> {
    request
        .header("authorization")
        .and_then(|value| value.as_str())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .ok_or_else(|| Problem::unauthorized("send an API key as `Authorization: Bearer KEY`"))
}

/// The SHA-256 of a key, in hex: what is stored in its place.
pub fn hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// A new key: `pl_` and 32 random bytes in hex, from the host's secure random source.
pub fn new_key() -> Result<String, Problem> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Problem::internal(format!("no random source for a key: {e}")))?;
    Ok(format!("pl_{}", hex(&bytes)))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a key for `tenant` with `role`, stores its hash and returns the key, which is
/// shown this once.
pub fn create_key(
    db: &Db,
    tenant: &str,
    role: Role,
    label: &str,
    now: &str,
) -> Result<String, Problem> {
    let key = new_key()?;
    db.run(
        "INSERT INTO api_keys (key_hash, tenant_id, role, label, created_at) VALUES (?, ?, ?, ?, ?)",
        &[text(hash(&key)), text(tenant), text(role.name()), text(label), text(now)],
    )?;
    Ok(key)
}

/// Masks all but the last four characters of an identity number or contact address; a
/// value of four characters or fewer is masked whole.
pub fn mask(value: &str) -> String {
    let count = value.chars().count();
    let hidden = if count > 4 { count - 4 } else { count };
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i < hidden { '*' } else { c })
        .collect()
}

/// Masks a borrower's name whole: one `*` for each of its characters, so a text it was
/// written into still reads in its shape.
pub fn mask_name(name: &str) -> String {
    "*".repeat(name.chars().count())
}

/// `text` with every occurrence of the borrower's `name` masked ([`mask_name`]): the name as
/// stored, in upper and in lower case, and each of its words of two characters or more as
/// stored (a template may greet by one of them). An empty name masks nothing.
pub fn mask_name_in(text: &str, name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return text.to_owned();
    }
    let mut forms: Vec<String> = vec![name.to_owned(), name.to_uppercase(), name.to_lowercase()];
    forms.extend(
        name.split_whitespace()
            .filter(|w| w.chars().count() >= 2)
            .map(str::to_owned),
    );
    // The longest first, so a word never masks part of the whole name before it is found.
    forms.sort_by_key(|f| std::cmp::Reverse(f.chars().count()));
    forms.dedup();
    forms.iter().fold(text.to_owned(), |text, form| {
        text.replace(form, &mask_name(form))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_stored_as_its_sha256() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_name_is_masked_whole_wherever_it_stands_in_a_text() {
        assert_eq!(mask_name("张伟"), "**");
        assert_eq!(
            mask_name_in("张伟您好，您有500.00CNY今日到期", "张伟"),
            "**您好，您有500.00CNY今日到期"
        );
        // "Ann Lee" is 7 characters; "ANN LEE" and "Lee" alone are found too.
        assert_eq!(
            mask_name_in("Dear Ann Lee, ANN LEE. Thanks, Lee", "Ann Lee"),
            "Dear *******, *******. Thanks, ***"
        );
        assert_eq!(mask_name_in("Pay now", " "), "Pay now");
    }

    #[test]
    fn masking_keeps_the_last_four_characters() {
        assert_eq!(mask("110101199003071234"), "**************1234");
        assert_eq!(mask("+8613800138000"), "**********8000");
        assert_eq!(mask("abc"), "***");
    }
}
