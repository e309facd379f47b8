//! Restructure, re-age and the end of the road, through the book's API and events, every
//! figure worked by hand.
//!
//! The day in the life: loan D1 (CNY, no interest, default policy: buckets M0 = 0 DPD, M1
//! 1–30; China's five categories with the observation after a restructure; the default
//! ladder: early from 1 DPD, mid from 16, late from 61; a broken promise one stage up;
//! promises broken 3 days after their date), disbursed 2025-12-01 with 3 × 1000.00 due
//! 2026-01-01, 02-01 and 03-01, goes late, breaks a promise, is restructured, falls late
//! again, is written off and then recovers part of what it owed.

use postloan_tests::{Book, RedisServer};
use serde_json::{Value, json};

const TENANT: &str = "relief";

fn loan(id: &str, amount: &str, due_dates: &[&str]) -> Value {
    json!({
        "id": id,
        "borrower": { "id": format!("B-{id}"), "profile": {
            "name": "王芳", "language": "zh-CN", "time_zone": "Asia/Shanghai",
            "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
        } },
        "currency": "CNY",
        "disbursed_on": "2025-12-01",
        "installments": due_dates.iter().enumerate().map(|(i, due)| json!({
            "seq": i + 1, "due_date": due, "principal": amount, "interest": "0"
        })).collect::<Vec<_>>()
    })
}

fn event(book: &Book, key: &str, id: &str, kind: &str, day: &str, data: Value) -> Value {
    let envelope = json!({
        "id": id, "tenant": TENANT, "type": kind,
        "occurred_at": format!("{day}T02:00:00Z"), "data": data
    });
    let (status, body) = book.call("POST", "/v1/events", key, Some(envelope));
    assert_eq!(status, 201, "{kind} applied: {body}");
    body
}

fn view(book: &Book, key: &str, loan: &str, as_of: &str) -> Value {
    let (status, body) = book.call("GET", &format!("/v1/loans/{loan}?as_of={as_of}"), key, None);
    assert_eq!(status, 200, "{body}");
    body
}

/// The standing the book recorded: DPD, bucket, stage, classification and status.
fn standing(book: &Book, key: &str, loan: &str) -> (i64, String, String, String, String) {
    let s = view(book, key, loan, "2026-01-01")["standing"].clone();
    let text = |name: &str| s[name].as_str().unwrap_or_default().to_owned();
    (
        s["dpd"].as_i64().unwrap_or(-1),
        text("bucket"),
        text("stage"),
        text("classification"),
        text("status"),
    )
}

fn expect(
    dpd: i64,
    bucket: &str,
    stage: &str,
    class: &str,
    status: &str,
) -> (i64, String, String, String, String) {
    (
        dpd,
        bucket.into(),
        stage.into(),
        class.into(),
        status.into(),
    )
}

