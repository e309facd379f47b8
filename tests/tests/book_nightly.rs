//! The nightly run through the cron trigger: the `nightly` component closes the business
//! day that ended (yesterday, UTC) for every tenant, once, however often the trigger fires.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use postloan_tests::{Book, RedisServer, book_manifest, eventually};
use serde_json::json;

#[test]
fn the_cron_trigger_closes_yesterday_for_every_tenant_once() {
    let redis = RedisServer::start();
    // The tenants and their loans are booked first, on a host without the trigger: a tick
    // between a tenant's creation and its loan's would close yesterday with no loan in it.
    let setup = Book::start("book-nightly", &redis);
    let yesterday = Utc::now().date_naive().pred_opt().expect("a yesterday");
    let due = NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date");
    let mut keys = Vec::new();
    for tenant in ["north", "south"] {
        let key = setup.create_tenant(tenant, json!({}));
        let event = json!({
            "id": "created", "tenant": tenant, "type": "loan.created",
            "occurred_at": "2025-12-01T00:00:00Z",
            "data": {
                "id": "N1",
                "borrower": { "id": "B1", "profile": { "name": "Wang Fang", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
                "currency": "CNY", "disbursed_on": "2025-12-01",
                "installments": [{ "seq": 1, "due_date": due.to_string(), "principal": "800.00", "interest": "0" }]
            }
        });
        let (status, body) = setup.call("POST", "/v1/events", &key, Some(event));
        assert_eq!(status, 201, "{body}");
        keys.push(key);
    }
    // Then a host on the same book with the trigger, every second, so the test need not
    // wait for the 10-minute schedule.
    let manifest = book_manifest("book-nightly-cron", &redis.url(), Some("* * * * * *"));
    let book = Book::serve(&manifest, &setup.dir);
    for key in &keys {
        let standing = eventually(Duration::from_secs(60), "the nightly run", || {
            let (_, loan) = book.call("GET", "/v1/loans/N1", key, None);
            (loan["standing"]["assessed_on"] == yesterday.to_string())
                .then(|| loan["standing"].clone())
        });
        // Unpaid since 2026-01-05: yesterday minus the due date, in days.
        assert_eq!(standing["dpd"], (yesterday - due).num_days(), "{standing}");
    }
    // More ticks close nothing more: one completed run per tenant, for yesterday.
    std::thread::sleep(Duration::from_secs(3));
    let runs: Vec<(String, String, String)> = book
        .database
        .query(
            "SELECT tenant_id, business_date, status FROM job_runs ORDER BY tenant_id",
            &[],
        )
        .into_iter()
        .map(|row| {
            let text = |i: usize| row[i].clone().unwrap_or_default();
            (text(0), text(1), text(2))
        })
        .collect();
    let day = yesterday.to_string();
    assert_eq!(
        runs,
        vec![
            ("north".to_owned(), day.clone(), "completed".to_owned()),
            ("south".to_owned(), day, "completed".to_owned()),
        ]
    );
}
