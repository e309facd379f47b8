//! A close-of-business run killed half-way (`kill -9` of the host, holding a claim's lease)
//! resumes after the last page it stored when the host comes back and the lease has passed,
//! and ends with the same outbox as a run that was never interrupted: no action twice, none
//! missing.

use std::time::Duration;

use postloan_tests::{Book, RedisServer, eventually};
use serde_json::json;

const LOANS: usize = 600;
const DATE: &str = "2026-03-01";

/// Books `LOANS` loans in the tenant, each one installment due on a different day, so they
/// stand in several buckets on `DATE`.
fn book_loans(book: &Book, key: &str) {
    for n in 0..LOANS {
        let due = chrono_like_date(n % 90);
        let event = json!({
            "id": format!("create-{n}"),
            "tenant": "crash",
            "type": "loan.created",
            "occurred_at": "2025-11-01T00:00:00Z",
            "data": {
                "id": format!("L{n:04}"),
                "borrower": { "id": format!("B{n:04}"), "profile": {
                    "name": "Borrower", "language": "en", "time_zone": "Asia/Shanghai",
                    "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
                } },
                "currency": "CNY",
                "disbursed_on": "2025-11-01",
                "installments": [{ "seq": 1, "due_date": due, "principal": "1000.00", "interest": "10.00" }]
            }
        });
        let (status, body) = book.call("POST", "/v1/events", key, Some(event));
        assert_eq!(status, 201, "{body}");
    }
}

/// 2025-12-01 plus `days` days, as text (December has 31 days, January 31).
fn chrono_like_date(days: usize) -> String {
    let (month, day) = match days {
        0..=30 => ("2025-12", days + 1),
        31..=61 => ("2026-01", days - 30),
        _ => ("2026-02", days - 61),
    };
    format!("{month}-{day:02}")
}

#[test]
fn a_run_killed_half_way_resumes_with_no_action_twice() {
    let redis = RedisServer::start();

    // The reference: the same book closed without interruption.
    let reference = Book::start("book-crash-reference", &redis);
    let key = reference.create_tenant("crash", json!({}));
    book_loans(&reference, &key);
    reference.close(&key, DATE);
    let expected = reference.outbox(&key);
    assert!(!expected.is_empty(), "the run plans some actions");
    drop(reference);

    let mut book = Book::start("book-crash", &redis);
    let key = book.create_tenant("crash", json!({}));
    book_loans(&book, &key);
    let before = book.outbox(&key).len();
    let url = book
        .host
        .url(&format!("/v1/jobs/close-of-business?date={DATE}"));
    let bearer = key.clone();
    let call = std::thread::spawn(move || {
        // The host dies under this request; its answer does not matter.
        let _ = reqwest::blocking::Client::new()
            .post(url)
            .bearer_auth(bearer)
            .send();
    });
    let (status, processed) =
        eventually(Duration::from_secs(60), "a page of the run stored", || {
            book.job_progress(DATE)
                .filter(|(_, processed)| *processed > 0)
        });
    book.kill_hard();
    let _ = call.join();
    assert_eq!(
        status, "running",
        "killed before the run ended ({processed} loans done)"
    );
    assert!(
        processed < LOANS as i64,
        "killed half-way, after {processed} loans"
    );

    // The killed worker held the first claim; the restarted host's workers take the other
    // at once and the first once its lease (10 s in these tests) has passed.
    let book = book.restart();
    let resumed = book.close(&key, DATE);
    let job = &resumed["jobs"][0];
    assert_eq!(job["status"], "completed", "{resumed}");
    assert_eq!(job["processed"], LOANS, "every loan once: {resumed}");
    let (_, shown) = book.call("GET", &format!("/v1/jobs/{}", job["id"]), &key, None);
    // 600 loans in claims of 500: one full claim and the open-ended rest.
    assert_eq!(shown["claims"]["total"], 2, "{shown}");
    assert_eq!(shown["claims"]["done"], 2, "{shown}");
    let after = book.outbox(&key);
    assert!(before <= after.len());
    assert_eq!(
        after, expected,
        "the resumed run's outbox is the uninterrupted run's"
    );
}
