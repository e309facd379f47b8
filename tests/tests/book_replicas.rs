//! Two replicas of the app (two postloan-host processes on the same manifest) share one book
//! and one redis-server (issue #15): loans booked through either are one book; a payment
//! event published once reaches both subscribers and is applied once; both close the same
//! date at once, one is killed with SIGKILL half-way, and the survivor finishes the run with
//! every loan closed once and the outbox an uninterrupted close leaves. scripts/test runs it
//! on SQLite (one file, two processes) and on PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use postloan_tests::{Book, RedisServer, copy_book, eventually, spread_loan};
use serde_json::json;

const LOANS: usize = 2_000;
const PAYMENTS: usize = 200;
const DATE: &str = "2026-03-01";
const TENANT: &str = "replicas";

/// A payment of 100.00 on loan `n`, valued 2026-02-01, as one event.
fn payment_event(n: usize) -> String {
    json!({
        "id": format!("pay-{n}"),
        "tenant": TENANT,
        "type": "payment.posted",
        "occurred_at": "2026-02-01T02:00:00Z",
        "data": { "loan_id": format!("L{n:05}"), "id": format!("P{n:05}"),
                  "value_date": "2026-02-01", "amount": "100.00" }
    })
    .to_string()
}

/// The single number `sql` answers on `book`'s database.
fn count(book: &Book, sql: &str) -> i64 {
    let rows = book.database.query(sql, &[]);
    rows.first()
        .and_then(|row| row.first().cloned().flatten())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("`{sql}` answers a number"))
}

#[test]
fn two_replicas_share_the_book_apply_each_event_once_and_finish_a_close_when_one_dies() {
    let redis = RedisServer::start();
    let a = Book::start("book-replicas", &redis);
    let b = Arc::new(Book::serve(&a.dir.join("spin.toml"), &a.dir));
    let a = Arc::new(a);
    let key = a.create_tenant(TENANT, json!({}));

    // Booked through both at once, four callers each.
    let callers: Vec<_> = (0..8)
        .map(|caller| {
            let (replica, key) = (if caller % 2 == 0 { &a } else { &b }.clone(), key.clone());
            std::thread::spawn(move || {
                for n in (caller..LOANS).step_by(8) {
                    let (status, body) =
                        replica.call("POST", "/v1/loans", &key, Some(spread_loan(n)));
                    assert_eq!(status, 201, "loan {n}: {body}");
                }
            })
        })
        .collect();
    for caller in callers {
        caller.join().expect("a caller");
    }
    // Either replica reads what the other booked.
    let (status, listed) = b.call("GET", "/v1/loans/L00000", &key, None);
    assert_eq!(status, 200, "{listed}");
    assert_eq!(count(&a, "SELECT COUNT(*) FROM loans"), LOANS as i64);

    // Each payment event is published once, and both replicas are subscribed.
    let mut redis_connection = redis.connection();
    eventually(Duration::from_secs(15), "both replicas subscribed", || {
        let (_, subscribers): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("postloan.events")
            .query(&mut redis_connection)
            .expect("PUBSUB works");
        (subscribers == 2).then_some(())
    });
    for n in 0..PAYMENTS {
        let receivers: i64 = redis::cmd("PUBLISH")
            .arg("postloan.events")
            .arg(payment_event(n))
            .query(&mut redis_connection)
            .expect("PUBLISH works");
        assert_eq!(receivers, 2, "event {n} reached both replicas");
    }
    let applied = eventually(
        Duration::from_secs(60),
        "every payment event applied",
        || {
            let applied = count(&a, "SELECT COUNT(*) FROM processed_events");
            (applied >= PAYMENTS as i64).then_some(applied)
        },
    );
    // Settled: nothing more arrives after a moment.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(applied, PAYMENTS as i64);
    assert_eq!(
        count(&a, "SELECT COUNT(*) FROM processed_events"),
        PAYMENTS as i64
    );
    assert_eq!(count(&a, "SELECT COUNT(*) FROM payments"), PAYMENTS as i64);
    let (_, first) = a.call("GET", "/v1/loans/L00000", &key, None);
    assert_eq!(
        first["loan"]["payments"].as_array().map(Vec::len),
        Some(1),
        "{first}"
    );

    // The reference: the same book closed by one host, uninterrupted.
    let dir = a.dir.clone();
    let database = a.database.clone();
    drop((a, b));
    let reference_dir = dir.with_file_name(format!(
        "{}-reference",
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("book")
    ));
    copy_book(&dir, &database, &reference_dir);
    let reference = Book::serve(&reference_dir.join("spin.toml"), &reference_dir);
    reference.close(&key, DATE);
    let expected = reference.outbox(&key);
    assert!(!expected.is_empty(), "the close plans actions");
    drop(reference);

    // Both replicas close the date at once; the first is killed once a page is stored.
    let mut a = Book::serve(&dir.join("spin.toml"), &dir);
    let b = Arc::new(Book::serve(&dir.join("spin.toml"), &dir));
    let url = a
        .host
        .url(&format!("/v1/jobs/close-of-business?date={DATE}"));
    let bearer = key.clone();
    let doomed = std::thread::spawn(move || {
        // The host dies under this request; its answer does not matter.
        let client = reqwest::blocking::Client::new();
        while let Ok(response) = client.post(&url).bearer_auth(&bearer).send() {
            if response.status().as_u16() != 202 {
                break;
            }
        }
    });
    let survivor = {
        let (b, key) = (Arc::clone(&b), key.clone());
        std::thread::spawn(move || b.close(&key, DATE))
    };
    let (status, processed) = eventually(Duration::from_secs(60), "a page closed", || {
        b.job_progress(DATE).filter(|(_, processed)| *processed > 0)
    });
    a.kill_hard();
    let _ = doomed.join();
    assert_eq!(
        status, "running",
        "killed before the run ended ({processed} loans done)"
    );

    let closed = survivor.join().expect("the survivor closes the date");
    let job = &closed["jobs"][0];
    assert_eq!(job["status"], "completed", "{closed}");
    assert_eq!(job["processed"], LOANS, "every loan once: {closed}");
    assert_eq!(job["failures"], 0, "{closed}");
    assert_eq!(
        count(
            &b,
            &format!("SELECT COUNT(*) FROM loan_snapshots WHERE business_date = '{DATE}'")
        ),
        LOANS as i64,
        "one snapshot per loan"
    );
    let got = b.outbox(&key);
    assert_eq!(
        got.len(),
        expected.len(),
        "as many actions as one host's close"
    );
    assert_eq!(got, expected, "the outbox of an uninterrupted close");
}
