//! A close-of-business call stops once its time budget is spent, after the loan in hand, not
//! at the end of its page: with a budget of zero seconds every call closes exactly one loan
//! and answers 202, and the call after the last loan completes the date with 200.

use postloan_tests::{Book, RedisServer};
use serde_json::json;

#[test]
fn a_spent_budget_ends_the_call_after_the_loan_in_hand() {
    let redis = RedisServer::start();
    let book = Book::start_with_env(
        "book-budget",
        &redis,
        &[("SPIN_VARIABLE_JOB_BUDGET_SECONDS", "0")],
    );
    let key = book.create_tenant("budget", json!({}));
    for id in ["B1", "B2", "B3"] {
        let loan = json!({
            "id": id,
            "borrower": { "id": format!("P-{id}"), "profile": { "name": "Li Lei", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
            "currency": "CNY", "disbursed_on": "2026-01-01",
            "installments": [{ "seq": 1, "due_date": "2026-02-01", "principal": "500.00", "interest": "0" }]
        });
        let (status, body) = book.call("POST", "/v1/loans", &key, Some(loan));
        assert_eq!(status, 201, "{body}");
    }
    let close = || {
        book.call(
            "POST",
            "/v1/jobs/close-of-business?date=2026-02-10",
            &key,
            None,
        )
    };
    // The three loans fit one page of 100; each call still stops after one of them.
    for processed in 1..=3 {
        let (status, body) = close();
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["jobs"][0]["processed"], processed, "{body}");
        assert_eq!(body["jobs"][0]["status"], "running", "{body}");
    }
    let (status, body) = close();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jobs"][0]["status"], "completed", "{body}");
    assert_eq!(body["jobs"][0]["processed"], 3, "{body}");
    assert_eq!(body["jobs"][0]["total"], 3, "{body}");
}
