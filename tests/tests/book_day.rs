//! A day in the life of the loan book, end to end: loans booked through events, payments
//! and promises through a real Redis, close-of-business for several dates over HTTP, and
//! the standings, actions and portfolio measures checked against values worked by hand.
//!
//! The book (all in CNY, no interest, default policy: buckets M0 = 0 DPD, M1 1–30, M2
//! 31–60; China's five categories; the default ladder: early from 1 DPD, mid from 16, late
//! from 61; a broken promise moves one stage up):
//! - L1: 3 × 1000.00 due 2026-01-15, 02-15, 03-15; the first paid on time.
//! - L2: 2 × 500.00 due 01-20, 02-20; promises 300.00 by 02-10 (made 02-03), pays 300.00 on
//!   02-10 (the promise is kept) and 700.00 on 02-25 (paid off).
//! - L3: 1 × 2000.00 due 01-10, paid that day (paid off before the first close).
//! - L4: 2 × 400.00 due 01-25, 02-25; promises 400.00 by 02-05 (made 02-02) and never pays.
//!
//! DPD counts days after the due date: as of 02-01, L2's 01-20 installment is 12 days past
//! due (01-21 is day 1) and L4's 01-25 one is 7. As of 03-01 (February 2026 has 28 days),
//! L1's 02-15 installment is 14 days past due and L4's 01-25 one 35.

use std::time::Duration;

use postloan_tests::{Book, RedisServer, eventually};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const TENANT: &str = "acme";

fn profile() -> Value {
    json!({
        "name": "张伟",
        "language": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
    })
}

/// Risk tiers do not move stages here, so each stage follows from DPD and promises alone.
fn settings() -> Value {
    json!({ "contact": { "escalation": { "high_risk_tiers": [] } } })
}

fn loan(id: &str, disbursed_on: &str, amount: &str, due_dates: &[&str]) -> Value {
    json!({
        "id": id,
        "borrower": { "id": format!("B-{id}"), "id_number": "110101199003071234", "profile": profile() },
        "currency": "CNY",
        "disbursed_on": disbursed_on,
        "installments": due_dates.iter().enumerate().map(|(i, due)| json!({
            "seq": i + 1, "due_date": due, "principal": amount, "interest": "0"
        })).collect::<Vec<_>>()
    })
}

fn envelope(id: &str, kind: &str, occurred_at: &str, data: Value) -> Value {
    json!({ "id": id, "tenant": TENANT, "type": kind, "occurred_at": occurred_at, "data": data })
}

fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is a decimal string"))
        .parse()
        .expect("a decimal")
}

fn post_event(book: &Book, key: &str, event: Value) {
    let (status, body) = book.call("POST", "/v1/events", key, Some(event));
    assert_eq!(status, 201, "event applied: {body}");
}

/// Publishes `event` on `postloan.events` and waits until the loan shows its effect.
fn publish_event(
    book: &Book,
    redis: &RedisServer,
    key: &str,
    event: Value,
    loan: &str,
    applied: impl Fn(&Value) -> bool,
) {
    redis.publish_when_subscribed("postloan.events", &event.to_string());
    eventually(
        Duration::from_secs(20),
        &format!("event {} applied", event["id"]),
        || {
            let (status, body) = book.call(
                "GET",
                &format!("/v1/loans/{loan}?as_of=2026-03-01"),
                key,
                None,
            );
            (status == 200 && applied(&body)).then_some(())
        },
    );
}

fn has_payment(id: &'static str) -> impl Fn(&Value) -> bool {
    move |loan| {
        loan["loan"]["payments"]
            .as_array()
            .is_some_and(|payments| payments.iter().any(|p| p["id"] == id))
    }
}

fn standing(book: &Book, key: &str, loan: &str) -> Value {
    let (status, body) = book.call(
        "GET",
        &format!("/v1/loans/{loan}?as_of=2026-03-01"),
        key,
        None,
    );
    assert_eq!(status, 200, "{body}");
    body["standing"].clone()
}

