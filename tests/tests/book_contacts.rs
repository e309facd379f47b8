//! Contacts across paths: a loan gets one message per channel and borrower-local day,
//! whether the close, an event or escalation planned it, and escalation's messages carry
//! their rendered text.

use postloan_tests::{Book, RedisServer};
use serde_json::{Value, json};

fn event(id: &str, kind: &str, occurred_at: &str, data: Value) -> Value {
    json!({ "id": id, "tenant": "contacts", "type": kind, "occurred_at": occurred_at, "data": data })
}

/// Every action of the outbox, oldest first.
fn actions(book: &Book, key: &str) -> Vec<Value> {
    let (status, body) = book.call("GET", "/v1/actions?limit=1000", key, None);
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

/// The channel an action contacts on: a reminder's channel, or an escalation action's kind.
fn contact(action: &Value) -> String {
    action["channel"]
        .as_str()
        .or(action["kind"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_payment_the_day_after_a_close_plans_no_second_message_for_that_day() {
    let redis = RedisServer::start();
    let book = Book::start("book-contacts", &redis);
    let key = book.create_tenant(
        "contacts",
        json!({ "contact": {
            "reminders": { "payment_link": "https://pay.example.com/{loan_id}" },
            "escalation": { "high_risk_tiers": [] }
        } }),
    );
    let post_event = |body: Value| {
        let (status, answer) = book.call("POST", "/v1/events", &key, Some(body));
        assert_eq!(status, 201, "{answer}");
    };
    post_event(event(
        "c1",
        "loan.created",
        "2026-01-05T02:00:00Z",
        json!({
            "id": "C1",
            "borrower": { "id": "CB1", "profile": {
                "name": "张伟", "language": "zh-CN", "time_zone": "Asia/Shanghai",
                "contact_points": [
                    { "channel": "sms", "address": "+8613800138000" },
                    { "channel": "push", "address": "device-1" },
                    { "channel": "email", "address": "zw@example.com" }
                ]
            } },
            "currency": "CNY",
            "disbursed_on": "2026-01-01",
            "installments": [{ "seq": 1, "due_date": "2026-02-01", "principal": "1000.00", "interest": "0" }]
        }),
    ));
    assert!(
        actions(&book, &key).is_empty(),
        "nothing due near 2026-01-05"
    );

    // The close of 2026-02-10 (9 DPD, bucket M1) plans from 08:00 on 2026-02-11 in Shanghai:
    // the M1 daily reminder by SMS and push, and the early stage's SMS, push and e-mail, of
    // which the SMS and push are the reminder's already: one each.
    book.close(&key, "2026-02-10");
    let closed = actions(&book, &key);
    let mut planned: Vec<(String, String)> = closed
        .iter()
        .filter(|a| a["kind"] != "stage_change")
        .map(|a| {
            (
                a["kind"].as_str().unwrap_or_default().to_owned(),
                contact(a),
            )
        })
        .collect();
    planned.sort();
    assert_eq!(
        planned,
        [
            ("email".to_owned(), "email".to_owned()),
            ("reminder".to_owned(), "push".to_owned()),
            ("reminder".to_owned(), "sms".to_owned()),
        ]
    );
    let email = closed
        .iter()
        .find(|a| a["kind"] == "email")
        .expect("an e-mail");
    assert_eq!(
        email["detail"]["text"],
        "张伟您好，您的借款已逾期9天，逾期金额1,000.00CNY，请立即还款。还款：https://pay.example.com/C1 如不想再收到此类邮件，请回复“退订”。"
    );
    assert_eq!(email["detail"]["address"], "zw@example.com");

    // At 12:00 the same local day a partial payment arrives: the loan is planned again, and
    // every message it would send on 2026-02-11 is planned already.
    post_event(event(
        "c2",
        "payment.posted",
        "2026-02-11T04:00:00Z",
        json!({ "loan_id": "C1", "id": "P1", "value_date": "2026-02-11", "amount": "100.00" }),
    ));
    let after: Vec<Value> = actions(&book, &key)
        .into_iter()
        .filter(|a| a["kind"] != "stage_change")
        .collect();
    let new: Vec<&Value> = after.iter().filter(|a| !closed.contains(a)).collect();
    assert!(new.is_empty(), "no second message on 2026-02-11: {new:?}");
}
