//! What the workbench reads and how it is served: the portfolio trend, the queue list and
//! its filters, the list of runs, the loan card's allocations, contacts, actions and next contact window,
//! the web component's files; and the workbench itself in headless Chromium
//! (web/tests/workbench.mjs).

use std::process::Command;

use chrono::{Days, Utc};
use postloan_tests::{Book, PLATFORM_TOKEN, RedisServer, root};
use serde_json::{Value, json};

fn loan(id: &str, installments: Value) -> Value {
    json!({
        "id": id,
        "borrower": { "id": format!("B-{id}"), "id_number": "110101199003071234", "profile": {
            "name": "张伟", "language": "zh-CN", "time_zone": "Asia/Shanghai",
            "contact_points": [
                { "channel": "sms", "address": "+8613800138000" },
                { "channel": "voice_call", "address": "+8613800138000" }
            ]
        } },
        "currency": "CNY",
        "disbursed_on": "2025-12-15",
        "installments": installments
    })
}

/// W1 owes 1000.00 due 2026-01-15 and never pays; W2 owes 500.00 on 2026-01-15, paid that
/// day, and 500.00 on 2026-03-15. Booked and paid by events of their dates, so that the
/// standing is the closes' (a loan booked over HTTP is assessed at today's date); closed
/// on 2026-01-20, then every date to 2026-02-20.
fn two_loans_closed(book: &Book, key: &str, tenant: &str) {
    let event = |id: &str, kind: &str, on: &str, data: Value| {
        let body = json!({ "id": id, "tenant": tenant, "type": kind, "occurred_at": format!("{on}T02:00:00Z"), "data": data });
        let (status, answer) = book.call("POST", "/v1/events", key, Some(body));
        assert_eq!(status, 201, "{id}: {answer}");
    };
    event(
        "w1",
        "loan.created",
        "2025-12-15",
        loan(
            "W1",
            json!([{ "seq": 1, "due_date": "2026-01-15", "principal": "1000.00", "interest": "0" }]),
        ),
    );
    event(
        "w2",
        "loan.created",
        "2025-12-15",
        loan(
            "W2",
            json!([
                { "seq": 1, "due_date": "2026-01-15", "principal": "500.00", "interest": "0" },
                { "seq": 2, "due_date": "2026-03-15", "principal": "500.00", "interest": "0" }
            ]),
        ),
    );
    event(
        "p1",
        "payment.posted",
        "2026-01-15",
        json!({ "loan_id": "W2", "id": "P1", "value_date": "2026-01-15", "amount": "500.00" }),
    );
    book.close(key, "2026-01-20");
    book.close(key, "2026-02-20");
}

