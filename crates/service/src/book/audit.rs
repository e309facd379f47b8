//! The append-only audit log: each entry carries the SHA-256 of the one before it in its
//! tenant's chain, so changing or removing an entry breaks every hash after it.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::auth::hex;
use super::db::{Db, Param, get_int, get_text, int, text};
use super::loans::query_value;
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
    append_all(db, tenant, [(at, entry)])
}

/// Rows one `INSERT` carries at most: 8 parameters each, well under SQLite's 32,766.
const ROWS_PER_STATEMENT: usize = 200;

/// Appends `entries` (each with its instant) to `tenant`'s chain in order: the chain's head
/// is read once, the hashes chained in memory and the rows written several a statement, so
/// a page of the close records its decisions for about the cost of one entry. Call it inside
/// the transaction of the changes they record.
pub fn append_all<'a>(
    db: &Db,
    tenant: &str,
    entries: impl IntoIterator<Item = (&'a str, Entry<'a>)>,
) -> Result<(), Problem> {
    let mut entries = entries.into_iter().peekable();
    if entries.peek().is_none() {
        return Ok(());
    }
    let mut prev = db
        .row(
            "SELECT hash FROM audit_log WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1",
            &[text(tenant)],
            |row| get_text(row, "hash"),
        )?
        .unwrap_or_else(|| GENESIS.to_owned());
    let mut rows: Vec<[Param; 8]> = Vec::new();
    for (at, entry) in entries {
        let hash = entry_hash(&prev, tenant, at, &entry);
        rows.push([
            text(tenant),
            text(at),
            text(entry.actor),
            text(entry.action),
            text(entry.entity),
            text(entry.detail),
            text(std::mem::replace(&mut prev, hash.clone())),
            text(hash),
        ]);
    }
    // SQLite numbers the rows of one `INSERT … VALUES` in the order they are listed.
    while !rows.is_empty() {
        let chunk: Vec<[Param; 8]> = rows.drain(..rows.len().min(ROWS_PER_STATEMENT)).collect();
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let params: Vec<Param> = chunk.into_iter().flatten().collect();
        db.run(
            &format!(
                "INSERT INTO audit_log (tenant_id, at, actor, action, entity, detail, prev_hash, hash)
                 VALUES {values}"
            ),
            &params,
        )?;
    }
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
    /// Whether every entry's hashes hold and, when an anchor was given, the chain holds it.
    pub intact: bool,
    /// How many entries were checked.
    pub entries: u64,
    /// The newest entry checked: what a lender stores to anchor the chain's end.
    pub head: Option<Head>,
    /// The first entry whose hashes do not hold, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<Break>,
    /// The anchor given, and whether the chain still holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<AnchorCheck>,
}

/// Where and why the chain breaks.
#[derive(Serialize)]
pub struct Break {
    /// The entry's sequence number.
    pub seq: i64,
    /// What does not hold.
    pub reason: &'static str,
}

/// An entry of the chain as a lender anchors it.
#[derive(Serialize, Clone)]
pub struct Head {
    /// Its sequence number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// Its instant.
    pub at: String,
}

/// A head the lender stored before (`?seq=N&hash=H`), to be found unchanged in the chain.
pub struct Anchor {
    seq: i64,
    hash: String,
}

impl Anchor {
    /// The anchor in a query string: `seq` and `hash` together, or neither.
    pub fn from_query(query: &str) -> Result<Option<Self>, Problem> {
        match (query_value(query, "seq"), query_value(query, "hash")) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(Problem::invalid_field(
                "hash".into(),
                "is required with seq: the hash of the entry anchored",
            )),
            (None, Some(_)) => Err(Problem::invalid_field(
                "seq".into(),
                "is required with hash: the sequence number of the entry anchored",
            )),
            (Some(seq), Some(hash)) => {
                let seq = seq.parse::<i64>().ok().filter(|s| *s >= 1).ok_or_else(|| {
                    Problem::invalid_field(
                        "seq".into(),
                        "is not an entry's sequence number (a whole number from 1)",
                    )
                })?;
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Problem::invalid_field(
                        "hash".into(),
                        "is not an entry's hash (SHA-256 as 64 hex digits)",
                    ));
                }
                Ok(Some(Self {
                    seq,
                    hash: hash.to_ascii_lowercase(),
                }))
            }
        }
    }
}

/// Whether the chain holds an anchor.
#[derive(Serialize)]
pub struct AnchorCheck {
    /// The anchored entry's sequence number.
    pub seq: i64,
    /// Its hash, as anchored.
    pub hash: String,
    /// Whether the chain holds the entry with this hash, and every entry before it holds.
    pub holds: bool,
    /// `holds`; `missing` (no such entry: the chain was cut, or the entry removed);
    /// `changed` (the entry's hash is another); `unverified` (the chain breaks before it).
    pub status: &'static str,
    /// How many entries follow it, when it holds.
    pub entries_after: Option<u64>,
    /// What was found, in words.
    pub detail: String,
}

