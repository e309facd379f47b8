//! `/v1/assess` and `/v1/health` over real HTTP, through postloan-host serving spin.toml:
//! the api component calling the overdue component that spin.toml plugs into it.

use postloan_tests::{Host, post, root};
use serde_json::{Value, json};

fn host() -> Host {
    Host::start(&root().join("spin.toml"))
}

/// Three monthly installments: 1000.00 principal each, interest 50.00 / 40.00 / 30.00,
/// fees 10.00 each, so 1060.00, 1050.00 and 1040.00.
fn three_month_loan(payments: Value) -> Value {
    json!({
        "id": "L-1001",
        "currency": "CNY",
        "installments": [
            { "seq": 1, "due_date": "2026-01-15", "principal": "1000.00", "interest": "50.00", "fees": "10.00" },
            { "seq": 2, "due_date": "2026-02-15", "principal": "1000.00", "interest": "40.00", "fees": "10.00" },
            { "seq": 3, "due_date": "2026-03-15", "principal": "1000.00", "interest": "30.00", "fees": "10.00" }
        ],
        "payments": payments
    })
}

#[test]
fn health_answers_ok() {
    let host = host();
    let response = reqwest::blocking::get(host.url("/v1/health")).expect("the host answers");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().expect("JSON");
    assert_eq!(body["status"], "ok");
}

#[test]
fn a_partial_payment_is_measured_as_the_hand_worked_example_says() {
    let host = host();
    let request = json!({
        "as_of": "2026-03-10",
        "loan": three_month_loan(json!([
            { "id": "P1", "value_date": "2026-01-15", "amount": "1060.00" },
            { "id": "P2", "value_date": "2026-02-20", "amount": "500.00" },
            { "id": "P3", "value_date": "2026-03-12", "amount": "550.00" }
        ])),
        "policy": { "grace_days": 5 }
    });
    let (status, content_type, a) = post(&host.url("/v1/assess"), request.to_string());
    assert_eq!(status, 200, "{a}");
    assert_eq!(content_type, "application/json");
    // P1 clears installment 1. P2's 500.00 pays installment 2's fees 10.00 and interest
    // 40.00, then 450.00 principal: 550.00 principal stays unpaid. P3 is valued after as_of.
    // 2026-02-15 to 2026-03-10: 13 days left in February 2026, plus 10 = 23 days past due;
    // less 5 grace days = 18 days in arrears.
    assert_eq!(a["dpd"], 23);
    assert_eq!(a["days_in_arrears"], 18);
    assert_eq!(a["overdue_since"], "2026-02-15");
    assert_eq!(
        a["overdue"],
        json!({ "principal": "550.00", "interest": "0.00", "fees": "0.00", "penalty": "0.00", "total": "550.00" })
    );
    // Outstanding adds installment 3 (not yet due): 550.00 + 1040.00 = 1590.00.
    assert_eq!(
        a["outstanding"],
        json!({ "principal": "1550.00", "interest": "30.00", "fees": "10.00", "penalty": "0.00", "total": "1590.00" })
    );
    let statuses: Vec<&str> = a["installments"]
        .as_array()
        .expect("installments")
        .iter()
        .map(|i| i["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["paid", "overdue", "not_due"]);
    assert_eq!(a["installments"][1]["paid"]["principal"], "450.00");
    assert_eq!(a["overpaid"], "0.00");
    assert_eq!(a["explanation"][1]["rule"], "dpd.oldest-unpaid-installment");
}

#[test]
fn payments_valued_after_as_of_are_ignored() {
    let host = host();
    let payments = json!([{ "id": "P1", "value_date": "2026-01-20", "amount": "1060.00" }]);
    let before = json!({ "as_of": "2026-01-19", "loan": three_month_loan(payments.clone()) });
    let (_, _, a) = post(&host.url("/v1/assess"), before.to_string());
    // Unpaid from 2026-01-15: 4 days past due on 2026-01-19; the payment of the 20th does not count yet.
    assert_eq!(
        (a["dpd"].as_u64(), a["overdue"]["total"].as_str()),
        (Some(4), Some("1060.00"))
    );
    let after = json!({ "as_of": "2026-01-20", "loan": three_month_loan(payments) });
    let (_, _, a) = post(&host.url("/v1/assess"), after.to_string());
    assert_eq!(
        (a["dpd"].as_u64(), a["overdue"]["total"].as_str()),
        (Some(0), Some("0.00"))
    );
    assert_eq!(a["installments"][0]["days_late"], 5);
}

#[test]
fn the_readme_examples_return_exactly_what_the_readme_shows() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let requests: Vec<&str> = readme.split("<!-- example-request -->").skip(1).collect();
    assert!(requests.len() >= 2, "the README shows its examples");
    let host = host();
    for section in requests {
        let curl = first_block(section);
        let path = curl
            .split_whitespace()
            .find_map(|word| word.strip_prefix("http://127.0.0.1:3000"))
            .expect("the curl command calls the app on 127.0.0.1:3000");
        let body = curl
            .split_once("-d '")
            .and_then(|(_, rest)| rest.rsplit_once('\''))
            .map(|(body, _)| body)
            .expect("the curl command sends its body with -d '...'");
        let shown = section
            .split_once("<!-- example-response -->")
            .map(|(_, rest)| first_block(rest))
            .expect("each example request is followed by its response");
        let expected: Value = serde_json::from_str(shown).expect("the README's output is JSON");
        let (status, _, actual) = post(&host.url(path), body.to_owned());
        assert_eq!(status, 200, "{path}: {actual}");
        assert_eq!(actual, expected, "{path}");
    }
}

/// The contents of the first fenced code block in `text`.
fn first_block(text: &str) -> &str {
    let fence = text.find("```").expect("a fenced block");
    let body = &text[fence..];
    let start = body.find('\n').expect("fence line") + 1;
    let end = body[start..].find("```").expect("closing fence");
    &body[start..start + end]
}

#[test]
fn unknown_paths_and_methods_get_problem_bodies() {
    let host = host();
    let response = reqwest::blocking::get(host.url("/v1/nothing-here")).expect("answers");
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        response.json::<Value>().expect("JSON")["type"],
        "urn:postloan:problem:not-found"
    );
    let response = reqwest::blocking::get(host.url("/v1/assess")).expect("answers");
    assert_eq!(response.status().as_u16(), 405);
}

