//! The manifest for hosts that run HTTP triggers only (`deploy/akamai/spin.toml`): it stays
//! the repository's app with its api alone, and on postloan-host it serves the stateless
//! routes, the book (a loan, a payment, an event through `POST /v1/events`) and the close
//! of business through `POST /v1/jobs/close-of-business`, HTTP alone.

use chrono::{NaiveDate, Utc};
use postloan_tests::{Book, map_strings, post, root, spin_toml, temp_dir};
use serde_json::{Value, json};

const MANIFEST: &str = "deploy/akamai/spin.toml";

#[test]
fn the_http_only_manifest_is_the_apps_api_alone() {
    let mut expected = toml::Value::Table(spin_toml("spin.toml"));
    let table = expected.as_table_mut().expect("a table");
    // No Redis and no cron trigger, nor the components they ran, nor Redis's address.
    let triggers = table["trigger"].as_table_mut().expect("[trigger]");
    triggers
        .remove("redis")
        .expect("spin.toml has a Redis trigger");
    triggers
        .remove("cron")
        .expect("spin.toml has a cron trigger");
    table.remove("application").expect("[application]");
    let components = table["component"].as_table_mut().expect("[component]");
    components.remove("events").expect("an events component");
    components.remove("nightly").expect("a nightly component");
    for (_, component) in components.iter_mut() {
        let component = component.as_table_mut().expect("a component");
        component.remove("build");
        // Actions are not published unless a Redis is named (the outbox holds them).
        if let Some(hosts) = component.get_mut("allowed_outbound_hosts") {
            *hosts = toml::Value::Array(Vec::new());
        }
    }
    table["variables"]["redis_address"]["default"] = toml::Value::String(String::new());
    map_strings(&mut expected, &|text| {
        text.replacen(
            "target/",
            "../../target/",
            usize::from(text.starts_with("target/")),
        )
    });
    let mut actual = toml::Value::Table(spin_toml(MANIFEST));
    let application = actual
        .as_table_mut()
        .expect("a table")
        .remove("application")
        .expect("[application]");
    assert_eq!(actual, expected);
    // The application is the same one, with no trigger settings (no Redis to listen to).
    let mut original = spin_toml("spin.toml")["application"].clone();
    original
        .as_table_mut()
        .expect("[application]")
        .remove("trigger");
    assert_eq!(application, original);
}

/// The HTTP-only manifest on postloan-host, state in a fresh folder.
fn book(name: &str) -> Book {
    Book::serve(&root().join(MANIFEST), &temp_dir(name))
}

#[test]
fn the_stateless_routes_answer_on_the_http_only_manifest() {
    let book = book("akamai-stateless");
    let health = reqwest::blocking::get(book.host.url("/v1/health")).expect("answers");
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(
        health.json::<Value>().expect("JSON"),
        json!({ "status": "ok" })
    );
    // 12000.00 at 1% a month over 3 months: 12000 × 0.01 / (1 − 1.01⁻³) = 4080.2653 →
    // 4080.27; interest 120.00, 80.40 and 40.40 on the balances left, the last installment
    // taking the principal that remains (4039.86 + 40.40 = 4080.26).
    let (status, _, schedule) = post(
        &book.host.url("/v1/schedules"),
        json!({
            "principal": "12000.00", "currency": "CNY", "annual_rate": "0.12", "term": 3,
            "frequency": "monthly", "method": "annuity", "disbursed_on": "2026-01-31",
            "day_count": "30/360"
        })
        .to_string(),
    );
    assert_eq!(status, 200, "{schedule}");
    let totals: Vec<&Value> = schedule["installments"]
        .as_array()
        .expect("installments")
        .iter()
        .map(|i| &i["total"])
        .collect();
    assert_eq!(
        totals,
        [&json!("4080.27"), &json!("4080.27"), &json!("4080.26")]
    );
    assert_eq!(schedule["total_interest"], "240.80");
    // One installment of 1000.00 due 2026-01-15, nothing paid: 24 days past due on
    // 2026-02-08, all of it overdue.
    let (status, _, assessment) = post(
        &book.host.url("/v1/assess"),
        json!({
            "as_of": "2026-02-08",
            "loan": { "id": "S1", "currency": "CNY", "installments": [
                { "seq": 1, "due_date": "2026-01-15", "principal": "1000.00", "interest": "0", "fees": "0" }
            ] }
        })
        .to_string(),
    );
    assert_eq!(status, 200, "{assessment}");
    assert_eq!(assessment["dpd"], 24);
    assert_eq!(assessment["overdue"]["total"], "1000.00");
}