/// Entries read per query, so a long log is never all in memory.
const PAGE: i64 = 1000;

/// What was seen of the anchor while the chain was checked.
#[derive(Clone, Copy, PartialEq)]
enum Seen {
    Not,
    Matching,
    Other,
}

/// Recomputes `tenant`'s chain from the first entry and, given an `anchor`, checks that the
/// chain holds it.
pub fn verify(db: &Db, tenant: &str, anchor: Option<&Anchor>) -> Result<Verification, Problem> {
    let mut prev = GENESIS.to_owned();
    let mut after = 0;
    let mut entries = 0;
    let mut head: Option<Head> = None;
    let mut seen = Seen::Not;
    let mut following = 0;
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
                let broken = Break { seq, reason };
                let anchor = anchor
                    .map(|a| {
                        // The anchored entry and all before it held; what follows is counted
                        // as stored.
                        let entries_after = if seen == Seen::Matching {
                            Some(stored_after(db, tenant, a.seq)?)
                        } else {
                            None
                        };
                        Ok::<_, Problem>(check(
                            a,
                            seen,
                            entries_after,
                            head.as_ref(),
                            Some(&broken),
                        ))
                    })
                    .transpose()?;
                return Ok(Verification {
                    intact: false,
                    entries,
                    head,
                    broken_at: Some(broken),
                    anchor,
                });
            }
            match anchor {
                Some(a) if seq == a.seq => {
                    seen = if stored_hash == a.hash {
                        Seen::Matching
                    } else {
                        Seen::Other
                    };
                }
                Some(a) if seq > a.seq => following += 1,
                _ => {}
            }
            head = Some(Head {
                seq,
                hash: stored_hash.clone(),
                at,
            });
            prev = stored_hash;
        }
    }
    let anchor = anchor.map(|a| check(a, seen, Some(following), head.as_ref(), None));
    Ok(Verification {
        intact: anchor.as_ref().is_none_or(|a| a.holds),
        entries,
        head,
        broken_at: None,
        anchor,
    })
}

/// How many of `tenant`'s entries are stored after entry `seq`.
fn stored_after(db: &Db, tenant: &str, seq: i64) -> Result<u64, Problem> {
    Ok(db
        .row(
            "SELECT COUNT(*) AS n FROM audit_log WHERE tenant_id = ? AND seq > ?",
            &[text(tenant), int(seq)],
            |row| get_int(row, "n"),
        )?
        .unwrap_or(0) as u64)
}

/// The anchor's verdict: what was `seen` of its entry in the chain checked up to `head`, and
/// up to `broken` when the chain breaks.
fn check(
    anchor: &Anchor,
    seen: Seen,
    entries_after: Option<u64>,
    head: Option<&Head>,
    broken: Option<&Break>,
) -> AnchorCheck {
    let seq = anchor.seq;
    let (status, detail) = match (seen, broken) {
        (Seen::Matching, _) => (
            "holds",
            format!("entry {seq} is in the chain with the hash anchored"),
        ),
        (Seen::Other, _) => (
            "changed",
            format!(
                "entry {seq} is in the chain with another hash: it, or an entry before it, was changed"
            ),
        ),
        (Seen::Not, Some(b)) if b.seq <= seq => (
            "unverified",
            format!("the chain breaks at entry {}, before entry {seq}", b.seq),
        ),
        (Seen::Not, _) => (
            "missing",
            match head {
                Some(h) if h.seq < seq => format!(
                    "the chain ends at entry {} before entry {seq}: entries after it were removed",
                    h.seq
                ),
                _ => format!(
                    "the chain has no entry {seq}: it was removed, or the anchor is not this tenant's"
                ),
            },
        ),
    };
    let holds = seen == Seen::Matching;
    AnchorCheck {
        seq,
        hash: anchor.hash.clone(),
        holds,
        status,
        entries_after: if holds { entries_after } else { None },
        detail,
    }
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
    fn an_anchor_is_a_sequence_number_and_a_hash_together() {
        let hash = "AB".repeat(32);
        let anchor = Anchor::from_query(&format!("seq=7&hash={hash}"))
            .unwrap()
            .unwrap();
        assert_eq!((anchor.seq, anchor.hash), (7, "ab".repeat(32)));
        assert!(Anchor::from_query("limit=3").unwrap().is_none());
        let field = |query: &str| {
            Anchor::from_query(query)
                .err()
                .map(|p| p.field().to_owned())
        };
        assert_eq!(field("seq=7").as_deref(), Some("hash"));
        assert_eq!(field(&format!("hash={hash}")).as_deref(), Some("seq"));
        assert_eq!(field(&format!("seq=0&hash={hash}")).as_deref(), Some("seq"));
        assert_eq!(field(&format!("seq=x&hash={hash}")).as_deref(), Some("seq"));
        assert_eq!(field("seq=7&hash=abc").as_deref(), Some("hash"));
        assert_eq!(
            field(&format!("seq=7&hash={}", "g".repeat(64))).as_deref(),
            Some("hash")
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
