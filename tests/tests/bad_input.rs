//! Every kind of bad input to `/v1/assess` is answered 400 with a problem body that names the
//! offending field; the host keeps serving afterwards.

use postloan_tests::{Host, post, root};
use serde_json::{Value, json};

fn valid_request() -> Value {
    json!({
        "as_of": "2026-03-10",
        "loan": {
            "id": "L-1",
            "currency": "CNY",
            "installments": [
                { "seq": 1, "due_date": "2026-01-15", "principal": "1000.00", "interest": "50.00", "fees": "10.00" },
                { "seq": 2, "due_date": "2026-02-15", "principal": "1000.00", "interest": "40.00", "fees": "10.00" }
            ],
            "payments": [
                { "id": "P1", "value_date": "2026-01-15", "amount": "1060.00" },
                { "id": "P2", "value_date": "2026-02-20", "amount": "500.00" }
            ]
        }
    })
}

/// Posts `body` and checks it is refused with 400, a problem body of `kind`, naming `field`.
fn assert_refused(host: &Host, body: String, kind: &str, field: &str) {
    let (status, content_type, problem) = post(&host.url("/v1/assess"), body.clone());
    assert_eq!(status, 400, "{body} -> {problem}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(
        problem["type"],
        format!("urn:postloan:problem:{kind}"),
        "{problem}"
    );
    assert_eq!(problem["status"], 400);
    assert_eq!(problem["field"], field, "{problem}");
    assert!(
        problem["title"].is_string() && problem["detail"].is_string(),
        "{problem}"
    );
}

/// The valid request with `edit` applied.
fn with(edit: impl FnOnce(&mut Value)) -> String {
    let mut request = valid_request();
    edit(&mut request);
    request.to_string()
}

#[test]
fn each_bad_input_names_its_field() {
    let host = Host::start(&root().join("spin.toml"));
    // Sanity: the unedited request is accepted.
    let (status, _, _) = post(&host.url("/v1/assess"), valid_request().to_string());
    assert_eq!(status, 200);

    assert_refused(
        &host,
        "{\"as_of\": \"2026-03-10\", \"loan\": {\"id\": ".into(),
        "malformed-json",
        "loan.id",
    );
    assert_refused(&host, "not json".into(), "malformed-json", "body");
    assert_refused(
        &host,
        with(|r| drop(r.as_object_mut().unwrap().remove("as_of"))),
        "invalid-field",
        "as_of",
    );
    assert_refused(
        &host,
        with(|r| {
            drop(
                r["loan"]["installments"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("principal"),
            )
        }),
        "invalid-field",
        "loan.installments[1].principal",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["colour"] = json!("red")),
        "invalid-field",
        "loan.colour",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["payments"][0]["amount"] = json!("-5.00")),
        "invalid-field",
        "loan.payments[0].amount",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["installments"][0]["fees"] = json!("ten")),
        "invalid-field",
        "loan.installments[0].fees",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["installments"][0]["interest"] = json!(50.0)),
        "invalid-field",
        "loan.installments[0].interest",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["payments"][1]["amount"] = json!("500.005")),
        "invalid-field",
        "loan.payments[1].amount",
    );
    assert_refused(
        &host,
        with(|r| {
            r["loan"]["currency"] = json!("JPY");
            r["loan"]["installments"][0]["principal"] = json!("1000.5");
        }),
        "invalid-field",
        "loan.installments[0].principal",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["currency"] = json!("XYZ")),
        "invalid-field",
        "loan.currency",
    );
    assert_refused(
        &host,
        with(|r| r["as_of"] = json!("10/03/2026")),
        "invalid-field",
        "as_of",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["payments"][0]["value_date"] = json!("2026-02-30")),
        "invalid-field",
        "loan.payments[0].value_date",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["installments"][1]["seq"] = json!(1)),
        "invalid-field",
        "loan.installments[1].seq",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["installments"][1]["due_date"] = json!("2026-01-01")),
        "invalid-field",
        "loan.installments[1].due_date",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["payments"][1]["id"] = json!("P1")),
        "invalid-field",
        "loan.payments[1].id",
    );

    // Nothing above disturbed the host.
    let (status, _, _) = post(&host.url("/v1/assess"), valid_request().to_string());
    assert_eq!(status, 200);
}

