//! The append-only audit log: each entry carries the SHA-256 of the one before it in its
//! tenant's chain, so changing or removing an entry breaks every hash after it.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::auth::hex;
use super::db::{Db, get_int, get_text, int, text};
use crate::problem::Problem;

/// The `prev_hash` of a tenant's first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry's content.
pub struct Entry<'a> {
    /// Who did it: a key, an event, the nightly run.
    pub actor: &'a str,
    /// What was done, such as `loan.created`.
    pub action: &'a str,
    /// What it was done to, such as `loan:L-1`.
    pub entity: &'a str,
    /// Details as JSON.
    pub detail: String,
}

/// Appends `entry` to `tenant`'s chain at instant `at`. Call it inside the transaction of
/// the change it records, so the two are stored together or not at all.
pub fn append(db: &Db, tenant: &str, at: &str, entry: Entry<'_>) -> Result<(), Problem> {
    let prev = db
        .row(
            "SELECT hash FROM audit_log WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1",
            &[text(tenant)],
            |row| get_text(row, "hash"),
        )?
        .unwrap_or_else(|| GENESIS.to_owned());
    let hash = entry_hash(&prev, tenant, at, &entry);
    db.run(
        "INSERT INTO audit_log (tenant_id, at, actor, action, entity, detail, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            text(tenant),
            text(at),
            text(entry.actor),
            text(entry.action),
            text(entry.entity),
            text(entry.detail),
            text(prev),
            text(hash),
        ],
    )?;
    Ok(())
}

/// The hash of an entry: SHA-256 over the previous hash and each field, each field
/// preceded by its length so that no two different entries hash the same bytes.
fn entry_hash(prev: &str, tenant: &str, at: &str, entry: &Entry<'_>) -> String {
    let mut hasher = Sha256::new();
    for field in [
        prev,
        tenant,
        at,
        entry.actor,
        entry.action,
        entry.entity,
        entry.detail.as_str(),
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex(&hasher.finalize())
}

/// What `GET /v1/audit/verify` answers.
#[derive(Serialize)]
pub struct Verification {
    /// Whether every entry's hashes hold.
    pub intact: bool,
    /// How many entries were checked.
    pub entries: u64,
    /// The first entry whose hashes do not hold, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<Break>,
}

/// Where and why the chain breaks.
#[derive(Serialize)]
pub struct Break {
    /// The entry's sequence number.
    pub seq: i64,
    /// What does not hold.
    pub reason: &'static str,
}

/// Entries read per query, so a long log is never all in memory.
const PAGE: i64 = 1000;

/// Recomputes `tenant`'s chain from the first entry.
pub fn verify(db: &Db, tenant: &str) -> Result<Verification, Problem> {
    let mut prev = GENESIS.to_owned();
    let mut after = 0;
    let mut entries = 0;
    loop {
        let page = db.rows(
            "SELECT seq, at, actor, action, entity, detail, prev_hash, hash FROM audit_log
             WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            &[text(tenant), int(after), int(PAGE)],
            |row| {
                (
                    get_int(row, "seq"),
                    [
                        "at",
                        "actor",
                        "action",
                        "entity",
                        "detail",
                        "prev_hash",
                        "hash",
                    ]
                    .map(|column| get_text(row, column)),
                )
            },
        )?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = *last;
        for (seq, [at, actor, action, entity, detail, stored_prev, stored_hash]) in page {
            entries += 1;
            let reason = if stored_prev != prev {
                Some("its prev_hash is not the hash of the entry before it")
            } else {
                let entry = Entry {
                    actor: &actor,
                    action: &action,
                    entity: &entity,
                    detail,
                };
                (entry_hash(&prev, tenant, &at, &entry) != stored_hash)
                    .then_some("its content does not match its hash")
            };
            if let Some(reason) = reason {
                return Ok(Verification {
                    intact: false,
                    entries,
                    broken_at: Some(Break { seq, reason }),
                });
            }
            prev = stored_hash;
        }
    }
    Ok(Verification {
        intact: true,
        entries,
        broken_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(detail: &str) -> Entry<'_> {
        Entry {
            actor: "key:ops(admin)",
            action: "loan.created",
            entity: "loan:L-1",
            detail: detail.to_owned(),
        }
    }

    #[test]
    fn an_entry_hash_is_sha256_of_the_length_prefixed_fields() {
        // Worked independently: the bytes hashed are each field preceded by its length as
        // a big-endian u64.
        let mut bytes = Vec::new();
        for field in [
            GENESIS,
            "t1",
            "2026-11-23T00:00:00Z",
            "key:ops(admin)",
            "loan.created",
            "loan:L-1",
            "{}",
        ] {
            bytes.extend_from_slice(&(field.len() as u64).to_be_bytes());
            bytes.extend_from_slice(field.as_bytes());
        }
        let expected = hex(&Sha256::digest(&bytes));
        assert_eq!(
            entry_hash(GENESIS, "t1", "2026-11-23T00:00:00Z", &entry("{}")),
            expected
        );
    }

    #[test]
    fn moving_bytes_between_fields_changes_the_hash() {
        let a = Entry {
            actor: "ab",
            action: "c",
            entity: "",
            detail: String::new(),
        };
        let b = Entry {
            actor: "a",
            action: "bc",
            entity: "",
            detail: String::new(),
        };
        assert_ne!(
            entry_hash(GENESIS, "t", "x", &a),
            entry_hash(GENESIS, "t", "x", &b)
        );
    }
}