/// Asserts a loan's DPD, bucket and stage as the book recorded them; its standing.
fn assert_standing(
    book: &Book,
    key: &str,
    loan: &str,
    dpd: i64,
    bucket: &str,
    stage: &str,
) -> Value {
    let standing = standing(book, key, loan);
    assert_eq!(
        (
            standing["dpd"].as_i64(),
            standing["bucket"].as_str(),
            standing["stage"].as_str()
        ),
        (Some(dpd), Some(bucket), Some(stage)),
        "{loan}: {standing}"
    );
    standing
}

fn all_actions(book: &Book, key: &str) -> Vec<Value> {
    let mut actions = Vec::new();
    let mut after = 0;
    loop {
        let (status, body) = book.call(
            "GET",
            &format!("/v1/actions?after={after}&limit=1000"),
            key,
            None,
        );
        assert_eq!(status, 200, "{body}");
        let page = body["items"].as_array().expect("items").clone();
        let Some(last) = page.last() else {
            return actions;
        };
        after = last["id"].as_i64().expect("an id");
        actions.extend(page);
    }
}

#[test]
fn a_day_in_the_life_of_the_loan_book() {
    let redis = RedisServer::start();
    let book = Book::start("book-day", &redis);
    let key = book.create_tenant(TENANT, settings());
    let mut subscriber = redis.connection();
    let mut actions_feed = subscriber.as_pubsub();
    actions_feed
        .subscribe("postloan.actions")
        .expect("SUBSCRIBE works");
    actions_feed
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a timeout");

    post_event(
        &book,
        &key,
        envelope(
            "e1",
            "loan.created",
            "2025-12-15T02:00:00Z",
            loan(
                "L1",
                "2025-12-15",
                "1000.00",
                &["2026-01-15", "2026-02-15", "2026-03-15"],
            ),
        ),
    );
    post_event(
        &book,
        &key,
        envelope(
            "e2",
            "loan.created",
            "2025-12-20T02:00:00Z",
            loan("L2", "2025-12-20", "500.00", &["2026-01-20", "2026-02-20"]),
        ),
    );
    post_event(
        &book,
        &key,
        envelope(
            "e3",
            "loan.created",
            "2025-12-10T02:00:00Z",
            loan("L3", "2025-12-10", "2000.00", &["2026-01-10"]),
        ),
    );
    post_event(
        &book,
        &key,
        envelope(
            "e4",
            "loan.created",
            "2025-12-25T02:00:00Z",
            loan("L4", "2025-12-25", "400.00", &["2026-01-25", "2026-02-25"]),
        ),
    );

    publish_event(
        &book,
        &redis,
        &key,
        envelope(
            "e5",
            "payment.posted",
            "2026-01-15T03:00:00Z",
            json!({ "loan_id": "L1", "id": "P1", "value_date": "2026-01-15", "amount": "1000.00" }),
        ),
        "L1",
        has_payment("P1"),
    );
    publish_event(
        &book,
        &redis,
        &key,
        envelope(
            "e6",
            "payment.posted",
            "2026-01-10T03:00:00Z",
            json!({ "loan_id": "L3", "id": "P3", "value_date": "2026-01-10", "amount": "2000.00" }),
        ),
        "L3",
        has_payment("P3"),
    );
    assert_eq!(
        standing(&book, &key, "L3")["status"],
        "closed",
        "L3 is paid off"
    );

    // The first close: 2026-02-01 alone.
    let first = book.close(&key, "2026-02-01");
    assert_eq!(first["jobs"].as_array().map(Vec::len), Some(1), "{first}");
    assert_eq!(
        first["jobs"][0]["processed"], 3,
        "L1, L2 and L4 are active: {first}"
    );
    assert_standing(&book, &key, "L1", 0, "M0", "current");
    let l2 = assert_standing(&book, &key, "L2", 12, "M1", "early");
    assert_eq!(l2["classification"], "special_mention");
    assert_standing(&book, &key, "L4", 7, "M1", "early");

    // 3 loans, 2000 + 1000 + 800 = 3800.00 outstanding; M0 2000/3800 = 0.526315… → 0.5263,
    // M1 1800/3800 = 0.473684… → 0.4737; overdue 500 (L2) + 400 (L4) = 900.
    let (status, portfolio) = book.call("GET", "/v1/portfolio?date=2026-02-01", &key, None);
    assert_eq!(status, 200, "{portfolio}");
    assert_eq!(portfolio["totals"]["loans"], 3);
    assert_eq!(
        decimal(&portfolio["totals"]["outstanding_principal"]),
        Decimal::new(3800, 0)
    );
    assert_eq!(
        decimal(&portfolio["totals"]["overdue_amount"]),
        Decimal::new(900, 0)
    );
    assert_eq!(portfolio["aging"][0]["bucket"], "M0");
    assert_eq!(portfolio["aging"][0]["share"], "0.5263");
    assert_eq!(portfolio["aging"][1]["bucket"], "M1");
    assert_eq!(portfolio["aging"][1]["loans"], 2);
    assert_eq!(portfolio["aging"][1]["share"], "0.4737");
    assert_eq!(portfolio["par30"], "0.0000");
    // Overdue: 1800 of 3800 → 0.4737; by count 2 of 3 → 0.6667.
    assert_eq!(portfolio["overdue_rate"], "0.4737");
    assert_eq!(portfolio["overdue_rate_by_count"], "0.6667");

    // February, through Redis: two promises and L2's two payments.
    publish_event(
        &book,
        &redis,
        &key,
        envelope(
            "e7",
            "promise.made",
            "2026-02-02T03:00:00Z",
            json!({ "loan_id": "L4", "id": "PR4", "amount": "400.00", "date": "2026-02-05", "made_on": "2026-02-02" }),
        ),
        "L4",
        |loan| loan["promises"].as_array().is_some_and(|p| !p.is_empty()),
    );
    publish_event(
        &book,
        &redis,
        &key,
        envelope(
            "e8",
            "promise.made",
            "2026-02-03T03:00:00Z",
            json!({ "loan_id": "L2", "id": "PR2", "amount": "300.00", "date": "2026-02-10", "made_on": "2026-02-03" }),
        ),
        "L2",
        |loan| loan["promises"].as_array().is_some_and(|p| !p.is_empty()),
    );
    publish_event(
        &book,
        &redis,
        &key,
        envelope(
            "e9",
            "payment.posted",
            "2026-02-10T03:00:00Z",
            json!({ "loan_id": "L2", "id": "P2a", "value_date": "2026-02-10", "amount": "300.00" }),
        ),
        "L2",
        has_payment("P2a"),
    );
    publish_event(
        &book,
        &redis,
        &key,
        envelope(
            "e10",
            "payment.posted",
            "2026-02-25T03:00:00Z",
            json!({ "loan_id": "L2", "id": "P2b", "value_date": "2026-02-25", "amount": "700.00" }),
        ),
        "L2",
        has_payment("P2b"),
    );
    assert_eq!(
        standing(&book, &key, "L2")["status"],
        "closed",
        "300 + 700 pays L2 off"
    );
    // A duplicate is acknowledged and changes nothing.
    let (status, duplicate) = book.call(
        "POST",
        "/v1/events",
        &key,
        Some(envelope(
            "e10",
            "payment.posted",
            "2026-02-25T03:00:00Z",
            json!({ "loan_id": "L2", "id": "P2b", "value_date": "2026-02-25", "amount": "700.00" }),
        )),
    );
    assert_eq!(
        (status, duplicate["status"].as_str()),
        (200, Some("duplicate")),
        "{duplicate}"
    );

    // The second close catches up 02-02 … 03-01: 28 dates in order.
    let second = book.close(&key, "2026-03-01");
    let jobs = second["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 28, "{second}");
    assert_eq!(jobs[0]["business_date"], "2026-02-02");
    assert!(
        jobs.iter()
            .all(|j| j["status"] == "completed" && j["failures"] == 0),
        "{second}"
    );

    assert_standing(&book, &key, "L1", 14, "M1", "early");
    // 35 DPD is mid; the promise for 02-05 was broken (3 grace days passed): one stage up.
    assert_standing(&book, &key, "L4", 35, "M2", "late");

    // Promises: PR2 kept (300 paid on 02-10), PR4 broken.
    let (_, l2_view) = book.call("GET", "/v1/loans/L2", &key, None);
    assert_eq!(l2_view["promises"][0]["status"], "kept", "{l2_view}");
    let (_, l4_view) = book.call("GET", "/v1/loans/L4", &key, None);
    assert_eq!(l4_view["promises"][0]["status"], "broken", "{l4_view}");

    // L4 went late on 02-10: 16 DPD is mid, and the promise broken on 02-09 moves it one up.
    let actions = all_actions(&book, &key);
    let late: Vec<&Value> = actions
        .iter()
        .filter(|a| {
            a["loan_id"] == "L4" && a["kind"] == "stage_change" && a["detail"]["stage"] == "late"
        })
        .collect();
    assert_eq!(late.len(), 1, "one move to late: {late:?}");
    assert_eq!(late[0]["business_date"], "2026-02-10");

    // 03-01: L1 2000 (M1), L4 800 (M2); 2800 in all. PAR30 = 800 / 2800 = 0.285714… → 0.2857.
    let (_, portfolio) = book.call("GET", "/v1/portfolio?date=2026-03-01", &key, None);
    assert_eq!(portfolio["totals"]["loans"], 2, "{portfolio}");
    assert_eq!(portfolio["par30"], "0.2857");
    assert_eq!(portfolio["par90"], "0.0000");
    assert_eq!(portfolio["npl_ratio"], "0.0000");
    assert_eq!(portfolio["overdue_rate"], "1.0000");

    // 02-01 → 03-01: all of M0 (L1) rolled to M1; of M1's 1800, L2's 1000 was paid off
    // (1000 / 1800 = 0.5556) and L4's 800 rolled to M2 (0.4444). Cure rate 1000 / 1800.
    // Promises due in (02-01, 03-01]: PR2 kept, PR4 broken → 1 / 2.
    let (status, flows) = book.call(
        "GET",
        "/v1/portfolio/flows?from=2026-02-01&to=2026-03-01",
        &key,
        None,
    );
    assert_eq!(status, 200, "{flows}");
    assert_eq!(flows["roll_rates"][0]["bucket"], "M0");
    assert_eq!(flows["roll_rates"][0]["rates"]["to_next"], "1.0000");
    assert_eq!(flows["roll_rates"][1]["rates"]["closed"], "0.5556");
    assert_eq!(flows["roll_rates"][1]["rates"]["to_next"], "0.4444");
    assert_eq!(flows["cure_rate"], "0.5556");
    assert_eq!(flows["promise_kept_rate"], "0.5000");
    let (status, csv) = book.call_text(
        "GET",
        "/v1/portfolio?date=2026-03-01&format=csv",
        &key,
        None,
    );
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("bucket,loans,outstanding_principal,share\nM0,0,0,0.0000\nM1,1,"),
        "{csv}"
    );

    // Closing 03-01 again adds nothing.
    let again = book.close(&key, "2026-03-01");
    assert_eq!(again["jobs"][0]["business_date"], "2026-03-01", "{again}");
    assert_eq!(
        all_actions(&book, &key).len(),
        actions.len(),
        "no action twice"
    );

    // What the events added was published on postloan.actions, and is in the outbox.
    let message = actions_feed
        .get_message()
        .expect("an action published within 20 s");
    let published: Value =
        serde_json::from_str(&message.get_payload::<String>().expect("text")).expect("JSON");
    assert_eq!(published["tenant"], TENANT);
    assert!(
        actions.iter().any(|a| a["id"] == published["id"]),
        "{published}"
    );

    // The audit chain holds.
    let (status, verify) = book.call("GET", "/v1/audit/verify", &key, None);
    assert_eq!(
        (status, verify["intact"].as_bool()),
        (200, Some(true)),
        "{verify}"
    );
}