#[test]
fn the_trend_queues_and_runs_read_the_closed_book() {
    let redis = RedisServer::start();
    let book = Book::start("book-workbench-trend", &redis);
    let key = book.create_tenant(
        "trend",
        json!({ "contact": { "escalation": { "high_risk_tiers": [] } } }),
    );
    two_loans_closed(&book, &key, "trend");

    // The book is W1's 1000.00 and W2's 500.00 on every date: 1500.00. W1 is overdue from
    // 2026-01-16: 1000 / 1500 = 0.6667 overdue. PAR30 counts it once more than 30 days past
    // due: 30 DPD on 2026-02-14 (16 days of January, 14 of February), 31 on 2026-02-15.
    let (status, trend) = book.call(
        "GET",
        "/v1/portfolio/trend?from=2026-01-01&to=2026-02-20",
        &key,
        None,
    );
    assert_eq!(status, 200, "{trend}");
    let points = trend["points"].as_array().expect("points");
    assert_eq!(
        points.len(),
        32,
        "2026-01-20 and the 31 dates to 2026-02-20"
    );
    let point = |date: &str| {
        points
            .iter()
            .find(|p| p["business_date"] == date)
            .unwrap_or_else(|| panic!("{date} in {trend}"))
    };
    let first = point("2026-01-20");
    assert_eq!(points[0], *first, "oldest first");
    assert_eq!(first["loans"], 2);
    assert_eq!(first["outstanding_principal"], "1500.00");
    assert_eq!(first["overdue_amount"], "1000.00");
    assert_eq!(first["overdue_rate"], "0.6667");
    assert_eq!(first["par30"], "0.0000");
    assert_eq!(point("2026-02-14")["par30"], "0.0000");
    assert_eq!(point("2026-02-15")["par30"], "0.6667");
    let last = &points[31];
    assert_eq!(last["business_date"], "2026-02-20");
    assert_eq!(last["par90"], "0.0000");
    // 36 DPD is special mention in China's five categories: not non-performing.
    assert_eq!(last["npl_ratio"], "0.0000");

    let (status, csv) = book.call_text(
        "GET",
        "/v1/portfolio/trend?from=2026-02-15&to=2026-02-15&format=csv",
        &key,
        None,
    );
    assert_eq!(status, 200, "{csv}");
    assert_eq!(
        csv,
        "business_date,loans,outstanding_principal,overdue_amount,par30,par90,npl_ratio,overdue_rate\n\
         2026-02-15,2,1500.00,1000.00,0.6667,0.0000,0.0000,0.6667\n"
    );
    for (query, field) in [
        ("from=2026-02-20&to=2026-02-19", "to"),
        ("from=2025-01-01&to=2026-01-03", "to"),
        ("to=2026-02-19", "from"),
    ] {
        let (status, problem) =
            book.call("GET", &format!("/v1/portfolio/trend?{query}"), &key, None);
        assert_eq!(
            (status, &problem["field"]),
            (400, &json!(field)),
            "{query}: {problem}"
        );
    }

    // Only W1 is behind: one queue, one loan, 36 days past due.
    let (_, w1) = book.call("GET", "/v1/loans/W1", &key, None);
    let queue = w1["standing"]["queue"]
        .as_str()
        .unwrap_or_else(|| panic!("W1 is in a queue: {w1}"));
    let stage = w1["standing"]["stage"].as_str().expect("W1 has a stage");
    let (status, queues) = book.call("GET", "/v1/queues", &key, None);
    assert_eq!(status, 200, "{queues}");
    assert_eq!(
        queues["items"],
        json!([{ "queue": queue, "loans": 1, "max_dpd": 36 }])
    );
    let in_queue = |filters: &str| {
        let (status, page) = book.call("GET", &format!("/v1/queues/{queue}?{filters}"), &key, None);
        assert_eq!(status, 200, "{filters}: {page}");
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["loan_id"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(in_queue("min_dpd=36"), ["W1"]);
    assert!(in_queue("min_dpd=37").is_empty());
    assert_eq!(in_queue(&format!("stage={stage}&bucket=M2")), ["W1"]);
    assert!(in_queue("bucket=M1").is_empty(), "36 DPD is M2");
    assert!(
        in_queue("bucket=M6%2B").is_empty(),
        "the worst bucket is a bucket"
    );
    for (filter, field) in [
        ("min_dpd=-1", "min_dpd"),
        ("stage=a%20b", "stage"),
        ("stage=nowhere", "stage"),
        ("tier=F", "tier"),
    ] {
        let (status, problem) =
            book.call("GET", &format!("/v1/queues/{queue}?{filter}"), &key, None);
        assert_eq!(
            (status, &problem["field"]),
            (400, &json!(field)),
            "{problem}"
        );
    }

    // The runs, the latest date first.
    let (status, runs) = book.call("GET", "/v1/jobs?limit=3", &key, None);
    assert_eq!(status, 200, "{runs}");
    let dates: Vec<&str> = runs["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["business_date"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(dates, ["2026-02-20", "2026-02-19", "2026-02-18"]);
    assert_eq!(runs["items"][0]["status"], "completed");
    assert_eq!(runs["items"][0]["processed"], 2);
    let (_, all) = book.call("GET", "/v1/jobs", &key, None);
    assert_eq!(
        all["items"].as_array().map(Vec::len),
        Some(20),
        "20 by default"
    );
    let (status, problem) = book.call("GET", "/v1/jobs?limit=101", &key, None);
    assert_eq!((status, &problem["field"]), (400, &json!("limit")));

    // The audit log's latest entries, newest first: the last thing done was completing the
    // close of 2026-02-20, after it the one of 2026-02-19.
    let (status, latest) = book.call(
        "GET",
        "/v1/audit?before=9223372036854775807&limit=3",
        &key,
        None,
    );
    assert_eq!(status, 200, "{latest}");
    let entries = latest["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["action"], "close_of_business.completed");
    assert_eq!(entries[0]["detail"]["business_date"], "2026-02-20");
    let seqs: Vec<i64> = entries
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    let (_, first) = book.call("GET", "/v1/audit?limit=2", &key, None);
    assert_eq!(first["entries"][0]["action"], "tenant.created", "{first}");
    assert_eq!(first["entries"].as_array().map(Vec::len), Some(2));
    let (status, problem) = book.call("GET", "/v1/audit?after=1&before=9", &key, None);
    assert_eq!((status, &problem["field"]), (400, &json!("before")));
}

#[test]
fn a_loan_card_shows_its_contacts_actions_and_next_contact_window() {
    let redis = RedisServer::start();
    let book = Book::start("book-workbench-card", &redis);
    let key = book.create_tenant("card", json!({}));
    // Due five days before today, unpaid, and closed today: the close plans the reminder
    // for tomorrow in the borrower's zone, inside cn_2025's window of 08:00 to 22:00. The
    // loan, its payment and a contact outcome arrive as events of the due date, so what they
    // plan falls on that day, long past, whatever the hour of the test (a change over HTTP
    // plans from the wall clock).
    let today = Utc::now().date_naive();
    let due = today - Days::new(5);
    let tomorrow = today + Days::new(1);
    let event = |id: &str, kind: &str, data: Value| {
        let body = json!({ "id": id, "tenant": "card", "type": kind, "occurred_at": format!("{due}T02:00:00Z"), "data": data });
        let (status, answer) = book.call("POST", "/v1/events", &key, Some(body));
        assert_eq!(status, 201, "{id}: {answer}");
    };
    event(
        "c1",
        "loan.created",
        loan(
            "C1",
            json!([{ "seq": 1, "due_date": due.to_string(), "principal": "1000.00", "interest": "0" }]),
        ),
    );
    // 400.00 paid on the due date goes to installment 1's principal: it has no interest or
    // fees, and no penalty has accrued.
    event(
        "p1",
        "payment.posted",
        json!({ "loan_id": "C1", "id": "P1", "value_date": due.to_string(), "amount": "400.00" }),
    );
    event(
        "o1",
        "contact.outcome",
        json!({ "loan_id": "C1", "channel": "voice_call", "at": "2026-03-01T03:00:00Z", "outcome": "no_answer" }),
    );
    book.close(&key, &today.to_string());

    let (status, card) = book.call("GET", "/v1/loans/C1", &key, None);
    assert_eq!(status, 200, "{card}");
    assert_eq!(
        card["contacts"][0],
        json!({ "loan_id": "C1", "channel": "voice_call", "at": "2026-03-01T03:00:00Z", "outcome": "no_answer" })
    );
    // Lent in CNY: the sum written with the currency's two decimals.
    assert_eq!(card["standing"]["principal"], "1000.00");
    assert_eq!(
        card["allocations"],
        json!([{
            "payment_id": "P1", "value_date": due.to_string(), "amount": "400.00",
            "applied": [{ "seq": 1, "paid": {
                "principal": "400.00", "interest": "0.00", "fees": "0.00", "penalty": "0.00", "total": "400.00"
            } }],
            "unapplied": "0.00"
        }])
    );
    let actions = card["actions"].as_array().expect("actions");
    assert!(!actions.is_empty(), "the close planned for C1: {card}");
    let ids: Vec<i64> = actions
        .iter()
        .map(|a| a["id"].as_i64().expect("an id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert!(actions.iter().all(|a| a["loan_id"] == "C1"));

    let window = &card["contact_window"];
    assert_eq!(window["time_zone"], "Asia/Shanghai");
    let sms = window["channels"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["channel"] == "sms"))
        .unwrap_or_else(|| panic!("an SMS window: {window}"));
    assert_eq!(sms["not_before"], format!("{tomorrow}T08:00:00+08:00"));
    assert_eq!(sms["not_after"], format!("{tomorrow}T22:00:00+08:00"));
    let planned = actions
        .iter()
        .find(|a| a["id"] == sms["action_id"])
        .expect("the window's action is on the card");
    assert_eq!(planned["channel"], "sms");
    assert_eq!(planned["status"], "pending");

    // Acknowledged, the reminder is no longer to come.
    let (status, body) = book.call(
        "POST",
        &format!("/v1/actions/{}/ack", sms["action_id"]),
        &key,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let (_, card) = book.call("GET", "/v1/loans/C1", &key, None);
    let channels = card["contact_window"]["channels"]
        .as_array()
        .expect("channels");
    assert!(
        channels.iter().all(|c| c["action_id"] != sms["action_id"]),
        "{channels:?}"
    );
}

/// `GET path` without a key, with `headers`: the status, the headers asked for, the body.
fn fetch(
    book: &Book,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::blocking::Client::builder()
        .no_gzip()
        .build()
        .expect("a client");
    let mut request = client.get(book.host.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().expect("the host answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().expect("a body").to_vec())
}

#[test]
fn the_workbench_is_served_beside_the_api_compressed_and_cached() {
    let redis = RedisServer::start();
    let book = Book::start("book-workbench-files", &redis);
    let head = reqwest::blocking::Client::new()
        .head(book.host.url("/"))
        .send()
        .expect("the host answers HEAD");
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(head.bytes().expect("no body").len(), 0);
    let (status, headers, page) = fetch(&book, "/", &[]);
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    let page = String::from_utf8(page).expect("HTML");
    let built = std::fs::read_to_string(root().join("web/dist/index.html")).expect("web/dist");
    assert_eq!(page, built, "the built page, byte for byte");

    // The page's script, named by its hash: kept a year, gzipped for who accepts it.
    let script = page
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("a script under /assets/ in {page}"))
        .to_owned();
    let (status, headers, zipped) = fetch(&book, &script, &[("accept-encoding", "gzip")]);
    assert_eq!(status, 200);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    let plain = std::fs::read(root().join(format!("web/dist{script}"))).expect("the built script");
    assert!(
        zipped.len() < plain.len(),
        "{} < {}",
        zipped.len(),
        plain.len()
    );
    let (_, headers, body) = fetch(&book, &script, &[]);
    assert!(headers.get("content-encoding").is_none());
    assert_eq!(body, plain);

    let etag = headers["etag"].to_str().expect("an entity tag").to_owned();
    let (status, _, body) = fetch(&book, &script, &[("if-none-match", &etag)]);
    assert_eq!((status, body.len()), (304, 0));

    let (status, headers, body) = fetch(&book, "/no-such-page", &[]);
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/problem+json");
    let problem: Value = serde_json::from_slice(&body).expect("a problem body");
    assert_eq!(problem["status"], 404);
    // The api keeps /v1.
    let (status, _, body) = fetch(&book, "/v1/health", &[]);
    let health: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!((status, health), (200, json!({ "status": "ok" })));
}

#[test]
fn the_workbench_in_chromium_signs_in_each_role_and_works_the_book() {
    let redis = RedisServer::start();
    let book = Book::start("book-workbench-browser", &redis);
    let screenshots = root().join("target/workbench-screenshots");
    let status = Command::new("node")
        .arg("tests/workbench.mjs")
        .current_dir(root().join("web"))
        .env("POSTLOAN_URL", book.host.url(""))
        .env("POSTLOAN_PLATFORM_TOKEN", PLATFORM_TOKEN)
        .env("POSTLOAN_SCREENSHOTS", &screenshots)
        .status()
        .expect("node runs web/tests/workbench.mjs (scripts/test installs Node's packages and chromium)");
    assert!(
        status.success(),
        "the browser test failed ({status}); screenshots in {}",
        screenshots.display()
    );
}
