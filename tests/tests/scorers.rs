//! Scorers: the conformance kit on every scorer in the repository (and on the broken
//! fixtures), swapping the scorer through its one line in spin.toml (which the HTTP API, the
//! Redis events and the nightly close all score with), the scorecard override through the
//! `scorecard` Spin variable, and a scorer that traps, loops or exhausts memory, which must
//! not take the host down and is named in the answer, and that sees no clock, environment or
//! files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use postloan_tests::{
    Book, Host, RedisServer, app_manifest_with_scorer, artifact, book_manifest_with_scorer,
    eventually, post, readme_request, root,
};
use serde_json::{Value, json};

const DEFAULT_SCORER: &str = "target/wasm32-wasip2/release/postloan_scoring.wasm";
const PYTHON_SCORER: &str = "target/examples/scorer_py.wasm";
const TRAPPING_SCORER: &str =
    "tests/fixtures/target/wasm32-wasip2/release/scorer_traps_fixture.wasm";
const FIVE_REASONS_SCORER: &str =
    "tests/fixtures/target/wasm32-wasip2/release/scorer_five_reasons_fixture.wasm";

/// Runs scripts/check-scorer's binary on `scorer`: whether it conformed, and its report.
fn check(scorer: &str) -> (bool, String) {
    let output = Command::new(artifact("target/release/check-scorer"))
        .arg(artifact(scorer))
        .output()
        .expect("check-scorer runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), report)
}

#[test]
fn every_scorer_in_the_repository_passes_the_conformance_kit() {
    for scorer in [DEFAULT_SCORER, PYTHON_SCORER] {
        let (passed, report) = check(scorer);
        assert!(passed, "{scorer}:\n{report}");
        assert!(report.contains("conforms"), "{report}");
    }
}

#[test]
fn the_kit_fails_a_scorer_that_traps_naming_the_call_and_the_trap() {
    let (passed, report) = check(TRAPPING_SCORER);
    assert!(!passed, "{report}");
    assert!(
        report.contains("FAIL score(a brand-new loan) trapped: wasm trap: wasm `unreachable`"),
        "{report}"
    );
    assert!(report.contains("does NOT conform"), "{report}");
}

#[test]
fn the_kit_fails_a_scorer_that_gives_five_reasons() {
    let (passed, report) = check(FIVE_REASONS_SCORER);
    assert!(!passed, "{report}");
    assert!(
        report.contains("FAIL score(all zeros) gives at most 4 reason codes (gave 5:"),
        "{report}"
    );
}

fn reasons(score: &Value) -> Vec<(String, u64)> {
    score["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap_or_default().to_owned(),
                r["points_lost"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn swapping_the_scorer_in_spin_toml_changes_the_scores_assess_returns() {
    let scorer: PathBuf = artifact(PYTHON_SCORER);
    let host = Host::start(&app_manifest_with_scorer("python-scorer", &scorer));
    let (status, _, a) = post(&host.url("/v1/assess"), readme_request().to_string());
    assert_eq!(status, 200, "{a}");
    // The assessment itself is the overdue engine's, unchanged.
    assert_eq!(a["dpd"], 23);
    let score = &a["score"];
    assert_eq!(score["model"]["name"], "logistic-challenger-py");
    // Log-odds 5.2 − 0.05·23 − 0.02·23 − 1.5·(1 − 0.5) − 0.3·1 = 2.54; 600 + (20 / ln 2)·(2.54
    // − ln 50) = 600 − 39.59 = 560.41 → 560, tier D (540–579). 560 is 2 PDO under 600:
    // odds 50 / 4 = 12.5, so 1 / 13.5 = 0.074074.
    assert_eq!(score["value"], 560);
    assert_eq!(score["tier"], "D");
    assert_eq!(score["probability_of_default"], "0.074074");
    // Points lost, 28.8539 per unit of log-odds: DPD 1.15 → 33, on-time 0.75 → 22,
    // 6-month worst 0.46 → 13, one partial payment 0.3 → 9.
    let expected = [("P01", 33), ("P03", 22), ("P02", 13), ("P04", 9)];
    let expected: Vec<(String, u64)> = expected
        .iter()
        .map(|(c, p)| ((*c).to_owned(), *p))
        .collect();
    assert_eq!(reasons(score), expected);
}

/// A `loan.created` event of tenant `swap`, on 2026-01-15: one installment of 600.00 and
/// 12.00 interest due on `due`.
fn loan_created(id: &str, disbursed_on: &str, due: &str) -> Value {
    json!({
        "id": format!("created-{id}"), "tenant": "swap", "type": "loan.created",
        "occurred_at": "2026-01-15T08:00:00Z",
        "data": {
            "id": id,
            "borrower": { "id": format!("B-{id}"), "profile": { "name": "Sun Li", "language": "zh-CN", "time_zone": "Asia/Shanghai" } },
            "currency": "CNY", "disbursed_on": disbursed_on,
            "installments": [{ "seq": 1, "due_date": due, "principal": "600.00", "interest": "12.00" }]
        }
    })
}

/// What one scorer gives, plugged in by spin.toml's one `[component.scorer]` line: the
/// score of the README's loan on `POST /v1/assess` (the api), and `(score, tier)` of the
/// book's loans K1 and K2 as the events component stores them from Redis and then as the
/// nightly component's cron trigger stores them when it closes yesterday.
struct Scores {
    assess: Value,
    events: [(Value, Value); 2],
    close: [(Value, Value); 2],
}

fn scores_with(name: &str, scorer: &Path) -> Scores {
    let redis = RedisServer::start();
    // First without the cron trigger, so the close cannot run before the loans are booked.
    let manifest = book_manifest_with_scorer(&format!("{name}-events"), &redis.url(), None, scorer);
    let dir = manifest.parent().expect("a folder").to_path_buf();
    let book = Book::serve(&manifest, &dir);
    let (status, _, assessed) = post(&book.host.url("/v1/assess"), readme_request().to_string());
    assert_eq!(status, 200, "{assessed}");
    let key = book.create_tenant("swap", json!({}));
    // K1 falls due in 2060; K2 fell due on 2026-01-05 and is unpaid.
    for event in [
        loan_created("K1", "2026-01-01", "2060-01-05"),
        loan_created("K2", "2025-12-01", "2026-01-05"),
    ] {
        redis.publish_when_subscribed("postloan.events", &event.to_string());
    }
    let standing = |book: &Book, id: &str, on: &str| {
        eventually(
            Duration::from_secs(60),
            &format!("{id} assessed on {on}"),
            || {
                let (_, loan) = book.call("GET", &format!("/v1/loans/{id}"), &key, None);
                let standing = &loan["standing"];
                (standing["assessed_on"] == on)
                    .then(|| (standing["score"].clone(), standing["tier"].clone()))
            },
        )
    };
    let events = ["K1", "K2"].map(|id| standing(&book, id, "2026-01-15"));
    drop(book);
    // Then the same book with the nightly cron trigger, every second.
    let manifest = book_manifest_with_scorer(
        &format!("{name}-close"),
        &redis.url(),
        Some("* * * * * *"),
        scorer,
    );
    let book = Book::serve(&manifest, &dir);
    let yesterday = Utc::now()
        .date_naive()
        .pred_opt()
        .expect("a day")
        .to_string();
    let close = ["K1", "K2"].map(|id| standing(&book, id, &yesterday));
    Scores {
        assess: assessed["score"].clone(),
        events,
        close,
    }
}

#[test]
fn swapping_the_scorer_line_changes_the_scores_of_http_events_and_the_nightly_close() {
    let python = scores_with("swap-python", &artifact(PYTHON_SCORER));
    // The README's loan, worked in the test above: 560.
    assert_eq!(python.assess["model"]["name"], "logistic-challenger-py");
    assert_eq!(python.assess["value"], 560);
    // The Python scorer's log-odds start at 5.2; points are 600 + (20 / ln 2)·(log-odds −
    // ln 50), rounded and kept within 300–650; tiers from 660 (A), 620 (B), 580 (C), 540 (D).
    // K1 on 2026-01-15, nothing due: 5.2 → 600 + 28.8539·1.2880 = 637.16 → 637, B.
    // K2 on 2026-01-15, 10 days past due (and so at worst in 6 months), its one installment
    // fallen due not paid on time: 5.2 − 0.05·10 − 0.02·10 − 1.5·1 = 3.0 →
    // 600 − 28.8539·0.9120 = 573.68 → 574, D.
    assert_eq!(
        python.events,
        [(json!(637), json!("B")), (json!(574), json!("D"))]
    );
    // Yesterday, K1 has still nothing due: 637, B. K2 is at least 330 days past due:
    // 5.2 − 0.07·330 − 1.5 < −19, far under 300 points: 300, E.
    assert_eq!(
        python.close,
        [(json!(637), json!("B")), (json!(300), json!("E"))]
    );
    // The default scorer, on the line before it was swapped, scores all of them otherwise
    // (the README's loan: 522).
    let default = scores_with("swap-default", &artifact(DEFAULT_SCORER));
    assert_eq!(default.assess["model"]["name"], "postloan-default-bscore");
    assert_eq!(default.assess["value"], 522);
    for (python, default) in python
        .events
        .iter()
        .chain(&python.close)
        .zip(default.events.iter().chain(&default.close))
    {
        assert_ne!(python.0, default.0);
    }
}

#[test]
fn score_returns_the_features_and_the_default_scorers_score() {
    let host = Host::start(&root().join("spin.toml"));
    let (status, _, body) = post(&host.url("/v1/score"), readme_request().to_string());
    assert_eq!(status, 200, "{body}");
    // Worked out in the README: 23 DPD, 1 late of 2 fallen due, P2 partial, 18 days since it,
    // 1550.00 of 3000.00 principal outstanding, 2 months from 2025-12-15.
    assert_eq!(
        body["features"],
        json!({
            "current_dpd": 23, "max_dpd_m3": 23, "max_dpd_m6": 23, "max_dpd_m12": 23,
            "late_installments": 1, "on_time_share": "0.5000", "partial_payments": 1,
            "days_since_last_payment": 18, "promises_made": 0, "promises_broken": 0,
            "outstanding_ratio": "0.5167", "months_on_book": 2
        })
    );
    assert_eq!(body["score"]["value"], 522);
    assert_eq!(body["score"]["tier"], "D");
}

#[test]
fn the_scorecard_variable_overrides_the_embedded_scorecard() {
    let embedded = std::fs::read_to_string(root().join("components/scoring/scorecard.json"))
        .expect("the embedded scorecard");
    // The lender's own: 23 DPD earns 50 points instead of 80.
    let own = embedded
        .replacen("\"postloan-default-bscore\"", "\"lender-own-bscore\"", 1)
        .replacen(
            "{ \"below\": \"31\", \"points\": 80 }",
            "{ \"below\": \"31\", \"points\": 50 }",
            1,
        );
    assert_ne!(own, embedded);
    let manifest = root().join("spin.toml");
    let host = Host::start_with_env(&manifest, &[], &[("SPIN_VARIABLE_SCORECARD", &own)]);
    let (status, _, body) = post(&host.url("/v1/score"), readme_request().to_string());
    assert_eq!(status, 200, "{body}");
    let score = &body["score"];
    assert_eq!(score["model"]["name"], "lender-own-bscore");
    // 522 − 30 = 492: tier E (under 520); odds 50 · 2^(−108/20) = 1.18415, PD 0.457843.
    assert_eq!(score["value"], 492);
    assert_eq!(score["tier"], "E");
    assert_eq!(score["probability_of_default"], "0.457843");
    assert_eq!(reasons(score)[0], ("R01".to_owned(), 60));
}

#[test]
fn a_scorecard_variable_that_does_not_parse_is_a_problem_naming_the_scorer_and_field() {
    let broken = r#"{"name": "x", "version": "1", "scaling": {"base_score": 600, "base_odds": "50", "pdo": "20"},
        "tiers": {"a": 4, "b": 3, "c": 2, "d": 1}, "characteristics": [
        {"feature": "current-dpd", "reason_code": "R1", "meaning": "m", "bins": [{"below": "x", "points": 1}, {"points": 0}]}]}"#;
    let manifest = root().join("spin.toml");
    let host = Host::start_with_env(&manifest, &[], &[("SPIN_VARIABLE_SCORECARD", broken)]);
    let (status, content_type, problem) =
        post(&host.url("/v1/score"), readme_request().to_string());
    assert_eq!(status, 500, "{problem}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(problem["type"], "urn:postloan:problem:scorer-failed");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("scorer `postloan-default-bscore 1.0.0`")
            && detail.contains("characteristics[0].bins[0].below"),
        "{detail}"
    );
}

/// Posts the README's request to a host running the trapping fixture as its scorer, in
/// `mode` (its settings, through the `scorecard` variable), and returns the problem body
/// after checking the host still serves.
fn assess_with_broken_scorer(name: &str, mode: &str) -> Value {
    let scorer = artifact(TRAPPING_SCORER);
    let host = Host::start_with_env(
        &app_manifest_with_scorer(name, &scorer),
        &["--request-timeout", "1s"],
        &[("SPIN_VARIABLE_SCORECARD", mode)],
    );
    let (status, content_type, problem) =
        post(&host.url("/v1/assess"), readme_request().to_string());
    assert!(status == 500 || status == 422, "{status}: {problem}");
    assert_eq!(content_type, "application/problem+json");
    // The host is still up: a request that does not score still answers.
    let health = reqwest::blocking::get(host.url("/v1/health")).expect("the host answers");
    assert_eq!(health.status().as_u16(), 200);
    problem
}

/// Checks that `problem` is the component-failed problem naming the api and, in it, the
/// scorer it was given, and that its detail goes on with `how`.
fn assert_names_the_scorer(problem: &Value, how: &str) {
    assert_eq!(problem["status"], 500, "{problem}");
    assert_eq!(problem["type"], "urn:postloan:problem:component-failed");
    assert_eq!(problem["component"], "api");
    assert_eq!(problem["dependency"], "postloan:scoring/scoring");
    let scorer = artifact(TRAPPING_SCORER);
    let expected = format!(
        "component `api` failed: its dependency `postloan:scoring/scoring` ({}) {how}",
        scorer.display()
    );
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&expected),
        "{detail}\nexpected: {expected}"
    );
}

#[test]
fn a_trapping_scorer_gets_a_problem_body_naming_it_and_the_host_keeps_serving() {
    let problem = assess_with_broken_scorer("trapping-scorer", "");
    assert_names_the_scorer(
        &problem,
        "trapped: wasm trap: wasm `unreachable` instruction executed",
    );
}

#[test]
fn a_scorer_that_loops_forever_is_stopped_at_the_deadline_and_named() {
    let problem = assess_with_broken_scorer("looping-scorer", "loop");
    assert_names_the_scorer(&problem, "exceeded the request deadline of 1s");
}

#[test]
fn a_scorer_that_exhausts_its_memory_is_stopped_and_named() {
    let problem = assess_with_broken_scorer("hoarding-scorer", "exhaust-memory");
    assert_names_the_scorer(&problem, "trapped: wasm trap:");
}

#[test]
fn a_scorer_sees_no_clock_environment_or_files() {
    let problem = assess_with_broken_scorer("snooping-scorer", "snoop");
    assert_eq!(
        problem["type"], "urn:postloan:problem:unscorable",
        "{problem}"
    );
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.ends_with("cannot score this loan: clock=0 env=0 files=denied"),
        "{detail}"
    );
}