/// The stages D1's `stage_change` actions moved it to, with their business dates.
fn stage_changes(book: &Book, key: &str, loan: &str) -> Vec<(String, String)> {
    let (status, body) = book.call("GET", "/v1/actions?limit=1000", key, None);
    assert_eq!(status, 200, "{body}");
    body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|a| a["loan_id"] == loan && a["kind"] == "stage_change")
        .map(|a| {
            (
                a["business_date"].as_str().unwrap_or_default().to_owned(),
                a["detail"]["stage"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pending(book: &Book, key: &str, loan: &str) -> usize {
    let (_, body) = book.call("GET", "/v1/actions?status=pending&limit=1000", key, None);
    body["items"].as_array().map_or(0, |items| {
        items.iter().filter(|a| a["loan_id"] == loan).count()
    })
}

fn portfolio(book: &Book, key: &str, date: &str) -> Value {
    let (status, body) = book.call("GET", &format!("/v1/portfolio?date={date}"), key, None);
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn a_loan_goes_late_is_restructured_falls_late_again_is_written_off_and_recovers() {
    let redis = RedisServer::start();
    let book = Book::start("book-relief-day", &redis);
    let settings = json!({ "contact": { "escalation": { "high_risk_tiers": [] } } });
    let key = book.create_tenant(TENANT, settings);
    let d1 = loan("D1", "1000.00", &["2026-01-01", "2026-02-01", "2026-03-01"]);
    event(&book, &key, "e1", "loan.created", "2025-12-01", d1);

    // 01-10: the 01-01 installment unpaid, 9 days past due (01-02 is day 1): M1, early,
    // special mention (1 to 90 days).
    book.close(&key, "2026-01-10");
    assert_eq!(
        standing(&book, &key, "D1"),
        expect(9, "M1", "early", "special_mention", "active")
    );
    assert!(pending(&book, &key, "D1") > 0, "early reminders planned");

    // A promise made 01-11 for 1000.00 by 01-14, never kept: broken after 01-17. On 01-20,
    // 19 DPD is mid, and the broken promise moves it one stage up: late.
    let promise =
        json!({ "loan_id": "D1", "id": "PR1", "amount": "1000.00", "date": "2026-01-14" });
    event(&book, &key, "e2", "promise.made", "2026-01-11", promise);
    book.close(&key, "2026-01-20");
    assert_eq!(
        standing(&book, &key, "D1"),
        expect(19, "M1", "late", "special_mention", "active")
    );
    assert_eq!(
        view(&book, &key, "D1", "2026-01-20")["promises"][0]["status"],
        "broken"
    );

    // Restructured at the end of 01-25: the 3000.00 unpaid (installments 1 to 3) in four
    // equal principal installments of 750.00 from 02-15, at no interest. Nothing is past due
    // any more: cured, current (the next due date is 21 days away); the five-category rules
    // keep it substandard through the observation.
    let restructure = json!({
        "loan_id": "D1", "on": "2026-01-25", "reason": "hardship: income halved",
        "approved_by": "risk-officer-7", "annual_rate": "0", "term": 4,
        "frequency": "monthly", "method": "equal_principal",
        "first_due_date": "2026-02-15", "day_count": "30/360"
    });
    event(
        &book,
        &key,
        "e3",
        "loan.restructured",
        "2026-01-25",
        restructure,
    );
    assert_eq!(
        standing(&book, &key, "D1"),
        expect(0, "M0", "current", "substandard", "active")
    );
    let after = view(&book, &key, "D1", "2026-01-26");
    let made: Vec<(i64, String, String)> = after["assessment"]["installments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] != "rescheduled")
        .map(|i| {
            (
                i["seq"].as_i64().unwrap(),
                i["due_date"].as_str().unwrap().to_owned(),
                i["unpaid"]["principal"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let new = |seq: i64, due: &str| (seq, due.to_owned(), "750.00".to_owned());
    assert_eq!(
        made,
        vec![
            new(4, "2026-02-15"),
            new(5, "2026-03-15"),
            new(6, "2026-04-15"),
            new(7, "2026-05-15")
        ],
        "{after}"
    );
    assert_eq!(after["assessment"]["forborne"], true);
    assert_eq!(after["loan"]["reschedules"][0]["kind"], "restructure");
    // The history before stays: as of 01-20 it was 19 days past due on the old schedule.
    assert_eq!(
        view(&book, &key, "D1", "2026-01-20")["assessment"]["dpd"],
        19
    );

    book.close(&key, "2026-01-31");
    assert_eq!(
        standing(&book, &key, "D1"),
        expect(0, "M0", "current", "substandard", "active")
    );
    let book_0131 = portfolio(&book, &key, "2026-01-31");
    assert_eq!(book_0131["restructured"]["loans"], 1, "{book_0131}");
    assert_eq!(book_0131["re_aged"]["loans"], 0);
    assert_eq!(book_0131["totals"]["outstanding_principal"], "3000.00");

    // 02-20: installment 4 (02-15) unpaid, 5 days past due: early by DPD, one up for the
    // broken promise: mid. Late on the new schedule within the observation: doubtful.
    book.close(&key, "2026-02-20");
    assert_eq!(
        standing(&book, &key, "D1"),
        expect(5, "M1", "mid", "doubtful", "active")
    );
    // Each close catches up every business date since the last. The stage moves: late on
    // 01-18 (17 DPD is mid; the promise for 01-14 broken once 01-17, its last grace day, is
    // over: one up), current with the restructure on 01-25, pre-due on 02-12 (3 days before
    // 02-15), mid on 02-16 (1 DPD is early, one up for the broken promise). The close of
    // 01-31 catching up 01-21 to 01-24, dates before the restructure was applied, plans
    // nothing: those days are gone and the loan has moved on.
    let changes = stage_changes(&book, &key, "D1");
    for (day, stage) in [
        ("2026-01-10", "early"),
        ("2026-01-18", "late"),
        ("2026-01-25", "current"),
        ("2026-02-12", "pre_due"),
        ("2026-02-16", "mid"),
    ] {
        let change = (day.to_owned(), stage.to_owned());
        assert!(changes.contains(&change), "{change:?} in {changes:?}");
    }
    let caught_up = ["2026-01-21", "2026-01-22", "2026-01-23", "2026-01-24"];
    assert!(
        changes
            .iter()
            .all(|(day, _)| !caught_up.contains(&day.as_str())),
        "{changes:?}"
    );

    // Written off on 02-21: 3000.00 principal charged off; its pending contacts cancelled.
    let write_off = json!({ "loan_id": "D1", "reason": "restructure failed", "on": "2026-02-21" });
    event(
        &book,
        &key,
        "e4",
        "loan.written_off",
        "2026-02-21",
        write_off,
    );
    let off = view(&book, &key, "D1", "2026-02-21");
    assert_eq!(off["standing"]["status"], "written_off");
    assert_eq!(
        off["write_off"]["charged_off"]["principal"], "3000.00",
        "{off}"
    );
    assert_eq!(off["write_off"]["charged_off"]["total"], "3000.00");
    assert_eq!(pending(&book, &key, "D1"), 0);

    // 400.00 received on 03-05 is a recovery; the close of 03-10 no longer runs over D1.
    let recovery =
        json!({ "loan_id": "D1", "id": "R1", "value_date": "2026-03-05", "amount": "400.00" });
    event(&book, &key, "e5", "payment.posted", "2026-03-05", recovery);
    book.close(&key, "2026-03-10");
    assert_eq!(pending(&book, &key, "D1"), 0);
    // The book of 03-10 holds no loan; the write-off and the restructure are counted apart:
    // recovery rate 400 / 3000 = 0.1333.
    let end = portfolio(&book, &key, "2026-03-10");
    assert_eq!(end["totals"]["loans"], 0, "{end}");
    assert_eq!(end["written_off"]["loans"], 1);
    assert_eq!(end["written_off"]["charged_off_principal"], "3000.00");
    assert_eq!(end["written_off"]["recovered"], "400.00");
    assert_eq!(end["written_off"]["recovery_rate"], "0.1333");
    assert_eq!(end["restructured"]["loans"], 1);
}

#[test]
fn a_re_age_spreads_the_arrears_and_a_second_within_a_year_is_refused() {
    let redis = RedisServer::start();
    let book = Book::start("book-relief-re-age", &redis);
    let key = book.create_tenant(TENANT, json!({}));
    let (status, body) = book.call(
        "POST",
        "/v1/loans",
        &key,
        Some(loan("R1", "500.00", &["2026-01-01", "2026-02-01"])),
    );
    assert_eq!(status, 201, "{body}");
    let re_age = |body: Value| book.call("POST", "/v1/loans/R1/re-age", &key, Some(body));
    let first = json!({
        "on": "2026-01-10", "reason": "payment holiday ended", "approved_by": "team-lead-2",
        "installments": 3, "frequency": "monthly", "first_due_date": "2026-02-10"
    });

    // Refused first: a blank reason, a kind the route already says, no installments.
    let refused = |body: Value| {
        let (status, problem) = re_age(body);
        (
            status,
            problem["field"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let mut blank = first.clone();
    blank["reason"] = json!(" ");
    assert_eq!(refused(blank), (400, "reason".to_owned()));
    let mut kind = first.clone();
    kind["kind"] = json!("restructure");
    assert_eq!(refused(kind), (400, "kind".to_owned()));
    let mut none = first.clone();
    none["installments"] = json!(0);
    assert_eq!(refused(none), (400, "installments".to_owned()));
    let mut early = first.clone();
    early["first_due_date"] = json!("2026-01-10");
    assert_eq!(refused(early), (400, "first_due_date".to_owned()));

    // 1000.00 unpaid on 01-10 (01-01's 500.00 9 days late, 02-01's not due) in three
    // monthly installments from 02-10: 1000 / 3 = 333.33, 333.33 and the rest, 333.34.
    let (status, body) = re_age(first.clone());
    assert_eq!(status, 201, "{body}");
    let (status, again) = re_age(first);
    assert_eq!(
        (status, again["applied"].as_bool()),
        (200, Some(false)),
        "{again}"
    );
    let after = view(&book, &key, "R1", "2026-01-11");
    let a = &after["assessment"];
    assert_eq!(a["dpd"], 0, "{after}");
    let shares: Vec<&str> = a["installments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] != "rescheduled")
        .map(|i| i["unpaid"]["principal"].as_str().unwrap())
        .collect();
    assert_eq!(shares, ["333.33", "333.33", "333.34"], "{after}");
    assert_eq!(a["reschedules"][0]["kind"], "re_age");
    assert_eq!(a["reschedules"][0]["moved"]["total"], "1000.00");
    assert_eq!(
        (
            a["reschedules"][0]["first_new_seq"].as_i64(),
            a["reschedules"][0]["last_new_seq"].as_i64()
        ),
        (Some(3), Some(5))
    );

    // The booked schedule's dates no longer decide what is owed: an extension is refused.
    let (status, problem) = book.call(
        "POST",
        "/v1/loans/R1/extensions",
        &key,
        Some(json!({ "periods": 1 })),
    );
    assert_eq!(
        (status, problem["field"].as_str()),
        (409, Some("periods")),
        "{problem}"
    );

    // Another re-age on 2026-06-01, within 12 months of the first: FFIEC's once a year.
    let second = json!({
        "on": "2026-06-01", "reason": "second hardship", "approved_by": "team-lead-2",
        "installments": 2, "frequency": "monthly", "first_due_date": "2026-07-01"
    });
    let (status, problem) = re_age(second.clone());
    assert_eq!(
        (status, problem["field"].as_str()),
        (409, Some("on")),
        "{problem}"
    );
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("at most 1 in any 12 months"), "{detail}");
    assert!(detail.contains("2026-01-10"), "{detail}");

    // A tenant allowing two a year takes it.
    let limits = json!({ "re_age_limits": [{ "at_most": 2, "months": 12 }] });
    let (status, body) = book.call("PUT", "/v1/tenant/settings", &key, Some(limits));
    assert_eq!(status, 200, "{body}");
    let (status, body) = re_age(second);
    assert_eq!(status, 201, "{body}");
    let bad = json!({ "re_age_limits": [{ "at_most": 0, "months": 12 }] });
    let (status, problem) = book.call("PUT", "/v1/tenant/settings", &key, Some(bad));
    assert_eq!(
        (status, problem["field"].as_str()),
        (400, Some("settings.re_age_limits[0].at_most")),
        "{problem}"
    );

    // The audit names both re-ages with who approved them.
    let (_, audit) = book.call("GET", "/v1/audit?after=0", &key, None);
    let re_aged: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "loan.reaged")
        .collect();
    assert_eq!(re_aged.len(), 2, "{audit}");
    assert!(re_aged[0]["detail"].to_string().contains("team-lead-2"));
}

/// Loan `W1` of `tenant`: 1000.00 due 2026-01-01, unpaid, written off on 2026-02-01; its
/// borrower can be written to and called.
fn written_off_w1(book: &Book, tenant: &str, settings: Value) -> String {
    let key = book.create_tenant(tenant, settings);
    let mut w1 = loan("W1", "1000.00", &["2026-01-01"]);
    w1["borrower"]["profile"]["contact_points"] = json!([
        { "channel": "voice_call", "address": "+8613800138000" },
        { "channel": "letter", "address": "上海市黄浦区中山东一路1号" }
    ]);
    let (status, body) = book.call("POST", "/v1/loans", &key, Some(w1));
    assert_eq!(status, 201, "{body}");
    let (status, body) = book.call(
        "POST",
        "/v1/loans/W1/write-off",
        &key,
        Some(json!({ "reason": "uncollectable", "on": "2026-02-01" })),
    );
    assert_eq!(status, 201, "{body}");
    key
}

/// W1's actions by business date: (date, kind, queue, rule).
fn actions_of_w1(book: &Book, key: &str) -> Vec<(String, String, String, String)> {
    let (status, body) = book.call("GET", "/v1/actions?limit=1000", key, None);
    assert_eq!(status, 200, "{body}");
    let text = |a: &Value, name: &str| a[name].as_str().unwrap_or_default().to_owned();
    let mut actions: Vec<_> = body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|a| a["loan_id"] == "W1")
        .map(|a| {
            (
                text(a, "business_date"),
                text(a, "kind"),
                text(a, "queue"),
                text(a, "rule"),
            )
        })
        .collect();
    actions.sort();
    actions
}

#[test]
fn a_recovery_strategy_contacts_a_written_off_loan_every_30_days_while_it_owes() {
    let redis = RedisServer::start();
    let book = Book::start("book-relief-recovery", &redis);
    let key = written_off_w1(&book, TENANT, json!({ "recovery": { "every_days": 30 } }));
    let action = |day: &str, kind: &str, queue: &str, rule: &str| {
        (
            day.to_owned(),
            kind.to_owned(),
            queue.to_owned(),
            rule.to_owned(),
        )
    };
    // 03-02 is 29 days after the write-off on 02-01: the close runs over W1 and asks nothing.
    let closed = book.close(&key, "2026-03-02");
    assert_eq!(closed["jobs"][0]["total"], 1, "{closed}");
    assert_eq!(actions_of_w1(&book, &key), vec![]);
    // 03-03 is the 30th day: a letter, and a call, both by the recovery stage's rule; the
    // loan moves to that stage and stays written off. Never paid and 61 days past due, W1
    // scores in tier E, one of the default high-risk tiers (D and E): the call goes to the
    // recovery-high-risk queue.
    let closed = book.close(&key, "2026-03-03");
    assert_eq!(closed["jobs"][0]["failures"], 0, "{closed}");
    let first = vec![
        action("2026-03-03", "letter", "", "stage.recovery"),
        action("2026-03-03", "stage_change", "", "escalated"),
        action(
            "2026-03-03",
            "voice_call",
            "recovery-high-risk",
            "stage.recovery",
        ),
    ];
    assert_eq!(actions_of_w1(&book, &key), first);
    let w1 = view(&book, &key, "W1", "2026-03-03");
    assert_eq!(w1["standing"]["stage"], "recovery", "{w1}");
    assert_eq!(w1["standing"]["status"], "written_off");
    // The stage change says why: all 1000.00 written off is still owed.
    let (_, body) = book.call("GET", "/v1/actions?limit=1000", &key, None);
    let change = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "stage_change")
        .unwrap()
        .clone();
    assert!(
        change["detail"].to_string().contains("1000.00 still owed"),
        "{change}"
    );

    let recover = |id: &str, value_date: &str, amount: &str| {
        let payment = json!({ "id": id, "value_date": value_date, "amount": amount });
        let (status, body) = book.call("POST", "/v1/loans/W1/payments", &key, Some(payment));
        assert_eq!(status, 201, "{body}");
    };
    // 400.00 recovered on 03-05; on 04-02 (day 60) the next letter and call, no stage change.
    recover("R1", "2026-03-05", "400.00");
    book.close(&key, "2026-04-02");
    let mut second = first.clone();
    second.extend([
        action("2026-04-02", "letter", "", "stage.recovery"),
        action(
            "2026-04-02",
            "voice_call",
            "recovery-high-risk",
            "stage.recovery",
        ),
    ]);
    second.sort();
    assert_eq!(actions_of_w1(&book, &key), second);

    // The other 600.00 recovered on 04-10: nothing is owed, so day 90 (05-02) asks nothing.
    recover("R2", "2026-04-10", "600.00");
    book.close(&key, "2026-05-02");
    assert_eq!(actions_of_w1(&book, &key), second);

    // Without the strategy the close leaves a written-off loan alone: not even counted.
    let off = written_off_w1(&book, "no-recovery", json!({}));
    let closed = book.close(&off, "2026-03-03");
    assert_eq!(closed["jobs"][0]["total"], 0, "{closed}");
    assert_eq!(actions_of_w1(&book, &off), vec![]);
    // And the strategy's cadence is checked: 0 days is refused.
    let (status, problem) = book.call(
        "PUT",
        "/v1/tenant/settings",
        &off,
        Some(json!({ "recovery": { "every_days": 0 } })),
    );
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["field"], "settings.recovery.every_days");
}
