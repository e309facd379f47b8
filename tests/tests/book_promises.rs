//! A promise to pay follows the payments as they are valued: judged broken at a close, it is
//! kept once a payment valued inside its window arrives, whatever the order of arrival.

use postloan_tests::{Book, RedisServer};
use serde_json::{Value, json};

/// The status of promise `id` as the loan view shows it.
fn promise_status(book: &Book, key: &str, id: &str) -> Value {
    let (status, view) = book.call("GET", "/v1/loans/PL1", key, None);
    assert_eq!(status, 200, "{view}");
    view["promises"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == id))
        .map(|p| p["status"].clone())
        .unwrap_or_else(|| panic!("promise {id} in {view}"))
}

#[test]
fn a_backdated_payment_keeps_a_promise_the_close_judged_broken() {
    let redis = RedisServer::start();
    let book = Book::start("book-promises", &redis);
    let key = book.create_tenant("promises", json!({}));
    let post = |path: &str, body: Value| book.call("POST", path, &key, Some(body));
    let (status, body) = post(
        "/v1/loans",
        json!({
            "id": "PL1",
            "borrower": { "id": "PB1", "profile": { "name": "Li Na", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
            "currency": "CNY",
            "disbursed_on": "2026-01-01",
            "installments": [{ "seq": 1, "due_date": "2026-02-01", "principal": "1000.00", "interest": "0" }]
        }),
    );
    assert_eq!(status, 201, "{body}");
    // 300.00 promised on 2026-02-05 for 2026-02-10; with the default 3 grace days the last
    // day that counts is 2026-02-13, so the close of 2026-02-14 finds it broken.
    let (status, body) = post(
        "/v1/loans/PL1/promises",
        json!({ "id": "PR1", "amount": "300.00", "date": "2026-02-10", "made_on": "2026-02-05" }),
    );
    assert_eq!(status, 201, "{body}");
    book.close(&key, "2026-02-14");
    assert_eq!(promise_status(&book, &key, "PR1"), "broken");

    // The bank's file of 2026-02-12 arrives late: 300.00 valued inside the window.
    let (status, body) = post(
        "/v1/loans/PL1/payments",
        json!({ "id": "PAY1", "value_date": "2026-02-12", "amount": "300.00" }),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(promise_status(&book, &key, "PR1"), "kept");

    // Reversed, the payment no longer stands: the promise is broken again.
    let (status, body) = book.call("POST", "/v1/loans/PL1/payments/PAY1/reversal", &key, None);
    assert!(status == 200 || status == 201, "{body}");
    assert_eq!(promise_status(&book, &key, "PR1"), "broken");
}