#[test]
fn penalty_interest_accrues_over_http() {
    let host = host();
    // Installment 1 (1060.00) unpaid from 2026-01-15; on 2026-02-14, 30 days at 18% a year
    // on the overdue principal 1000.00: 1000 × 0.18 × 30 / 365 = 14.7945… → 14.79.
    let request = json!({
        "as_of": "2026-02-14",
        "loan": three_month_loan(json!([])),
        "policy": { "penalty": { "annual_rate": "0.18" } }
    });
    let (status, _, a) = post(&host.url("/v1/assess"), request.to_string());
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["overdue"]["penalty"], "14.79");
    assert_eq!(a["overdue"]["total"], "1074.79");
}

#[test]
fn a_late_fee_is_charged_and_explained_over_http() {
    let host = host();
    // Installment 1 (1060.00, 10.00 of it fees) unpaid from 2026-01-15 is 10 days late at
    // the end of 2026-01-25: charged 50.00 as a fee, so on 2026-02-01 it owes 1110.00.
    let request = json!({
        "as_of": "2026-02-01",
        "loan": three_month_loan(json!([])),
        "policy": { "late_fee": { "days_late": 10, "amount": "50.00" } }
    });
    let (status, _, a) = post(&host.url("/v1/assess"), request.to_string());
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["overdue"]["fees"], "60.00");
    assert_eq!(a["overdue"]["total"], "1110.00");
    let reason = a["explanation"]
        .as_array()
        .and_then(|reasons| reasons.iter().find(|r| r["rule"] == "late-fee.fixed"))
        .expect("the late fee explained");
    assert!(
        reason["detail"]
            .as_str()
            .is_some_and(|d| d.contains("50.00 CNY on installment 1 on 2026-01-25")),
        "{reason}"
    );
}

#[test]
fn a_borrowers_worst_loan_pulls_the_others_with_contagion() {
    let host = host();
    // Loan L-1001 unpaid since 2026-01-15 is 91 days past due on 2026-04-16: substandard.
    // Loan L-2002 was paid on time: normal on its own, substandard by contagion.
    let current = json!({
        "id": "L-2002", "currency": "CNY",
        "installments": [{ "seq": 1, "due_date": "2026-04-10", "principal": "100.00", "interest": "0", "fees": "0" }],
        "payments": [{ "id": "Q1", "value_date": "2026-04-10", "amount": "100.00" }]
    });
    let request = json!({
        "as_of": "2026-04-16",
        "loans": [three_month_loan(json!([])), current],
        "policy": { "contagion": true }
    });
    let (status, _, b) = post(&host.url("/v1/assess/borrower"), request.to_string());
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["worst_classification"], "substandard");
    assert_eq!(b["loans"][0]["dpd"], 91);
    assert_eq!(b["loans"][1]["dpd"], 0);
    assert_eq!(b["loans"][1]["classification"], "substandard");
    // Each loan is scored: the one 91 days past due below the one paid on time.
    let score = |i: usize| b["loans"][i]["score"]["value"].as_i64().expect("a score");
    assert!(score(0) < score(1), "{b}");
    // A field error in the second loan names it.
    let bad = json!({ "as_of": "2026-04-16", "loans": [three_month_loan(json!([])), { "id": "", "currency": "CNY", "installments": [] }] });
    let (status, _, problem) = post(&host.url("/v1/assess/borrower"), bad.to_string());
    assert_eq!(
        (status, problem["field"].as_str()),
        (400, Some("loans[1].id")),
        "{problem}"
    );
}
