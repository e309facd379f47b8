//! Events applied once whatever their order: the same events, in order and then shuffled
//! with every one of them sent twice (payments before their loan, a reversal before its
//! payment), leave the same book, and no action is in the outbox twice.

use std::collections::BTreeSet;

use postloan_tests::{Book, RedisServer};
use serde_json::{Value, json};

fn event(id: &str, kind: &str, occurred_at: &str, data: Value) -> Value {
    json!({ "id": id, "tenant": "order", "type": kind, "occurred_at": occurred_at, "data": data })
}

fn loan(id: &str, due_dates: &[&str]) -> Value {
    json!({
        "id": id,
        "borrower": { "id": format!("B-{id}"), "profile": {
            "name": "Li Na", "language": "zh-CN", "time_zone": "Asia/Shanghai",
            "contact_points": [{ "channel": "sms", "address": "+8613900139000" }]
        } },
        "currency": "CNY",
        "disbursed_on": "2025-12-01",
        "installments": due_dates.iter().enumerate().map(|(i, due)| json!({
            "seq": i + 1, "due_date": due, "principal": "600.00", "interest": "12.00"
        })).collect::<Vec<_>>()
    })
}

/// The events in the order they happened.
fn in_order() -> Vec<Value> {
    vec![
        event(
            "c1",
            "loan.created",
            "2025-12-01T01:00:00Z",
            loan("K1", &["2026-01-05", "2026-02-05"]),
        ),
        event(
            "c2",
            "loan.created",
            "2025-12-01T01:00:00Z",
            loan("K2", &["2026-01-10", "2026-02-10"]),
        ),
        event(
            "p1",
            "payment.posted",
            "2026-01-05T02:00:00Z",
            json!({ "loan_id": "K1", "id": "K1-P1", "value_date": "2026-01-05", "amount": "612.00" }),
        ),
        event(
            "p2",
            "payment.posted",
            "2026-01-12T02:00:00Z",
            json!({ "loan_id": "K2", "id": "K2-P1", "value_date": "2026-01-12", "amount": "300.00" }),
        ),
        event(
            "o1",
            "contact.outcome",
            "2026-01-20T03:00:00Z",
            json!({ "loan_id": "K2", "channel": "voice_call", "at": "2026-01-20T03:00:00Z", "outcome": "promise_to_pay" }),
        ),
        event(
            "pr1",
            "promise.made",
            "2026-01-20T03:00:00Z",
            json!({ "loan_id": "K2", "id": "K2-PR1", "amount": "312.00", "date": "2026-01-25", "made_on": "2026-01-20" }),
        ),
        event(
            "p3",
            "payment.posted",
            "2026-01-24T02:00:00Z",
            json!({ "loan_id": "K2", "id": "K2-P2", "value_date": "2026-01-24", "amount": "312.00" }),
        ),
        event(
            "p4",
            "payment.posted",
            "2026-02-05T02:00:00Z",
            json!({ "loan_id": "K1", "id": "K1-P2", "value_date": "2026-02-05", "amount": "612.00" }),
        ),
        event(
            "r1",
            "payment.reversed",
            "2026-02-07T02:00:00Z",
            json!({ "loan_id": "K1", "payment_id": "K1-P2" }),
        ),
    ]
}

/// The same events, payments before their loan and the reversal before its payment, each
/// sent twice.
fn shuffled() -> Vec<Value> {
    let events = in_order();
    let order = [8, 7, 2, 6, 0, 4, 3, 5, 1];
    let mut shuffled: Vec<Value> = order.iter().map(|&i| events[i].clone()).collect();
    shuffled.extend(order.iter().rev().map(|&i| events[i].clone()));
    shuffled
}

/// Everything the book says of its loans, and its outbox's keys.
fn state(book: &Book, key: &str) -> (Vec<Value>, Value) {
    let loans = ["K1", "K2"]
        .iter()
        .map(|id| {
            let (status, body) = book.call(
                "GET",
                &format!("/v1/loans/{id}?as_of=2026-03-01"),
                key,
                None,
            );
            assert_eq!(status, 200, "{body}");
            json!({
                "loan": body["loan"],
                "standing": body["standing"],
                "promises": body["promises"],
                "assessment": body["assessment"],
            })
        })
        .collect();
    let (status, portfolio) = book.call("GET", "/v1/portfolio?date=2026-03-01", key, None);
    assert_eq!(status, 200, "{portfolio}");
    (loans, portfolio)
}

fn apply(book: &Book, key: &str, events: &[Value]) {
    for event in events {
        let (status, body) = book.call("POST", "/v1/events", key, Some(event.clone()));
        assert!(status == 201 || status == 200, "{event}: {status} {body}");
    }
    let (status, body) = book.call(
        "POST",
        "/v1/jobs/close-of-business?date=2026-03-01",
        key,
        None,
    );
    assert_eq!(status, 200, "{body}");
}

fn assert_no_action_twice(book: &Book, key: &str) -> usize {
    let (_, body) = book.call("GET", "/v1/actions?limit=1000", key, None);
    let actions = body["items"].as_array().expect("actions");
    let mut seen = BTreeSet::new();
    for a in actions {
        let identity = (
            a["loan_id"].to_string(),
            a["business_date"].to_string(),
            a["kind"].to_string(),
            a["rule"].to_string(),
            a["channel"].to_string(),
            a["queue"].to_string(),
        );
        assert!(seen.insert(identity.clone()), "emitted twice: {identity:?}");
    }
    actions.len()
}

#[test]
fn shuffled_and_duplicated_events_leave_the_book_as_in_order_events_do() {
    let redis = RedisServer::start();
    let book = Book::start("book-events", &redis);

    let ordered_key = book.create_tenant("order", json!({}));
    apply(&book, &ordered_key, &in_order());
    let expected = state(&book, &ordered_key);
    assert_no_action_twice(&book, &ordered_key);

    // A second book on a second host: the same tenant id, its own SQLite file.
    let other = Book::start("book-events-shuffled", &redis);
    let shuffled_key = other.create_tenant("order", json!({}));
    apply(&other, &shuffled_key, &shuffled());
    let actual = state(&other, &shuffled_key);
    assert!(
        assert_no_action_twice(&other, &shuffled_key) > 0,
        "the run planned actions"
    );

    // K1: 612.00 paid on 01-05; 02-05's payment reversed, so 612.00 has been overdue since
    // 02-05: 24 days on 03-01 (M1). K2: 300.00 + 312.00 = 612.00 paid, clearing the first
    // installment on 01-24; the second (02-10) is 19 days overdue on 03-01.
    assert_eq!(expected.0[0]["standing"]["dpd"], 24, "{:?}", expected.0[0]);
    assert_eq!(expected.0[1]["standing"]["dpd"], 19, "{:?}", expected.0[1]);
    assert_eq!(expected.0[1]["promises"][0]["status"], "kept");
    assert_eq!(actual.0, expected.0);
    assert_eq!(actual.1, expected.1);
}
