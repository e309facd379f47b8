//! What happens to a booked loan, through the HTTP API: payments with idempotency keys,
//! reversals, pauses and extensions (展期), each checked against values worked by hand.

use postloan_tests::{Book, RedisServer};
use serde_json::{Value, json};

fn book_loan(book: &Book, key: &str, id: &str, due_dates: &[&str], principal: &str) {
    let body = json!({
        "id": id,
        "borrower": { "id": format!("B-{id}"), "profile": { "name": "Sun Li", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
        "currency": "CNY",
        "disbursed_on": "2025-12-10",
        "installments": due_dates.iter().enumerate().map(|(i, due)| json!({
            "seq": i + 1, "due_date": due, "principal": principal, "interest": "0"
        })).collect::<Vec<_>>()
    });
    let (status, answer) = book.call("POST", "/v1/loans", key, Some(body));
    assert_eq!(status, 201, "{answer}");
}

fn assessment(book: &Book, key: &str, id: &str, as_of: &str) -> Value {
    let (status, body) = book.call("GET", &format!("/v1/loans/{id}?as_of={as_of}"), key, None);
    assert_eq!(status, 200, "{body}");
    body
}

fn pay(book: &Book, key: &str, loan: &str, idempotency_key: &str, body: Value) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .post(book.host.url(&format!("/v1/loans/{loan}/payments")))
        .bearer_auth(key)
        .header("idempotency-key", idempotency_key)
        .body(body.to_string())
        .send()
        .expect("the host answers");
    let status = response.status().as_u16();
    (status, response.json().expect("JSON"))
}

#[test]
fn payments_reversals_pauses_and_extensions_change_the_loan_as_worked_by_hand() {
    let redis = RedisServer::start();
    let book = Book::start("book-servicing", &redis);
    let key = book.create_tenant("servicing", json!({}));

    // One installment of 500.00 due 2026-01-10, paid that day: nothing past due on 02-01.
    book_loan(&book, &key, "S1", &["2026-01-10"], "500.00");
    let payment = json!({ "id": "S1-P1", "value_date": "2026-01-10", "amount": "500.00" });
    let (status, first) = pay(&book, &key, "S1", "pay-1", payment.clone());
    assert_eq!(
        (status, first["applied"].as_bool()),
        (201, Some(true)),
        "{first}"
    );
    // The same request again (a retry) is acknowledged and applied once.
    let (status, again) = pay(&book, &key, "S1", "pay-1", payment);
    assert_eq!(
        (status, again["applied"].as_bool()),
        (200, Some(false)),
        "{again}"
    );
    // The same key for another payment is a conflict.
    let other = json!({ "id": "S1-P2", "value_date": "2026-01-11", "amount": "1.00" });
    assert_eq!(pay(&book, &key, "S1", "pay-1", other).0, 409);
    let paid = assessment(&book, &key, "S1", "2026-02-01");
    assert_eq!(paid["loan"]["payments"].as_array().map(Vec::len), Some(1));
    assert_eq!(paid["assessment"]["dpd"], 0, "{paid}");

    // Reversed, the installment is unpaid since 01-10: 22 days past due on 02-01 (01-11 is
    // day 1, 01-31 day 21).
    let (status, body) = book.call("POST", "/v1/loans/S1/payments/S1-P1/reversal", &key, None);
    assert_eq!(status, 201, "{body}");
    let reversed = assessment(&book, &key, "S1", "2026-02-01");
    assert_eq!(reversed["assessment"]["dpd"], 22, "{reversed}");
    assert_eq!(reversed["assessment"]["bucket"], "M1");

    // Paused from 01-20 to 01-25: 20, 21, 22, 23, 24 are 5 days not counted in arrears,
    // so 22 DPD are 17 days in arrears.
    let pause = json!({ "from": "2026-01-20", "to": "2026-01-25", "reason": "hardship review" });
    let (status, body) = book.call("POST", "/v1/loans/S1/pauses", &key, Some(pause));
    assert_eq!(status, 201, "{body}");
    let paused = assessment(&book, &key, "S1", "2026-02-01");
    assert_eq!(paused["assessment"]["dpd"], 22, "{paused}");
    assert_eq!(paused["assessment"]["days_in_arrears"], 17, "{paused}");

    // An extension of 2 periods moves every due date still ahead two months later; this
    // loan's dates are far ahead of any day the test runs on.
    book_loan(
        &book,
        &key,
        "S2",
        &["2099-01-31", "2099-02-28", "2099-03-31"],
        "100.00",
    );
    let (status, body) = book.call(
        "POST",
        "/v1/loans/S2/extensions",
        &key,
        Some(json!({ "periods": 2 })),
    );
    assert_eq!(status, 201, "{body}");
    let extended = assessment(&book, &key, "S2", "2099-01-01");
    let dates: Vec<&str> = extended["loan"]["installments"]
        .as_array()
        .expect("installments")
        .iter()
        .map(|i| i["due_date"].as_str().expect("a date"))
        .collect();
    // 01-31 + 2 months = 03-31; 02-28 + 2 = 04-28; 03-31 + 2 = 05-31.
    assert_eq!(dates, ["2099-03-31", "2099-04-28", "2099-05-31"]);
    let (_, audit) = book.call("GET", "/v1/audit", &key, None);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for recorded in [
        "payment.posted",
        "payment.reversed",
        "pause.recorded",
        "extension.recorded",
    ] {
        assert!(
            actions.contains(&recorded),
            "{recorded} is in the audit log: {actions:?}"
        );
    }
}
