//! Hostile input to the stateless routes and the loan book: huge amounts, far dates, bad
//! tenant settings, bad headers and query strings. Each is a 4xx problem naming the field,
//! nothing of it is stored, and a loan the close cannot process is shown to the lender.

use postloan_tests::{Book, Host, RedisServer, artifact, post, send};
use serde_json::{Value, json};

/// Asserts a problem body with `status` naming `field`, whose detail says `reason`.
fn assert_problem(answer: (u16, Value), status: u16, field: &str, reason: &str) {
    let (got, body) = answer;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["field"], field, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains(reason)),
        "{reason}: {body}"
    );
}

/// The largest amount postloan takes has 15 integer digits (docs/overdue.md, "Limits").
const LARGEST: &str = "999999999999999.99";
const TOO_LARGE: &str = "1000000000000000.00";
const DECIMAL_MAX: &str = "79228162514264337593543950335";

fn loan(principal: &str, id: &str) -> Value {
    json!({
        "id": id,
        "borrower": { "id": format!("B{id}"), "profile": { "name": "Zhao Lei", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
        "currency": "CNY",
        "disbursed_on": "2026-01-01",
        "installments": [
            { "seq": 1, "due_date": "2026-02-01", "principal": principal, "interest": "0" },
            { "seq": 2, "due_date": "2026-03-01", "principal": principal, "interest": "0" }
        ]
    })
}

#[test]
fn huge_amounts_are_refused_on_the_stateless_routes_and_the_largest_one_is_exact() {
    let host = Host::start(&artifact("spin.toml"));
    let assess = |principal: &str| {
        let body = json!({
            "as_of": "2026-03-05",
            "loan": {
                "id": "L1", "currency": "CNY",
                "installments": [
                    { "seq": 1, "due_date": "2026-02-01", "principal": principal, "interest": "0", "fees": "0" },
                    { "seq": 2, "due_date": "2026-03-01", "principal": principal, "interest": "0", "fees": "0" }
                ]
            }
        });
        let (status, _, json) = post(&host.url("/v1/assess"), body.to_string());
        (status, json)
    };
    for huge in [DECIMAL_MAX, "40000000000000000000000000000", TOO_LARGE] {
        assert_problem(
            assess(huge),
            400,
            "loan.installments[0].principal",
            "15 integer digits",
        );
    }
    // Two installments of the largest amount, both overdue: 1,999,999,999,999,999.98 owed,
    // every cent of it, with no overflow on the way.
    let (status, body) = assess(LARGEST);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["overdue"]["total"], "1999999999999999.98", "{body}");

    let schedule = |principal: &str, currency: &str| {
        let body = json!({ "currency": currency, "principal": principal, "annual_rate": "10", "term": 1200, "frequency": "monthly", "method": "annuity", "disbursed_on": "2026-01-01", "day_count": "30/360" });
        let (status, _, json) = post(&host.url("/v1/schedules"), body.to_string());
        (status, json)
    };
    assert_problem(
        schedule("1000000000000000000000000000", "JPY"),
        400,
        "principal",
        "15 integer digits",
    );
    // A 1,000% rate over 100 years on the largest yen amount: the annuity is the interest
    // alone to the yen (10/12 of the principal a month), and the total keeps no decimals.
    let (status, body) = schedule("999999999999999", "JPY");
    assert_eq!(status, 200, "{body}");
    let total = body["total_payable"].as_str().expect("a total");
    assert!(!total.contains('.'), "JPY has no minor unit: {total}");
    let (status, body) = schedule("999999999999999.99", "CNY");
    assert_eq!(status, 200, "{body}");
    let total = body["total_payable"].as_str().expect("a total");
    assert_eq!(
        total.split_once('.').map(|(_, cents)| cents.len()),
        Some(2),
        "{total}"
    );
}

#[test]
fn nothing_hostile_is_stored_in_the_book_and_a_failing_loan_is_listed_on_its_job() {
    let redis = RedisServer::start();
    let book = Book::start("book-hostile", &redis);
    let key = book.create_tenant("hostile", json!({}));
    let post = |path: &str, body: Value| book.call("POST", path, &key, Some(body));

    assert_problem(
        post("/v1/loans", loan(TOO_LARGE, "H0")),
        400,
        "installments[0].principal",
        "15 integer digits",
    );
    let (status, body) = post("/v1/loans", loan("1000.00", "H1"));
    assert_eq!(status, 201, "{body}");

    // Payments: huge, too fine for the currency, far dates, before disbursement.
    let payment = |id: &str, value_date: &str, amount: &str| json!({ "id": id, "value_date": value_date, "amount": amount });
    let pay = |body: Value| post("/v1/loans/H1/payments", body);
    for huge in [DECIMAL_MAX, "40000000000000000000000000000", TOO_LARGE] {
        assert_problem(
            pay(payment("P1", "2026-02-01", huge)),
            400,
            "amount",
            "15 integer digits",
        );
    }
    assert_problem(
        pay(payment("P1", "2026-02-01", "1.005")),
        400,
        "amount",
        "CNY allows 2",
    );
    for far in ["0000-01-01", "9999-12-31", "1899-12-31"] {
        assert_problem(
            pay(payment("P1", far, "5.00")),
            400,
            "value_date",
            "1900-01-01 to 2200-12-31",
        );
    }
    assert_problem(
        pay(payment("P1", "2025-12-31", "5.00")),
        400,
        "value_date",
        "before the loan was disbursed on 2026-01-01",
    );
    // The loan still takes payments: nothing above was stored.
    let (status, body) = pay(payment("P1", "2026-02-01", "5.00"));
    assert_eq!(status, 201, "{body}");
    let (status, body) = pay(payment("P2", "2026-02-02", "6.00"));
    assert_eq!(status, 201, "{body}");
    let (_, shown) = book.call("GET", "/v1/loans/H1", &key, None);
    assert_eq!(
        shown["loan"]["payments"].as_array().map(Vec::len),
        Some(2),
        "{shown}"
    );

    // Promises are amounts too; closes take business dates only.
    assert_problem(
        post(
            "/v1/loans/H1/promises",
            json!({ "id": "PR1", "amount": DECIMAL_MAX, "date": "2026-03-10" }),
        ),
        400,
        "amount",
        "15 integer digits",
    );
    assert_problem(
        book.call(
            "POST",
            "/v1/jobs/close-of-business?date=9999-12-31",
            &key,
            None,
        ),
        400,
        "date",
        "1900-01-01 to 2200-12-31",
    );

    // A payment that arrives (as an event) before its loan is booked knows no currency: up
    // to 4 decimals pass. Booked in yen, the loan is refused naming it; once it is reversed
    // (never made), the loan books.
    let event = |id: &str, kind: &str, data: Value| {
        post(
            "/v1/events",
            json!({ "id": id, "tenant": "hostile", "type": kind, "occurred_at": "2026-02-01T00:00:00Z", "data": data }),
        )
    };
    let (status, body) = event(
        "e-jp1",
        "payment.posted",
        json!({ "loan_id": "J1", "id": "JP1", "value_date": "2026-02-01", "amount": "1.5" }),
    );
    assert_eq!(status, 201, "{body}");
    let mut yen = loan("1000", "J1");
    yen["currency"] = json!("JPY");
    assert_problem(
        post("/v1/loans", yen.clone()),
        400,
        "loan.payments[0].amount",
        "JPY allows 0",
    );
    let (status, body) = event(
        "e-jp1-back",
        "payment.reversed",
        json!({ "loan_id": "J1", "payment_id": "JP1" }),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = post("/v1/loans", yen);
    assert_eq!(status, 201, "{body}");

    // The Idempotency-Key is printable ASCII of at most 255 characters.
    let with_key = |value: &[u8], id: &str| {
        let request = reqwest::blocking::Client::new()
            .post(book.host.url("/v1/loans/H1/payments"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(value).expect("a header value"),
            )
            .body(payment(id, "2026-02-03", "1.00").to_string());
        let (status, text) = send(request);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    assert_problem(
        with_key(b"k\xff\xfe", "P3"),
        400,
        "Idempotency-Key",
        "printable ASCII",
    );
    assert_problem(
        with_key(&[b'k'; 256], "P3"),
        400,
        "Idempotency-Key",
        "printable ASCII",
    );
    assert_eq!(with_key(&[b'k'; 255], "P3").0, 201);

    // A book route called with a method it does not take is a 405 naming those it takes.
    for (method, path, allowed) in [
        ("DELETE", "/v1/loans", "GET, POST are"),
        ("PATCH", "/v1/loans/H1/payments", "POST are"),
        ("GET", "/v1/tenants", "POST are"),
        ("PUT", "/v1/jobs/1", "GET are"),
    ] {
        let (status, body) = book.call(method, path, &key, None);
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(
            body["type"], "urn:postloan:problem:method-not-allowed",
            "{body}"
        );
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.ends_with(allowed)),
            "{body}"
        );
    }
    assert_eq!(book.call("GET", "/v1/loans/H1/nothing", &key, None).0, 404);

    // Query strings: a status or stage no loan has, a cursor no route gave.
    let get = |path: &str| book.call("GET", path, &key, None);
    assert_problem(get("/v1/loans?status=zombie"), 400, "status", "zombie");
    assert_problem(get("/v1/loans?stage=heaven"), 400, "stage", "heaven");
    assert_problem(
        get("/v1/loans?cursor=%00%27%20OR%201%3D1"),
        400,
        "cursor",
        "not a cursor",
    );
    assert_problem(
        get("/v1/queues/early?cursor=12:%00"),
        400,
        "cursor",
        "not a cursor",
    );
    let (status, listed) = get("/v1/loans?status=active&stage=early");
    assert_eq!(status, 200, "{listed}");

    // A loan the close cannot read (stored by an older build that took any amount) is
    // counted, listed on its job with the reason, and the rest of the book closes.
    let (status, body) = post("/v1/loans", loan("500.00", "H2"));
    assert_eq!(status, 201, "{body}");
    book.database.execute(
        "INSERT INTO payments (tenant_id, id, loan_id, value_date, amount, recorded_at)
         VALUES ('hostile', 'OLD', 'H2', '2026-02-01', $1, '2026-02-01T00:00:00Z')",
        &[DECIMAL_MAX],
    );
    let closed = book.close(&key, "2026-02-05");
    let job = closed["jobs"]
        .as_array()
        .and_then(|j| j.last())
        .expect("a job")
        .clone();
    assert_eq!(job["failures"], 1, "{closed}");
    // Processed counts every loan the run went through (H1, J1 and H2), the failing one too.
    assert_eq!(job["processed"], 3, "{closed}");
    let (status, shown) = book.call("GET", &format!("/v1/jobs/{}", job["id"]), &key, None);
    assert_eq!(status, 200, "{shown}");
    let failed = shown["failed_loans"].as_array().expect("failed loans");
    assert_eq!(failed.len(), 1, "{shown}");
    assert_eq!(failed[0]["loan_id"], "H2");
    let reason = failed[0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("payments[0].amount") && reason.contains("15 integer digits"),
        "{reason}"
    );
}

#[test]
fn tenant_settings_are_checked_by_the_policy_rules_before_they_are_kept() {
    let redis = RedisServer::start();
    let book = Book::start("book-hostile-settings", &redis);
    let key = book.create_tenant("careless", json!({}));
    let put = |settings: Value| book.call("PUT", "/v1/tenant/settings", &key, Some(settings));
    let cases = [
        (
            json!({ "policy": { "calendar": { "holidays": ["2026-02-30"], "due_date_shift": "next_working_day" } } }),
            "settings.policy.calendar.holidays[0]",
        ),
        (
            json!({ "policy": { "allocation": ["fees"] } }),
            "settings.policy.allocation",
        ),
        (
            json!({ "policy": { "allocation": ["fees", "fees", "fees", "fees", "fees", "fees", "fees", "fees", "fees"] } }),
            "settings.policy.allocation",
        ),
        (
            json!({ "policy": { "tolerance": { "amount": "abc" } } }),
            "settings.policy.tolerance.amount",
        ),
    ];
    for (settings, field) in cases {
        let (status, body) = put(settings.clone());
        assert_eq!(status, 400, "{settings}: {body}");
        assert_eq!(body["field"], field, "{settings}: {body}");
    }
    // None of it was kept: the tenant still books loans on its old settings.
    let (status, tenant) = book.call("GET", "/v1/tenant", &key, None);
    assert_eq!(status, 200, "{tenant}");
    assert_eq!(tenant["settings"]["policy"], Value::Null, "{tenant}");
    let (status, body) = book.call("POST", "/v1/loans", &key, Some(loan("100.00", "C1")));
    assert_eq!(status, 201, "{body}");
}
