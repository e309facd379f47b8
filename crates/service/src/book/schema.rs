//! The loan book's schema, created and changed only by numbered migrations applied in order
//! at first use. A migration is never edited once released: a change is a new one.

use super::db::{Db, get_int, int};
use crate::problem::Problem;

/// Each migration is its statements; its version is its position, from 1.
const MIGRATIONS: &[&[&str]] = &[
    &[
        "CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        settings TEXT NOT NULL,
        created_at TEXT NOT NULL)",
        "CREATE TABLE api_keys (
        key_hash TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        role TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL)",
        "CREATE TABLE borrowers (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        id_number TEXT,
        profile TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id))",
        "CREATE TABLE loans (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        borrower_id TEXT NOT NULL,
        currency TEXT NOT NULL,
        principal TEXT NOT NULL,
        disbursed_on TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active',
        dpd INTEGER NOT NULL DEFAULT 0,
        bucket TEXT NOT NULL DEFAULT '',
        classification TEXT NOT NULL DEFAULT '',
        stage TEXT NOT NULL DEFAULT 'current',
        queue TEXT,
        tier TEXT,
        score INTEGER,
        outstanding_principal TEXT NOT NULL DEFAULT '0',
        overdue_amount TEXT NOT NULL DEFAULT '0',
        assessed_on TEXT,
        PRIMARY KEY (tenant_id, id))",
        "CREATE INDEX loans_by_bucket ON loans (tenant_id, bucket, id)",
        "CREATE INDEX loans_by_queue ON loans (tenant_id, queue, dpd)",
        "CREATE TABLE installments (
        tenant_id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        due_date TEXT NOT NULL,
        principal TEXT NOT NULL,
        interest TEXT NOT NULL,
        fees TEXT NOT NULL,
        PRIMARY KEY (tenant_id, loan_id, seq))",
        "CREATE TABLE payments (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        value_date TEXT NOT NULL,
        amount TEXT NOT NULL,
        idempotency_key TEXT,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id))",
        "CREATE INDEX payments_by_loan ON payments (tenant_id, loan_id)",
        "CREATE UNIQUE INDEX payments_by_idempotency_key ON payments (tenant_id, idempotency_key)",
        "CREATE TABLE reversals (
        tenant_id TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, payment_id))",
        "CREATE TABLE pauses (
        tenant_id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        from_date TEXT NOT NULL,
        to_date TEXT NOT NULL,
        reason TEXT NOT NULL)",
        "CREATE TABLE extensions (
        tenant_id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        periods INTEGER NOT NULL,
        from_seq INTEGER NOT NULL,
        recorded_at TEXT NOT NULL)",
        "CREATE TABLE promises (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        amount TEXT NOT NULL,
        due_date TEXT NOT NULL,
        made_on TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        PRIMARY KEY (tenant_id, id))",
        "CREATE TABLE contact_attempts (
        tenant_id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        at TEXT NOT NULL,
        outcome TEXT NOT NULL)",
        "CREATE INDEX contact_attempts_by_loan ON contact_attempts (tenant_id, loan_id)",
        "CREATE TABLE actions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        business_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        channel TEXT,
        queue TEXT,
        rule TEXT NOT NULL,
        detail TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        created_at TEXT NOT NULL,
        acknowledged_at TEXT,
        UNIQUE (tenant_id, dedupe_key))",
        "CREATE TABLE processed_events (
        tenant_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type TEXT NOT NULL,
        applied_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, event_id))",
        "CREATE TABLE job_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        business_date TEXT NOT NULL,
        status TEXT NOT NULL,
        cursor TEXT NOT NULL DEFAULT '',
        processed INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        actions INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        UNIQUE (tenant_id, business_date))",
        "CREATE TABLE loan_snapshots (
        tenant_id TEXT NOT NULL,
        business_date TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        dpd INTEGER NOT NULL,
        bucket TEXT NOT NULL,
        classification TEXT NOT NULL,
        stage TEXT NOT NULL,
        outstanding_principal TEXT NOT NULL,
        overdue_amount TEXT NOT NULL,
        PRIMARY KEY (tenant_id, business_date, loan_id))",
        "CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        entity TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL)",
        "CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq)",
    ],
    // The pipeline reads these per loan; without them each read scans the tenant's whole table
    // and a close grows with the square of the book.
    &[
        "CREATE INDEX loans_by_borrower ON loans (tenant_id, borrower_id)",
        "CREATE INDEX promises_by_loan ON promises (tenant_id, loan_id)",
        "CREATE INDEX pauses_by_loan ON pauses (tenant_id, loan_id)",
        "CREATE INDEX reversals_by_loan ON reversals (tenant_id, loan_id)",
    ],
    // The loans a close could not process, with the reason, so that the lender sees them.
    &["CREATE TABLE job_failures (
        job_id INTEGER NOT NULL,
        loan_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (job_id, loan_id))"],
    // A run's loans split into claims, each worked by one worker at a time under a lease
    // (claims.rs), so that several invocations close one date at once.
    &["CREATE TABLE job_claims (
        job_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        after_id TEXT NOT NULL,
        last_id TEXT,
        cursor TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        holder TEXT,
        lease_until TEXT,
        PRIMARY KEY (job_id, seq))"],
    // The contacts already planned for a page's loans count against the contact rules
    // (store::planned), read by loan.
    &["CREATE INDEX actions_by_loan ON actions (tenant_id, loan_id, created_at)"],
    // A loan's classification on its own beside the one it stands at: with the policy's
    // contagion the two differ, the borrower's worst raising the milder (store::contagion).
    &[
        "ALTER TABLE loans ADD COLUMN own_classification TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE loans ADD COLUMN own_rank INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE loan_snapshots ADD COLUMN own_classification TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE loan_snapshots ADD COLUMN own_rank INTEGER NOT NULL DEFAULT 0",
    ],
    // Write-offs (charge-offs): the loan leaves the active book on `written_off_on`, what was
    // charged off is kept by component, and payments after it are recoveries, kept apart
    // from the schedule's (servicing::write_off).
    &[
        "ALTER TABLE loans ADD COLUMN written_off_on TEXT",
        "CREATE TABLE write_offs (
        tenant_id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        written_off_on TEXT NOT NULL,
        reason TEXT NOT NULL,
        actor TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        principal TEXT NOT NULL,
        interest TEXT NOT NULL,
        fees TEXT NOT NULL,
        penalty TEXT NOT NULL,
        total TEXT NOT NULL,
        PRIMARY KEY (tenant_id, loan_id))",
        "ALTER TABLE payments ADD COLUMN recovery INTEGER NOT NULL DEFAULT 0",
    ],
    // Restructures and re-ages: each replaces what is left of the loan's schedule at the end
    // of `on_date`, its terms kept as the JSON of /v1/assess's `loan.reschedules[i]`, with
    // who approved it and why (servicing::reschedule).
    &["CREATE TABLE reschedules (
        tenant_id TEXT NOT NULL,
        loan_id TEXT NOT NULL,
        on_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        terms TEXT NOT NULL,
        reason TEXT NOT NULL,
        approved_by TEXT NOT NULL,
        actor TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, loan_id, on_date))"],
    // Whether a close runs over the written-off loans too (the tenant's recovery strategy
    // was on when it started: jobs::CLOSING_ON).
    &["ALTER TABLE job_runs ADD COLUMN recovery INTEGER NOT NULL DEFAULT 0"],
    // A completed run's headline (portfolio::keep_headline), so that the trend over a year
    // of dates reads a row per date.
    &["ALTER TABLE job_runs ADD COLUMN headline TEXT"],
];

/// Applies, in one transaction each, the migrations the database has not seen.
pub fn migrate(db: &Db) -> Result<(), Problem> {
    // Every connection asks; only the first one ever finds no table, and creates it as a
    // writer so that two replicas starting at once do not both create it.
    let applied = match db.row(
        "SELECT MAX(version) AS v FROM schema_migrations",
        &[],
        |r| get_int(r, "v"),
    ) {
        Ok(applied) => applied.unwrap_or(0),
        Err(_) => {
            db.transaction(|db| {
                db.run(
                    &db.dialect().schema(
                        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)",
                    ),
                    &[],
                )
            })?;
            0
        }
    };
    for (index, statements) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= applied {
            continue;
        }
        db.transaction(|db| {
            // Another instance may have applied it since we looked.
            if db
                .row(
                    "SELECT 1 AS one FROM schema_migrations WHERE version = ?",
                    &[int(version)],
                    |_| (),
                )?
                .is_some()
            {
                return Ok(());
            }
            for statement in *statements {
                db.run(&db.dialect().schema(statement), &[])?;
            }
            db.run(
                "INSERT INTO schema_migrations (version) VALUES (?)",
                &[int(version)],
            )?;
            Ok(())
        })?;
    }
    Ok(())
}
