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
