//! Two workers on one business date: two concurrent callers of the close route share the
//! run's claims, and the book ends exactly as one caller alone leaves it — every loan closed
//! once, the same outbox.

use std::sync::{Arc, Barrier};

use postloan_tests::{Book, RedisServer, copy_book, spread_loan};
use serde_json::{Value, json};

const LOANS: usize = 2_000;
const DATE: &str = "2026-03-01";

/// Books `LOANS` loans, each one installment due on one of 90 days, so that on `DATE` they
/// stand in several buckets and stages and plan several kinds of action.
fn book_loans(book: &Book, key: &str) {
    for n in 0..LOANS {
        let event = json!({
            "id": format!("create-{n}"),
            "tenant": "workers",
            "type": "loan.created",
            "occurred_at": "2025-11-01T00:00:00Z",
            "data": spread_loan(n)
        });
        let (status, body) = book.call("POST", "/v1/events", key, Some(event));
        assert_eq!(status, 201, "{body}");
    }
}

/// Run `id` as `GET /v1/jobs/{id}` shows it.
fn the_run(book: &Book, key: &str, id: &Value) -> Value {
    let (status, job) = book.call("GET", &format!("/v1/jobs/{id}"), key, None);
    assert_eq!(status, 200, "{job}");
    job
}

#[test]
fn two_workers_close_one_date_as_one_worker_does() {
    let redis = RedisServer::start();
    let setup = Book::start("book-workers", &redis);
    let key = setup.create_tenant("workers", json!({}));
    book_loans(&setup, &key);
    let (dir, database) = (setup.dir.clone(), setup.database.clone());
    drop(setup);
    let one_dir = dir.with_file_name("book-workers-one");
    let two_dir = dir.with_file_name("book-workers-two");
    copy_book(&dir, &database, &one_dir);
    copy_book(&dir, &database, &two_dir);

    // One worker alone.
    let one = Book::serve(&one_dir.join("spin.toml"), &one_dir);
    one.close(&key, DATE);
    let expected = one.outbox(&key);
    assert!(!expected.is_empty(), "the close plans actions");
    drop(one);

    // Two workers at once, each calling until the date is closed.
    let two = Arc::new(Book::serve(&two_dir.join("spin.toml"), &two_dir));
    let start = Arc::new(Barrier::new(2));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (book, start, key) = (Arc::clone(&two), Arc::clone(&start), key.clone());
            std::thread::spawn(move || {
                start.wait();
                book.close(&key, DATE)
            })
        })
        .collect();
    let mut id = Value::Null;
    for worker in workers {
        let answer = worker.join().expect("a worker");
        assert_eq!(answer["jobs"][0]["status"], "completed", "{answer}");
        id = answer["jobs"][0]["id"].clone();
    }
    let job = the_run(&two, &key, &id);
    assert_eq!(job["processed"], LOANS, "every loan once: {job}");
    assert_eq!(job["failures"], 0, "{job}");
    // 2,000 loans in claims of 500: four full ones and the open-ended last, empty here.
    assert_eq!(job["claims"]["total"], 5, "{job}");
    assert_eq!(job["claims"]["done"], 5, "{job}");
    assert_eq!(job["claims"]["held"], 0, "{job}");
    assert_eq!(
        job["claims"]["workers"], 2,
        "both workers finished claims: {job}"
    );
    let by_worker = job["claims"]["by_worker"].as_array().expect("by_worker");
    assert_eq!(by_worker.len(), 2, "{job}");
    let claims: i64 = by_worker
        .iter()
        .map(|w| w["claims"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(
        claims, 5,
        "the five claims, each finished by one of them: {job}"
    );
    let got = two.outbox(&key);
    assert_eq!(got.len(), expected.len(), "as many actions as one worker's");
    assert_eq!(got, expected, "the same outbox as one worker's");
}
