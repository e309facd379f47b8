//! A loan written off (charged off) through the HTTP API: what is charged off by component,
//! the loan leaving the active book (no more closes, its pending contacts cancelled), a later
//! payment kept as a recovery, and the portfolio telling the write-off from a cure; every
//! figure worked by hand. The tenant charges a late fee, so the write-off carries one.

use postloan_tests::{Book, RedisServer};
use serde_json::{Value, json};

fn loan(id: &str, principal: &str) -> Value {
    json!({
        "id": id,
        "borrower": { "id": format!("B-{id}"), "profile": {
            "name": "Sun Li", "language": "zh-CN", "time_zone": "Asia/Shanghai",
            "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
        } },
        "currency": "CNY",
        "disbursed_on": "2025-12-10",
        "installments": [{ "seq": 1, "due_date": "2026-01-10", "principal": principal, "interest": "0" }]
    })
}

fn pending_actions_of(book: &Book, key: &str, status: &str, loan: &str) -> usize {
    let (_, body) = book.call(
        "GET",
        &format!("/v1/actions?status={status}&limit=1000"),
        key,
        None,
    );
    let items = body["items"].as_array().cloned().unwrap_or_default();
    items.iter().filter(|a| a["loan_id"] == loan).count()
}

#[test]
fn a_written_off_loan_leaves_the_book_and_its_payments_are_recoveries() {
    let redis = RedisServer::start();
    let book = Book::start("book-write-off", &redis);
    let settings = json!({ "policy": { "late_fee": { "days_late": 10, "amount": "50.00" } } });
    let key = book.create_tenant("losses", settings);
    for (id, principal) in [("W1", "1000.00"), ("C1", "500.00")] {
        let (status, body) = book.call("POST", "/v1/loans", &key, Some(loan(id, principal)));
        assert_eq!(status, 201, "{body}");
    }

    // Both fall due 2026-01-10 unpaid: on 2026-01-31 each is 21 days past due (M1), and each
    // was charged the 50.00 late fee at the end of 2026-01-20, 10 days late.
    book.close(&key, "2026-01-31");
    assert!(
        pending_actions_of(&book, &key, "pending", "W1") > 0,
        "W1 is being collected"
    );

    // W1 is written off on 2026-02-01: it owes its 1000.00 principal and the 50.00 fee.
    let write_off = json!({ "reason": "borrower unreachable, uncollectable", "on": "2026-02-01" });
    let path = "/v1/loans/W1/write-off";
    let (status, body) = book.call("POST", path, &key, Some(write_off.clone()));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["standing"]["status"], "written_off");
    // The same write-off again (a retry) is acknowledged and applied once; another is refused.
    let (status, again) = book.call("POST", path, &key, Some(write_off));
    assert_eq!(
        (status, again["applied"].as_bool()),
        (200, Some(false)),
        "{again}"
    );
    let other = json!({ "reason": "fraud", "on": "2026-02-01" });
    let (status, refused) = book.call("POST", path, &key, Some(other));
    assert_eq!(
        (status, refused["field"].as_str()),
        (409, Some("status")),
        "{refused}"
    );
    let refused_on = |body: Value| {
        let (status, problem) = book.call("POST", "/v1/loans/C1/write-off", &key, Some(body));
        (
            status,
            problem["field"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(
        refused_on(json!({ "reason": " " })),
        (400, "reason".to_owned())
    );
    assert_eq!(
        refused_on(json!({ "reason": "later", "on": "2200-01-01" })),
        (400, "on".to_owned()),
        "not after today"
    );
    // Nothing but payments (recoveries), reversals and outcomes is taken by W1 now; and a
    // recovery comes after the write-off.
    let promise = json!({ "id": "W1-PR", "amount": "10.00", "date": "2026-02-20" });
    let (status, _) = book.call("POST", "/v1/loans/W1/promises", &key, Some(promise));
    assert_eq!(status, 409);
    let early = json!({ "id": "W1-E", "value_date": "2026-02-01", "amount": "10.00" });
    let (status, problem) = book.call("POST", "/v1/loans/W1/payments", &key, Some(early));
    assert_eq!(
        (status, problem["field"].as_str()),
        (409, Some("value_date")),
        "{problem}"
    );

    let (_, view) = book.call("GET", "/v1/loans/W1?as_of=2026-02-15", &key, None);
    let charged = &view["write_off"]["charged_off"];
    assert_eq!(
        [
            &charged["principal"],
            &charged["interest"],
            &charged["fees"],
            &charged["penalty"],
            &charged["total"]
        ],
        ["1000.00", "0.00", "50.00", "0.00", "1050.00"],
        "{view}"
    );
    assert_eq!(view["write_off"]["on"], "2026-02-01");
    // Its pending contacts are cancelled: no more reminders or collection work.
    assert_eq!(pending_actions_of(&book, &key, "pending", "W1"), 0);
    assert!(pending_actions_of(&book, &key, "cancelled", "W1") > 0);

    // 300.00 received on W1 on 2026-02-10 is a recovery, not applied to the old schedule;
    // C1 pays all it owes on 2026-02-05: 500.00 principal and its 50.00 fee.
    let pay = |loan: &str, id: &str, date: &str, amount: &str| {
        let body = json!({ "id": id, "value_date": date, "amount": amount });
        let (status, answer) = book.call(
            "POST",
            &format!("/v1/loans/{loan}/payments"),
            &key,
            Some(body),
        );
        assert_eq!(status, 201, "{answer}");
        answer
    };
    let recovery = pay("W1", "W1-R1", "2026-02-10", "300.00");
    assert_eq!(recovery["standing"]["status"], "written_off");
    assert_eq!(recovery["new_actions"], 0);
    pay("C1", "C1-P1", "2026-02-05", "550.00");
    let (_, view) = book.call("GET", "/v1/loans/W1?as_of=2026-02-15", &key, None);
    assert_eq!(view["write_off"]["recovered"], "300.00");
    assert_eq!(view["write_off"]["recoveries"], 1);
    assert_eq!(
        view["assessment"]["outstanding"]["total"], "1050.00",
        "the recovery is kept apart"
    );
    // A recovery taken back counts no more: 50.00 on 2026-02-12, then reversed.
    pay("W1", "W1-R2", "2026-02-12", "50.00");
    let (status, body) = book.call("POST", "/v1/loans/W1/payments/W1-R2/reversal", &key, None);
    assert_eq!(status, 201, "{body}");
    let (_, view) = book.call("GET", "/v1/loans/W1?as_of=2026-02-15", &key, None);
    assert_eq!(view["write_off"]["recovered"], "300.00", "{view}");
    assert_eq!(view["write_off"]["recoveries"], 1);

    // The closes up to 2026-02-28 no longer run over W1 (only C1), and plan nothing for it.
    let run = book.close(&key, "2026-02-28");
    let jobs = run["jobs"].as_array().cloned().unwrap_or_default();
    assert!(!jobs.is_empty(), "{run}");
    assert!(jobs.iter().all(|job| job["processed"] == 1), "{run}");
    assert_eq!(pending_actions_of(&book, &key, "pending", "W1"), 0);

    // From 2026-01-31 to 2026-02-28: M1 held W1 (1000.00) and C1 (500.00). W1's balance went
    // to written off; only C1 cured: 500 / 1500 = 0.3333. Losses: 1000.00 principal charged
    // off and 300.00 recovered in the period, over the 1500.00 book of 2026-01-31: gross
    // 1000 / 1500 = 0.6667, net 700 / 1500 = 0.4667; recovery rate 300 / 1050 = 0.2857.
    let (status, flows) = book.call(
        "GET",
        "/v1/portfolio/flows?from=2026-01-31&to=2026-02-28",
        &key,
        None,
    );
    assert_eq!(status, 200, "{flows}");
    let m1 = flows["roll_rates"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["bucket"] == "M1"))
        .expect("an M1 row");
    assert_eq!(m1["balance"], "1500.00", "{flows}");
    assert_eq!(m1["amounts"]["written_off"], "1000.00");
    assert_eq!(flows["cured_balance"], "500.00");
    assert_eq!(flows["cure_rate"], "0.3333");
    let losses = &flows["losses"];
    assert_eq!(losses["charged_off_principal"], "1000.00");
    assert_eq!(losses["recovered"], "300.00");
    assert_eq!(losses["gross_charge_off_rate"], "0.6667");
    assert_eq!(losses["net_charge_off_rate"], "0.4667");
    assert_eq!(losses["recovery_rate"], "0.2857");
    // The book at the end of 2026-02-28 no longer holds W1; its write-off is counted apart.
    let (_, summary) = book.call("GET", "/v1/portfolio?date=2026-02-28", &key, None);
    let off = &summary["written_off"];
    assert_eq!(off["loans"], 1, "{summary}");
    assert_eq!(off["charged_off_principal"], "1000.00");
    assert_eq!(off["recovered"], "300.00");
    assert_eq!(off["recovery_rate"], "0.2857");
    let (_, before) = book.call("GET", "/v1/portfolio?date=2026-01-31", &key, None);
    assert_eq!(before["written_off"]["loans"], 0, "{before}");
}

#[test]
fn the_close_writes_a_loan_off_at_the_policys_days_in_arrears() {
    // The close moves a loan's standing only on a date not before the one it was last
    // assessed for, and booking assesses it today: so this book's dates are today's.
    let today = chrono::Utc::now().date_naive();
    let day = |back: u64| (today - chrono::Days::new(back)).to_string();
    let redis = RedisServer::start();
    let book = Book::start("book-charge-off", &redis);
    let key = book.create_tenant(
        "charge-off",
        json!({ "charge_off": { "days_in_arrears": 30 } }),
    );
    let mut body = loan("A1", "1000.00");
    body["disbursed_on"] = json!(day(60));
    body["installments"][0]["due_date"] = json!(day(30));
    let (status, answer) = book.call("POST", "/v1/loans", &key, Some(body));
    assert_eq!(status, 201, "{answer}");
    let (_, tenant) = book.call("GET", "/v1/tenant", &key, None);
    assert_eq!(
        tenant["settings"]["charge_off"]["days_in_arrears"], 30,
        "{tenant}"
    );
    let never = json!({ "charge_off": { "days_in_arrears": 0 } });
    let (status, refused) = book.call("PUT", "/v1/tenant/settings", &key, Some(never));
    assert_eq!(
        (status, refused["field"].as_str()),
        (400, Some("settings.charge_off.days_in_arrears")),
        "{refused}"
    );

    // Due 30 days ago, unpaid: yesterday 29 days in arrears (no grace days), in the book.
    book.close(&key, &day(1));
    let (_, yesterday) = book.call("GET", &format!("/v1/portfolio?date={}", day(1)), &key, None);
    assert_eq!(yesterday["totals"]["loans"], 1, "{yesterday}");

    // Today 30: the close writes it off, and it leaves the book at the end of today.
    let run = book.close(&key, &day(0));
    assert_eq!(run["jobs"][0]["processed"], 1, "{run}");
    let (_, view) = book.call("GET", "/v1/loans/A1", &key, None);
    assert_eq!(view["standing"]["status"], "written_off", "{view}");
    assert_eq!(view["standing"]["written_off_on"], day(0));
    let write_off = &view["write_off"];
    assert_eq!(write_off["by"], "pipeline");
    assert_eq!(write_off["charged_off"]["principal"], "1000.00");
    assert_eq!(write_off["charged_off"]["total"], "1000.00");
    let reason = write_off["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("30 days in arrears, at least 30"),
        "{reason}"
    );
    assert_eq!(pending_actions_of(&book, &key, "pending", "A1"), 0);
    let (_, now) = book.call("GET", &format!("/v1/portfolio?date={}", day(0)), &key, None);
    assert_eq!(now["totals"]["loans"], 0, "{now}");
}

#[test]
fn a_close_caught_up_after_a_write_off_still_counts_the_loan_before_it() {
    let redis = RedisServer::start();
    let book = Book::start("book-write-off-catch-up", &redis);
    let key = book.create_tenant("catch-up", json!({}));
    for (id, principal) in [("W2", "1000.00"), ("C2", "500.00")] {
        let (status, body) = book.call("POST", "/v1/loans", &key, Some(loan(id, principal)));
        assert_eq!(status, 201, "{body}");
    }
    // The close of 2026-01-31 has not run when W2 is written off on 2026-02-01.
    let write_off = json!({ "reason": "uncollectable", "on": "2026-02-01" });
    let (status, body) = book.call("POST", "/v1/loans/W2/write-off", &key, Some(write_off));
    assert_eq!(status, 201, "{body}");

    // Caught up, the close of 2026-01-31 counts W2, as it stood that day (21 days past due,
    // 1000.00 outstanding), and changes nothing else of it.
    let run = book.close(&key, "2026-01-31");
    assert_eq!(run["jobs"][0]["processed"], 2, "{run}");
    let (_, portfolio) = book.call("GET", "/v1/portfolio?date=2026-01-31", &key, None);
    assert_eq!(portfolio["totals"]["loans"], 2, "{portfolio}");
    assert_eq!(
        portfolio["totals"]["outstanding_principal"], "1500.00",
        "{portfolio}"
    );
    let (_, view) = book.call("GET", "/v1/loans/W2", &key, None);
    assert_eq!(view["standing"]["status"], "written_off", "{view}");
    assert_eq!(pending_actions_of(&book, &key, "pending", "W2"), 0);
    assert!(
        pending_actions_of(&book, &key, "pending", "C2") > 0,
        "C2 is collected"
    );
}