#[test]
fn inconsistent_pauses_reversals_and_policies_name_their_field() {
    let host = Host::start(&root().join("spin.toml"));
    let pause = |from: &str, to: &str| json!({ "from": from, "to": to, "reason": "hardship" });
    assert_refused(
        &host,
        with(|r| {
            r["loan"]["pauses"] = json!([
                pause("2026-02-01", "2026-02-10"),
                pause("2026-02-05", "2026-02-20")
            ])
        }),
        "invalid-field",
        "loan.pauses[1].from",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["pauses"] = json!([pause("2026-02-10", "2026-02-01")])),
        "invalid-field",
        "loan.pauses[0].to",
    );
    assert_refused(
        &host,
        with(|r| r["loan"]["reversals"] = json!([{ "payment_id": "P9" }])),
        "invalid-field",
        "loan.reversals[0].payment_id",
    );
    assert_refused(
        &host,
        with(|r| {
            r["policy"] = json!({ "buckets": [
                { "name": "current", "min_days": 0, "max_days": 0 },
                { "name": "late", "min_days": 5 }
            ] })
        }),
        "invalid-field",
        "policy.buckets[1].min_days",
    );
    assert_refused(
        &host,
        with(|r| r["policy"] = json!({ "classification": { "preset": "basel_ix" } })),
        "invalid-field",
        "policy.classification.preset",
    );
    assert_refused(
        &host,
        with(|r| r["policy"] = json!({ "penalty": { "annual_rate": "10.5" } })),
        "invalid-field",
        "policy.penalty.annual_rate",
    );
    assert_refused(
        &host,
        with(|r| {
            r["policy"] = json!({ "late_fee": { "days_late": 10, "amount": "5", "percent": "1" } })
        }),
        "invalid-field",
        "policy.late_fee",
    );
    assert_refused(
        &host,
        with(|r| r["policy"] = json!({ "late_fee": { "days_late": 0, "amount": "5" } })),
        "invalid-field",
        "policy.late_fee.days_late",
    );
    assert_refused(
        &host,
        with(|r| r["policy"] = json!({ "late_fee": { "days_late": 3, "percent": "120" } })),
        "invalid-field",
        "policy.late_fee.percent",
    );
    assert_refused(
        &host,
        with(|r| r["policy"] = json!({ "allocation": ["principal", "interest"] })),
        "invalid-field",
        "policy.allocation",
    );
}

#[test]
fn unusable_schedule_terms_name_their_field() {
    let host = Host::start(&root().join("spin.toml"));
    let terms = |edit: &dyn Fn(&mut Value)| {
        let mut t = json!({
            "principal": "1000.00", "currency": "CNY", "annual_rate": "0.12", "term": 12,
            "frequency": "monthly", "method": "annuity", "disbursed_on": "2026-01-15", "day_count": "30/360"
        });
        edit(&mut t);
        t.to_string()
    };
    let refused = |body: String, field: &str| {
        let (status, _, problem) = post(&host.url("/v1/schedules"), body);
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{problem}"
        );
    };
    refused(terms(&|t| t["term"] = json!(0)), "term");
    refused(terms(&|t| t["term"] = json!(1201)), "term");
    refused(terms(&|t| t["annual_rate"] = json!("10.01")), "annual_rate");
    refused(terms(&|t| t["method"] = json!("balloon")), "method");
    refused(terms(&|t| t["day_count"] = json!("30/365")), "day_count");
    refused(
        terms(&|t| t["first_due_date"] = json!("2026-01-15")),
        "first_due_date",
    );
    refused(terms(&|t| t["principal"] = json!("1000.001")), "principal");
    let (status, _, _) = post(&host.url("/v1/schedules"), terms(&|_| {}));
    assert_eq!(status, 200);
}
