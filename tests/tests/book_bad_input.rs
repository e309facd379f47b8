//! Bad input to the loan book: each is a 4xx problem body naming the field and the reason,
//! and nothing already stored changes.

use postloan_tests::{Book, RedisServer};
use serde_json::{Value, json};

fn loan_body(principal: &str) -> Value {
    json!({
        "id": "G1",
        "borrower": { "id": "BG1", "profile": { "name": "Zhao Lei", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
        "currency": "CNY",
        "disbursed_on": "2026-01-01",
        "installments": [{ "seq": 1, "due_date": "2026-02-01", "principal": principal, "interest": "0" }]
    })
}

/// Asserts a problem body with `status` naming `field`.
fn assert_problem(answer: (u16, Value), status: u16, field: &str) {
    let (got, body) = answer;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["field"], field, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:postloan:problem:")),
        "{body}"
    );
}

#[test]
fn bad_input_is_a_problem_naming_the_field_and_changes_nothing() {
    let redis = RedisServer::start();
    let book = Book::start("book-bad-input", &redis);
    let key = book.create_tenant("bad", json!({}));
    let (status, body) = book.call("POST", "/v1/loans", &key, Some(loan_body("1000.00")));
    assert_eq!(status, 201, "{body}");
    let (_, before) = book.call("GET", "/v1/loans/G1", &key, None);

    let post = |path: &str, body: Value| book.call("POST", path, &key, Some(body));
    let mut other = loan_body("abc");
    other["id"] = json!("G2");
    assert_problem(post("/v1/loans", other), 400, "installments[0].principal");
    let mut both = loan_body("100.00");
    both["id"] = json!("G3");
    both["terms"] = json!({});
    assert_problem(post("/v1/loans", both), 400, "terms.principal");
    let mut zone = loan_body("100.00");
    zone["id"] = json!("G4");
    zone["borrower"]["profile"]["time_zone"] = json!("Mars/Olympus");
    assert_problem(post("/v1/loans", zone), 400, "borrower.profile.time_zone");
    let mut cents = loan_body("100.001");
    cents["id"] = json!("G5");
    assert_problem(post("/v1/loans", cents), 400, "installments[0].principal");
    assert_problem(post("/v1/loans", loan_body("1000.00")), 409, "id");

    let payment = |amount: &str, value_date: &str| json!({ "id": "GP1", "value_date": value_date, "amount": amount });
    assert_problem(
        post("/v1/loans/G1/payments", payment("-5.00", "2026-02-01")),
        400,
        "amount",
    );
    assert_problem(
        post("/v1/loans/G1/payments", payment("5.00", "2026-02-30")),
        400,
        "value_date",
    );
    assert_problem(
        post(
            "/v1/loans/G1/payments",
            json!({ "id": "GP1", "amount": "5.00" }),
        ),
        400,
        "value_date",
    );
    let (status, body) = post("/v1/loans/G1/payments", payment("5.00", "2026-02-01"));
    assert_eq!(status, 201, "{body}");
    assert_problem(
        post("/v1/loans/G1/payments", payment("6.00", "2026-02-01")),
        409,
        "id",
    );
    assert_problem(
        post("/v1/loans/G1/extensions", json!({ "periods": 0 })),
        400,
        "periods",
    );
    assert_problem(
        post(
            "/v1/loans/G1/pauses",
            json!({ "from": "2026-03-01", "to": "2026-02-01", "reason": "x" }),
        ),
        400,
        "to",
    );
    assert_problem(
        post(
            "/v1/loans/G1/contact-outcomes",
            json!({ "channel": "pigeon", "at": "2026-02-01T01:00:00Z", "outcome": "delivered" }),
        ),
        400,
        "channel",
    );

    let envelope = |kind: &str, occurred_at: &str, data: Value| json!({ "id": "ev1", "tenant": "bad", "type": kind, "occurred_at": occurred_at, "data": data });
    assert_problem(
        post(
            "/v1/events",
            envelope("loan.exploded", "2026-02-01T00:00:00Z", json!({})),
        ),
        400,
        "type",
    );
    assert_problem(
        post(
            "/v1/events",
            envelope("payment.posted", "yesterday", json!({})),
        ),
        400,
        "occurred_at",
    );
    assert_problem(
        post(
            "/v1/events",
            envelope(
                "payment.posted",
                "2026-02-01T00:00:00Z",
                json!({ "id": "x", "value_date": "2026-02-01", "amount": "1" }),
            ),
        ),
        400,
        "data.loan_id",
    );
    assert_problem(
        post(
            "/v1/events",
            envelope(
                "payment.posted",
                "2026-02-01T00:00:00Z",
                json!({ "loan_id": "G1", "id": "x", "value_date": "2026-02-01", "amount": "1", "extra": 1 }),
            ),
        ),
        400,
        "data.extra",
    );
    assert_problem(
        book.call(
            "PUT",
            "/v1/tenant/settings",
            &key,
            Some(json!({ "policy": { "grace_days": "five" } })),
        ),
        400,
        "settings.policy.grace_days",
    );
    assert_problem(
        book.call("POST", "/v1/jobs/close-of-business", &key, None),
        400,
        "date",
    );
    assert_problem(
        book.call(
            "GET",
            "/v1/portfolio?date=2026-02-01&format=xml",
            &key,
            None,
        ),
        400,
        "format",
    );
    assert_problem(
        book.call("GET", "/v1/loans?limit=0", &key, None),
        400,
        "limit",
    );

    // Only the one good payment changed the loan; the rest stored nothing.
    let (_, after) = book.call("GET", "/v1/loans/G1", &key, None);
    assert_eq!(
        after["loan"]["installments"],
        before["loan"]["installments"]
    );
    assert_eq!(
        after["loan"]["payments"].as_array().map(Vec::len),
        Some(1),
        "{after}"
    );
    let (_, list) = book.call("GET", "/v1/loans", &key, None);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    let (_, verify) = book.call("GET", "/v1/audit/verify", &key, None);
    assert_eq!(verify["intact"], true, "{verify}");
}
