//! Contagion in the book: with the tenant's `policy.contagion`, a borrower's loans stand at
//! the worst classification among them in the standing, the close's snapshots and the
//! portfolio; and the borrower view totals what the borrower owes per currency.

use postloan_tests::{Book, RedisServer};
use serde_json::{Value, json};

fn loan(id: &str, borrower: &str, disbursed_on: &str, due: &str, principal: &str) -> Value {
    json!({
        "id": id,
        "borrower": { "id": borrower, "profile": { "name": "王芳", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
        "currency": "CNY",
        "disbursed_on": disbursed_on,
        "installments": [{ "seq": 1, "due_date": due, "principal": principal, "interest": "0" }]
    })
}

#[test]
fn a_borrowers_worst_loan_raises_the_others_in_the_book_and_the_portfolio() {
    let redis = RedisServer::start();
    let book = Book::start("book-contagion", &redis);
    let key = book.create_tenant("contagion", json!({ "policy": { "contagion": true } }));
    for (n, body) in [
        // 1000.00 due 2026-01-10: 95 days past due on 2026-04-15, substandard (91–270).
        loan("A1", "CB", "2026-01-01", "2026-01-10", "1000.00"),
        // The same borrower's second loan, not due until 2026-05-01: normal on its own.
        loan("A2", "CB", "2026-03-01", "2026-05-01", "500.00"),
        // Another borrower's loan, normal.
        loan("B1", "OB", "2026-03-01", "2026-05-01", "800.00"),
    ]
    .into_iter()
    .enumerate()
    {
        let event = json!({
            "id": format!("e{n}"), "tenant": "contagion", "type": "loan.created",
            "occurred_at": format!("{}T02:00:00Z", body["disbursed_on"].as_str().unwrap()),
            "data": body
        });
        let (status, answer) = book.call("POST", "/v1/events", &key, Some(event));
        assert_eq!(status, 201, "{answer}");
    }
    book.close(&key, "2026-04-15");

    let classes = |id: &str| {
        let (status, view) = book.call("GET", &format!("/v1/loans/{id}"), &key, None);
        assert_eq!(status, 200, "{view}");
        let standing = &view["standing"];
        (
            standing["classification"].clone(),
            standing["own_classification"].clone(),
        )
    };
    assert_eq!(classes("A1"), (json!("substandard"), json!("substandard")));
    assert_eq!(classes("A2"), (json!("substandard"), json!("normal")));
    assert_eq!(classes("B1"), (json!("normal"), json!("normal")));

    // Non-performing principal over the book: (1000.00 + 500.00) / 2300.00 = 0.65217… → 0.6522
    // (without contagion it would be 1000.00 / 2300.00 = 0.4348).
    let (status, portfolio) = book.call("GET", "/v1/portfolio?date=2026-04-15", &key, None);
    assert_eq!(status, 200, "{portfolio}");
    assert_eq!(portfolio["npl_ratio"], "0.6522");

    // A1 repaid: the borrower's worst is now A2's own, normal, and A2 is lowered again.
    let payment = json!({
        "id": "e9", "tenant": "contagion", "type": "payment.posted", "occurred_at": "2026-04-16T02:00:00Z",
        "data": { "loan_id": "A1", "id": "P1", "value_date": "2026-04-16", "amount": "1000.00" }
    });
    let (status, answer) = book.call("POST", "/v1/events", &key, Some(payment));
    assert_eq!(status, 201, "{answer}");
    assert_eq!(classes("A2"), (json!("normal"), json!("normal")));
}

#[test]
fn the_borrower_view_totals_exposure_and_overdue_per_currency() {
    let redis = RedisServer::start();
    let book = Book::start("borrower-totals", &redis);
    let key = book.create_tenant("totals", json!({}));
    let installment = |due: &str, principal: &str| json!([{ "seq": 1, "due_date": due, "principal": principal, "interest": "0", "fees": "0" }]);
    let (status, body) = book.call(
        "POST",
        "/v1/assess/borrower",
        &key,
        Some(json!({
            "as_of": "2026-04-15",
            "loans": [
                { "id": "A1", "currency": "CNY", "installments": installment("2026-01-10", "1000.00") },
                { "id": "A2", "currency": "CNY", "installments": installment("2026-05-01", "500.50") },
                { "id": "U1", "currency": "USD", "installments": installment("2026-04-01", "80.25") }
            ]
        })),
    );
    assert_eq!(status, 200, "{body}");
    // CNY: 1000.00 + 500.50 outstanding, 1000.00 of it overdue; USD: 80.25, all overdue.
    assert_eq!(
        body["totals"],
        json!([
            { "currency": "CNY", "outstanding": "1500.50", "overdue": "1000.00" },
            { "currency": "USD", "outstanding": "80.25", "overdue": "80.25" }
        ])
    );
    assert_eq!(body["worst_classification"], "substandard");
}
