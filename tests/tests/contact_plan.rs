//! `POST /v1/contact-plan` through the host: the overdue, reminders and escalation
//! components composed into the api, on hand-worked cases.

use postloan_tests::{Host, post, root};
use serde_json::{Value, json};

/// 1060.00 due 2026-02-15 and 1040.00 due 2026-03-15; nothing paid.
fn loan() -> Value {
    json!({
        "id": "L-3", "currency": "CNY",
        "installments": [
            { "seq": 1, "due_date": "2026-02-15", "principal": "1000.00", "interest": "50.00", "fees": "10.00" },
            { "seq": 2, "due_date": "2026-03-15", "principal": "1000.00", "interest": "30.00", "fees": "10.00" }
        ]
    })
}

fn profile() -> Value {
    json!({
        "name": "Wang Fang", "language": "en", "time_zone": "Asia/Shanghai",
        "contact_points": [
            { "channel": "sms", "address": "+8613800000000" },
            { "channel": "push", "address": "device-1" },
            { "channel": "voice_call", "address": "+8613800000000" }
        ]
    })
}

#[test]
fn an_overdue_loan_gets_its_reminders_and_a_call_within_the_rules() {
    let host = Host::start(&root().join("spin.toml"));
    // now 2026-03-10T02:00Z = 10:00 in Shanghai; business date 2026-03-10.
    // Unpaid since 2026-02-15: 13 + 10 = 23 days past due, bucket M1: the daily M1 reminder
    // goes by SMS and push. 23 DPD is the mid stage (16–60): one voice call, queue `mid`,
    // its only collector. The window runs from now to 22:00 local (14:00Z).
    let request = json!({
        "now": "2026-03-10T02:00:00Z",
        "loan": loan(),
        "profile": profile(),
        "previous_stage": "early",
        "contact": {
            "reminders": { "payment_link": "https://pay.example.com/{loan_id}" },
            "escalation": { "queues": { "mid": ["ana"] } }
        }
    });
    let (status, _, plan) = post(&host.url("/v1/contact-plan"), request.to_string());
    assert_eq!(status, 200, "{plan}");
    assert_eq!(
        (plan["dpd"].as_u64(), plan["bucket"].as_str()),
        (Some(23), Some("M1"))
    );
    let channels: Vec<&str> = plan["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["sms", "push"]);
    assert_eq!(
        plan["reminders"][0]["text"],
        "Wang Fang, 1,060.00 CNY is 23 days overdue. Pay: https://pay.example.com/L-3 Reply STOP to opt out."
    );
    assert_eq!(plan["reminders"][0]["sms_segments"], 1);
    assert_eq!(
        plan["reminders"][0]["not_before"],
        "2026-03-10T10:00:00+08:00"
    );
    assert_eq!(
        plan["reminders"][0]["not_after"],
        "2026-03-10T22:00:00+08:00"
    );
    let escalation = &plan["escalation"];
    assert_eq!(
        (
            escalation["stage"].as_str(),
            escalation["transition"].as_str()
        ),
        (Some("mid"), Some("escalated"))
    );
    let call = &escalation["actions"][0];
    assert_eq!(
        (
            call["kind"].as_str(),
            call["queue"].as_str(),
            call["assignee"].as_str()
        ),
        (Some("voice_call"), Some("mid"), Some("ana"))
    );
}

#[test]
fn at_night_the_call_moves_to_the_morning_and_an_opted_out_channel_is_held_back() {
    let host = Host::start(&root().join("spin.toml"));
    // 2026-03-10T15:00Z is 23:00 in Shanghai: quiet hours. The call may go from 08:00 local
    // on 2026-03-11. Push is opted out: held back with its rule.
    let mut profile = profile();
    profile["opted_out"] = json!(["push"]);
    let request = json!({ "now": "2026-03-10T15:00:00Z", "loan": loan(), "profile": profile, "previous_stage": "mid" });
    let (status, _, plan) = post(&host.url("/v1/contact-plan"), request.to_string());
    assert_eq!(status, 200, "{plan}");
    let call = &plan["escalation"]["actions"][0];
    assert_eq!(call["not_before"], "2026-03-11T08:00:00+08:00");
    assert!(
        call["explanation"]
            .as_str()
            .unwrap()
            .contains("contact.quiet-hours"),
        "{call}"
    );
    let held: Vec<(&str, &str)> = plan["reminders_suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["kind"].as_str().unwrap(), h["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(held, [("push", "contact.opted-out")]);
}

#[test]
fn bad_contact_input_names_its_field() {
    let host = Host::start(&root().join("spin.toml"));
    let refused = |edit: &dyn Fn(&mut Value), field: &str| {
        let mut request =
            json!({ "now": "2026-03-10T02:00:00Z", "loan": loan(), "profile": profile() });
        edit(&mut request);
        let (status, _, problem) = post(&host.url("/v1/contact-plan"), request.to_string());
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{problem}"
        );
    };
    refused(
        &|r| r["profile"]["time_zone"] = json!("Mars/Olympus"),
        "profile.time_zone",
    );
    refused(
        &|r| r["profile"]["language"] = json!("fr"),
        "profile.language",
    );
    refused(&|r| r["now"] = json!("2026-03-10 02:00"), "now");
    refused(
        &|r| r["profile"]["opted_out"] = json!(["pigeon"]),
        "profile.opted_out[0]",
    );
    refused(
        &|r| {
            r["contact"] =
                json!({ "escalation": { "strategies": [{ "name": "a", "share_percent": 60 }] } })
        },
        "policy.escalation.strategies",
    );
}