#[test]
fn the_book_and_the_close_run_through_http_alone() {
    let book = book("akamai-book");
    let key = book.create_tenant("acme", json!({}));
    // Two installments: 1000.00 + 20.00 interest due 2026-02-01, 1000.00 + 10.00 due
    // 2026-03-01.
    let (status, body) = book.call(
        "POST",
        "/v1/loans",
        &key,
        Some(json!({
            "id": "A1",
            "borrower": { "id": "B1", "profile": { "name": "Chen Jie", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
            "currency": "CNY", "disbursed_on": "2026-01-01",
            "installments": [
                { "seq": 1, "due_date": "2026-02-01", "principal": "1000.00", "interest": "20.00" },
                { "seq": 2, "due_date": "2026-03-01", "principal": "1000.00", "interest": "10.00" }
            ]
        })),
    );
    assert_eq!(status, 201, "{body}");
    // The first installment paid on its due date, through the API.
    let (status, body) = book.call(
        "POST",
        "/v1/loans/A1/payments",
        &key,
        Some(json!({ "id": "P1", "value_date": "2026-02-01", "amount": "1020.00" })),
    );
    assert_eq!(status, 201, "{body}");
    // 500.00 of the second on 2026-03-05, as an event over HTTP: interest 10.00 first, then
    // 490.00 of principal, leaving 510.00.
    let event = json!({
        "id": "e-p2", "tenant": "acme", "type": "payment.posted",
        "occurred_at": "2026-03-05T09:00:00Z",
        "data": { "loan_id": "A1", "id": "P2", "value_date": "2026-03-05", "amount": "500.00" }
    });
    let (status, body) = book.call("POST", "/v1/events", &key, Some(event.clone()));
    assert_eq!(status, 201, "{body}");
    let (status, body) = book.call("POST", "/v1/events", &key, Some(event));
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("duplicate")),
        "{body}"
    );
    // A change is assessed as of today: the second installment is unpaid since 2026-03-01.
    let today = Utc::now().date_naive();
    let second_due = NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date");
    let (_, loan) = book.call("GET", "/v1/loans/A1", &key, None);
    let standing = &loan["standing"];
    assert_eq!(standing["assessed_on"], today.to_string(), "{loan}");
    assert_eq!(standing["dpd"], (today - second_due).num_days());
    assert_eq!(standing["outstanding_principal"], "510.00");
    assert_eq!(standing["overdue_amount"], "510.00");
    // The close of 2026-03-10, as a platform's scheduler calls it.
    let closed = book.close(&key, "2026-03-10");
    let jobs = closed["jobs"].as_array().expect("jobs");
    assert_eq!(
        jobs.len(),
        1,
        "a tenant's first close is its date alone: {closed}"
    );
    assert_eq!(jobs[0]["business_date"], "2026-03-10");
    assert_eq!(jobs[0]["status"], "completed");
    assert_eq!(
        (&jobs[0]["processed"], &jobs[0]["failures"]),
        (&json!(1), &json!(0))
    );
    // Its snapshot: on 2026-03-10 the loan is 9 days past due (M1) with 510.00 of principal
    // outstanding and overdue.
    let (status, portfolio) = book.call("GET", "/v1/portfolio?date=2026-03-10", &key, None);
    assert_eq!(status, 200, "{portfolio}");
    assert_eq!(
        portfolio["totals"],
        json!({ "loans": 1, "outstanding_principal": "510.00", "overdue_amount": "510.00" })
    );
    let m1 = portfolio["aging"]
        .as_array()
        .expect("aging")
        .iter()
        .find(|row| row["bucket"] == "M1")
        .expect("an M1 row");
    assert_eq!(
        (&m1["loans"], &m1["outstanding_principal"]),
        (&json!(1), &json!("510.00"))
    );
    // Closing it again changes nothing and answers at once.
    let again = book.close(&key, "2026-03-10");
    assert_eq!(again["jobs"][0]["id"], jobs[0]["id"]);
}
