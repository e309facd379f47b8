//! Tenant isolation, end to end: tenant A's admin key reads or changes nothing of tenant
//! B's, on any route of the loan book.
//!
//! Tenant B is given one of everything (a loan, its borrower, a payment with an idempotency
//! key, a promise, contact outcomes through the API and an event, two closed business dates,
//! actions in the outbox, keys of other roles, audit entries). Then A's admin key walks a
//! table of requests aimed at B's identifiers — one row or more for every `(Method::…)` arm
//! of `crates/service/src/book/http.rs`, which is checked by reading that file, so a route
//! added later without a row fails `every_route_of_the_book_is_probed` — and every answer
//! must be a 404 for B's things, A's own (empty) data for lists, or a refusal for changes.
//! No answer to A may carry B's personal data, B's audit hashes, or one of B's identifiers
//! that A did not send itself. After the walk everything B reads is exactly what it read
//! before.
//!
//! The walk runs in order: reads and refused changes first, while A owns nothing; then A's
//! own changes (settings, a key, a close, a loan with B's loan and borrower ids), which must
//! touch A alone. Then A uses B's payment, idempotency key, promise and event ids for its own
//! things: each must be new in A (a conflict or a "duplicate" would tell A that B has them).

use std::collections::BTreeSet;

use postloan_tests::{Book, PLATFORM_TOKEN, RedisServer, root, send};
use serde_json::{Value, json};

/// B's identifiers: distinctive, so an answer to A that carries one is found by a search.
const B_LOAN: &str = "LOAN-OF-B-7f3a";
const B_BORROWER: &str = "BORROWER-OF-B-7f3a";
const B_PAYMENT: &str = "PAY-OF-B-7f3a";
const B_IDEMPOTENCY_KEY: &str = "IDEM-OF-B-7f3a";
const B_PROMISE: &str = "PROMISE-OF-B-7f3a";
const B_EVENT: &str = "EVENT-OF-B-7f3a";
const B_IDS: [&str; 6] = [
    B_LOAN,
    B_BORROWER,
    B_PAYMENT,
    B_IDEMPOTENCY_KEY,
    B_PROMISE,
    B_EVENT,
];

/// B's borrower's personal data: never in an answer to A, whatever A sends.
const B_ID_NUMBER: &str = "440301197212259876";
const B_ADDRESS: &str = "+8613700137777";
const B_NAME: &str = "Qiu Tenant-B Borrower";

/// What A gives its own borrower when it books a loan under B's ids.
const A_ID_NUMBER: &str = "310101198001010011";
const A_ADDRESS: &str = "+8613900139999";
const A_NAME: &str = "Tenant-A Borrower";

/// The due dates of every loan here, 1000.00 each.
const DUE_DATES: [&str; 3] = ["2026-01-01", "2026-02-01", "2026-03-01"];

/// The business dates B closes.
const CLOSED: [&str; 2] = ["2026-02-28", "2026-03-01"];

/// The loan-book routes' source, read for its `(Method::…)` arms.
const BOOK_SOURCE: &str = "crates/service/src/book/http.rs";

/// What B holds that the walk aims at, beside the constant ids.
struct OfB {
    /// Every action in B's outbox.
    actions: Vec<i64>,
    /// B's close-of-business runs.
    jobs: Vec<i64>,
    /// The collector queue B's loan stands in.
    queue: String,
    /// B's audit entries' numbers and hashes.
    audit_seqs: BTreeSet<i64>,
    audit_hashes: BTreeSet<String>,
}

/// What an answer's status must be.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exactly this status.
    Status(u16),
    /// A 404 of a route that exists: the thing is not the caller's tenant's.
    NoSuch,
    /// Some 4xx.
    ClientError,
}

type Check = fn(&Value, &OfB) -> Result<(), String>;

/// One request of the walk: the route it exercises (as the arm is read from http.rs), the
/// request, and what A must get.
struct Probe {
    route: &'static str,
    method: &'static str,
    path: String,
    body: Option<Value>,
    expect: Expect,
    check: Check,
}

fn probe(
    route: &'static str,
    path: impl Into<String>,
    body: Option<Value>,
    expect: Expect,
) -> Probe {
    let (method, _) = route.split_once(' ').expect("`METHOD /path`");
    Probe {
        route,
        method,
        path: path.into(),
        body,
        expect,
        check: |_, _| Ok(()),
    }
}

impl Probe {
    fn then(mut self, check: Check) -> Self {
        self.check = check;
        self
    }

    fn describe(&self) -> String {
        match &self.body {
            Some(body) => format!("{} {} {body}", self.method, self.path),
            None => format!("{} {}", self.method, self.path),
        }
    }
}

// ---- checks of A's answers -------------------------------------------------------------

fn tenant_is_a(body: &Value, _: &OfB) -> Result<(), String> {
    (body["tenant"] == "a" && body["name"] == "a")
        .then_some(())
        .ok_or_else(|| "the tenant shown is not `a`".into())
}

fn no_items(body: &Value, _: &OfB) -> Result<(), String> {
    match body["items"].as_array() {
        Some(items) if items.is_empty() => Ok(()),
        _ => Err("A has none, yet items are listed".into()),
    }
}

fn no_points(body: &Value, _: &OfB) -> Result<(), String> {
    match body["points"].as_array() {
        Some(points) if points.is_empty() => Ok(()),
        _ => Err("A closed no date, yet the trend has points".into()),
    }
}

fn empty_queue(body: &Value, b: &OfB) -> Result<(), String> {
    no_items(body, b)?;
    (body["queue"] == b.queue.as_str())
        .then_some(())
        .ok_or_else(|| "the queue named is not the one asked for".into())
}

fn audit_of_a(body: &Value, b: &OfB) -> Result<(), String> {
    let entries = body["entries"].as_array().ok_or("no entries")?;
    if !entries
        .iter()
        .any(|e| e["action"] == "tenant.created" && e["entity"] == "tenant:a")
    {
        return Err("A's own `tenant.created` entry is missing".into());
    }
    for entry in entries {
        let seq = entry["seq"].as_i64().ok_or("an entry without seq")?;
        let hash = entry["hash"].as_str().unwrap_or_default();
        if b.audit_seqs.contains(&seq) || b.audit_hashes.contains(hash) {
            return Err(format!("entry {seq} is B's"));
        }
        if entry["entity"] == "tenant:b" {
            return Err(format!("entry {seq} is about tenant b"));
        }
    }
    Ok(())
}

fn intact(body: &Value, _: &OfB) -> Result<(), String> {
    (body["intact"] == true && body["entries"].as_u64().is_some_and(|n| n >= 1))
        .then_some(())
        .ok_or_else(|| "A's chain is not intact".into())
}

fn close_of_a(body: &Value, b: &OfB) -> Result<(), String> {
    let jobs = body["jobs"].as_array().ok_or("no jobs")?;
    let last = jobs.last().ok_or("no job run")?;
    if last["business_date"] != "2026-03-01" || last["status"] != "completed" {
        return Err("2026-03-01 is not closed for A".into());
    }
    for job in jobs {
        let id = job["id"].as_i64().ok_or("a job without id")?;
        if b.jobs.contains(&id) {
            return Err(format!("job {id} is B's"));
        }
        if job["total"] != 0 || job["processed"] != 0 || job["actions"] != 0 {
            return Err(format!("job {id} worked loans, yet A has none"));
        }
    }
    Ok(())
}

fn key_of_a(body: &Value, _: &OfB) -> Result<(), String> {
    (body["role"] == "viewer" && body["key"].as_str().is_some_and(|k| !k.is_empty()))
        .then_some(())
        .ok_or_else(|| "no viewer key".into())
}

fn namesake_of_a(body: &Value, _: &OfB) -> Result<(), String> {
    let borrower = &body["borrower"];
    if borrower["id_number"] != A_ID_NUMBER || borrower["profile"]["name"] != A_NAME {
        return Err("the borrower shown is not the one A booked".into());
    }
    if body["loan"]["payments"]
        .as_array()
        .is_none_or(|p| !p.is_empty())
        || body["promises"].as_array().is_none_or(|p| !p.is_empty())
    {
        return Err("A's new loan shows payments or promises".into());
    }
    Ok(())
}

// ---- the table -------------------------------------------------------------------------

fn envelope(id: &str, tenant: &str, kind: &str, data: Value) -> Value {
    json!({ "id": id, "tenant": tenant, "type": kind, "occurred_at": "2026-03-01T03:00:00Z", "data": data })
}

fn profile(name: &str, address: &str) -> Value {
    json!({
        "name": name,
        "language": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "contact_points": [{ "channel": "sms", "address": address }]
    })
}

/// A loan of three installments of 1000.00, due 2026-01-01, 02-01 and 03-01.
fn loan(id: &str, borrower: &str, id_number: &str, name: &str, address: &str) -> Value {
    json!({
        "id": id,
        "borrower": { "id": borrower, "id_number": id_number, "profile": profile(name, address) },
        "currency": "CNY",
        "disbursed_on": "2025-12-01",
        "installments": DUE_DATES.iter().enumerate().map(|(i, due)| json!({
            "seq": i + 1, "due_date": due, "principal": "1000.00", "interest": "0"
        })).collect::<Vec<_>>()
    })
}

fn b_payment() -> Value {
    json!({ "id": B_PAYMENT, "value_date": "2026-01-01", "amount": "1000.00" })
}

fn b_promise() -> Value {
    json!({ "id": B_PROMISE, "amount": "500.00", "date": "2026-02-10", "made_on": "2026-02-03" })
}

fn b_outcome() -> Value {
    json!({ "channel": "sms", "at": "2026-02-05T03:00:00Z", "outcome": "no_answer" })
}

fn b_event() -> Value {
    envelope(
        B_EVENT,
        "b",
        "contact.outcome",
        json!({ "loan_id": B_LOAN, "channel": "voice_call", "at": "2026-02-06T03:00:00Z", "outcome": "no_answer" }),
    )
}

/// The walk, in order, aimed at B's identifiers.
fn probes(b: &OfB) -> Vec<Probe> {
    use Expect::{ClientError, NoSuch, Status};
    let b_loan = |rest: &str| format!("/v1/loans/{B_LOAN}{rest}");
    let b_borrower = |rest: &str| format!("/v1/borrowers/{B_BORROWER}{rest}");
    let mut walk = vec![
        // `handle`: the routes without a tenant key.
        probe(
            "GET /v1/openapi.json",
            "/v1/openapi.json",
            None,
            Status(200),
        ),
        probe(
            "POST /v1/tenants",
            "/v1/tenants",
            Some(json!({ "id": "b", "name": "b" })),
            Status(401),
        ),
        // Reads: B's things are not there, lists hold A's (nothing yet).
        probe("GET /v1/tenant", "/v1/tenant", None, Status(200)).then(tenant_is_a),
        probe("GET /v1/loans", "/v1/loans", None, Status(200)).then(no_items),
        probe(
            "GET /v1/loans",
            format!("/v1/loans?queue={}&status=active&limit=500", b.queue),
            None,
            Status(200),
        )
        .then(no_items),
        probe("GET /v1/loans", "/v1/loans?cursor=", None, Status(200)).then(no_items),
        probe("GET /v1/loans/{}", b_loan(""), None, NoSuch),
        probe(
            "GET /v1/loans/{}",
            b_loan("?as_of=2026-03-01"),
            None,
            NoSuch,
        ),
        probe(
            "GET /v1/queues/{}",
            format!("/v1/queues/{}", b.queue),
            None,
            Status(200),
        )
        .then(empty_queue),
        probe(
            "GET /v1/queues/{}",
            format!("/v1/queues/{}?limit=1000", b.queue),
            None,
            Status(200),
        )
        .then(empty_queue),
        probe("GET /v1/queues", "/v1/queues", None, Status(200)).then(no_items),
        probe("GET /v1/jobs", "/v1/jobs?limit=100", None, Status(200)).then(no_items),
        probe("GET /v1/actions", "/v1/actions", None, Status(200)).then(no_items),
        probe(
            "GET /v1/actions",
            "/v1/actions?status=acknowledged",
            None,
            Status(200),
        )
        .then(no_items),
        probe(
            "GET /v1/actions",
            "/v1/actions?after=0&limit=1000",
            None,
            Status(200),
        )
        .then(no_items),
        probe(
            "GET /v1/portfolio",
            "/v1/portfolio?date=2026-03-01",
            None,
            NoSuch,
        ),
        probe(
            "GET /v1/portfolio",
            "/v1/portfolio?date=2026-02-28&format=csv",
            None,
            NoSuch,
        ),
        probe(
            "GET /v1/portfolio/flows",
            "/v1/portfolio/flows?from=2026-02-28&to=2026-03-01",
            None,
            NoSuch,
        ),
        probe(
            "GET /v1/portfolio/trend",
            "/v1/portfolio/trend?from=2026-02-01&to=2026-03-01",
            None,
            Status(200),
        )
        .then(no_points),
        probe(
            "GET /v1/portfolio/trend",
            "/v1/portfolio/trend?from=2026-02-28&to=2026-03-01&format=csv",
            None,
            Status(200),
        ),
        probe("GET /v1/audit", "/v1/audit", None, Status(200)).then(audit_of_a),
        probe(
            "GET /v1/audit",
            "/v1/audit?before=9223372036854775807&limit=500",
            None,
            Status(200),
        )
        .then(audit_of_a),
        probe("GET /v1/audit", "/v1/audit?after=0", None, Status(200)).then(audit_of_a),
        probe(
            "GET /v1/audit/verify",
            "/v1/audit/verify",
            None,
            Status(200),
        )
        .then(intact),
    ];
    for job in &b.jobs {
        walk.push(probe(
            "GET /v1/jobs/{}",
            format!("/v1/jobs/{job}"),
            None,
            NoSuch,
        ));
    }
    // Changes aimed at B's things: refused, as if they did not exist.
    walk.extend([
        probe(
            "POST /v1/loans/{}/payments",
            b_loan("/payments"),
            Some(json!({ "id": "PAY-BY-A", "value_date": "2026-03-01", "amount": "3000.00" })),
            NoSuch,
        ),
        // B's own payment again: not "applied before" (200), not a conflict (409).
        probe(
            "POST /v1/loans/{}/payments",
            b_loan("/payments"),
            Some(b_payment()),
            NoSuch,
        ),
        probe(
            "POST /v1/loans/{}/payments/{}/reversal",
            b_loan(&format!("/payments/{B_PAYMENT}/reversal")),
            None,
            NoSuch,
        ),
        probe(
            "POST /v1/loans/{}/pauses",
            b_loan("/pauses"),
            Some(json!({ "from": "2026-02-01", "to": "2026-12-31", "reason": "by A" })),
            NoSuch,
        ),
        probe(
            "POST /v1/loans/{}/extensions",
            b_loan("/extensions"),
            Some(json!({ "periods": 2 })),
            NoSuch,
        ),
        probe(
            "POST /v1/loans/{}/write-off",
            b_loan("/write-off"),
            Some(json!({ "reason": "by A" })),
            NoSuch,
        ),
        probe(
            "POST /v1/loans/{}/restructure",
            b_loan("/restructure"),
            Some(json!({
                "on": "2026-03-01", "reason": "by A", "approved_by": "A", "annual_rate": "0",
                "term": 2, "frequency": "monthly", "method": "annuity",
                "first_due_date": "2026-04-01", "day_count": "30/360"
            })),
            NoSuch,
        ),
        probe(
            "POST /v1/loans/{}/re-age",
            b_loan("/re-age"),
            Some(json!({
                "on": "2026-03-01", "reason": "by A", "approved_by": "A", "installments": 2,
                "frequency": "monthly", "first_due_date": "2026-04-01"
            })),
            NoSuch,
        ),
        probe(
            "POST /v1/loans/{}/promises",
            b_loan("/promises"),
            Some(json!({ "id": "PROMISE-BY-A", "amount": "10.00", "date": "2026-12-31" })),
            NoSuch,
        ),
        probe(
            "POST /v1/loans/{}/promises",
            b_loan("/promises"),
            Some(b_promise()),
            NoSuch,
        ),
        probe(
            "POST /v1/loans/{}/contact-outcomes",
            b_loan("/contact-outcomes"),
            Some(json!({ "channel": "sms", "at": "2026-03-01T03:00:00Z", "outcome": "refused" })),
            NoSuch,
        ),
        probe(
            "POST /v1/borrowers/{}/dispute",
            b_borrower("/dispute"),
            Some(json!({ "open": true })),
            NoSuch,
        ),
        probe(
            "POST /v1/borrowers/{}/dispute",
            b_borrower("/dispute"),
            Some(json!({ "open": false })),
            NoSuch,
        ),
        probe(
            "POST /v1/borrowers/{}/hardship",
            b_borrower("/hardship"),
            Some(json!({ "open": true })),
            NoSuch,
        ),
        probe(
            "PUT /v1/borrowers/{}/opt-outs",
            b_borrower("/opt-outs"),
            Some(json!({ "channels": ["sms", "voice_call"] })),
            NoSuch,
        ),
    ]);
    for action in &b.actions {
        walk.push(probe(
            "POST /v1/actions/{}/ack",
            format!("/v1/actions/{action}/ack"),
            None,
            NoSuch,
        ));
    }
    walk.extend([
        // Events for tenant b, with A's key: refused, whatever they carry.
        probe(
            "POST /v1/events",
            "/v1/events",
            Some(envelope(
                "EVENT-BY-A-1",
                "b",
                "payment.posted",
                json!({ "loan_id": B_LOAN, "id": "PAY-BY-A", "value_date": "2026-03-01", "amount": "3000.00" }),
            )),
            ClientError,
        ),
        probe(
            "POST /v1/events",
            "/v1/events",
            Some(envelope(
                "EVENT-BY-A-2",
                "b",
                "loan.created",
                loan("LOAN-BY-A-INTO-B", "BORROWER-BY-A", A_ID_NUMBER, A_NAME, A_ADDRESS),
            )),
            ClientError,
        ),
        probe(
            "POST /v1/events",
            "/v1/events",
            Some(envelope(
                "EVENT-BY-A-3",
                "b",
                "dispute.opened",
                json!({ "borrower_id": B_BORROWER }),
            )),
            ClientError,
        ),
        // B's own event again: not acknowledged as a duplicate.
        probe("POST /v1/events", "/v1/events", Some(b_event()), ClientError),
        // A's own tenant, aimed at B's borrower: A has no such borrower.
        probe(
            "POST /v1/events",
            "/v1/events",
            Some(envelope(
                "EVENT-BY-A-4",
                "a",
                "dispute.opened",
                json!({ "borrower_id": B_BORROWER }),
            )),
            NoSuch,
        ),
        // A's own changes: they touch A alone.
        probe(
            "PUT /v1/tenant/settings",
            "/v1/tenant/settings",
            Some(json!({ "contact": { "escalation": { "high_risk_tiers": [] } } })),
            Status(200),
        ),
        probe(
            "POST /v1/api-keys",
            "/v1/api-keys",
            Some(json!({ "role": "viewer", "label": "b-viewer" })),
            Status(201),
        )
        .then(key_of_a),
        probe(
            "POST /v1/jobs/close-of-business",
            "/v1/jobs/close-of-business?date=2026-03-01",
            None,
            Status(200),
        )
        .then(close_of_a),
        // B's loan and borrower ids are free in A: booked, not a conflict.
        probe(
            "POST /v1/loans",
            "/v1/loans",
            Some(loan(B_LOAN, B_BORROWER, A_ID_NUMBER, A_NAME, A_ADDRESS)),
            Status(201),
        )
        .then(namesake_of_a),
    ]);
    walk
}

// ---- the routes of http.rs -------------------------------------------------------------

/// Every `(Method::X, [segments])` arm of http.rs as `METHOD /v1/...`, a parameter as `{}`;
/// patterns of `route` (without `"v1"`) are under `/v1/`. An arm that cannot be read fails.
fn routes_in_code() -> BTreeSet<String> {
    let path = root().join(BOOK_SOURCE);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut routes = BTreeSet::new();
    for (at, _) in text.match_indices("(Method::") {
        let rest = &text[at + "(Method::".len()..];
        let context = rest.chars().take(80).collect::<String>();
        let method: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let slice = rest[method.len()..]
            .trim_start()
            .strip_prefix(',')
            .map(str::trim_start)
            .and_then(|p| p.strip_prefix('['))
            .unwrap_or_else(|| panic!("{BOOK_SOURCE}: cannot read the arm `(Method::{context}`"));
        let end = slice
            .find(']')
            .unwrap_or_else(|| panic!("{BOOK_SOURCE}: unterminated slice at `{context}`"));
        let mut segments: Vec<String> = slice[..end]
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|segment| {
                if let Some(literal) = segment.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    literal.to_owned()
                } else {
                    assert!(
                        segment
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_'),
                        "{BOOK_SOURCE}: the route segment `{segment}` is neither a literal nor a parameter; teach tests/tests/book_tenants.rs to read it"
                    );
                    "{}".to_owned()
                }
            })
            .collect();
        if segments.first().map(String::as_str) != Some("v1") {
            segments.insert(0, "v1".to_owned());
        }
        routes.insert(format!("{} /{}", method.to_uppercase(), segments.join("/")));
    }
    assert!(
        routes.len() > 10,
        "too few routes read from {BOOK_SOURCE}: {routes:?}"
    );
    routes
}

/// Whether `path` (its query left out) is an instance of the route's template.
fn instance_of(route: &str, path: &str) -> bool {
    let template = route.split_once(' ').map_or(route, |(_, t)| t);
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| if *t == "{}" { !p.is_empty() } else { t == p })
}

fn check_coverage(walk: &[Probe]) {
    for probe in walk {
        assert!(
            instance_of(probe.route, &probe.path),
            "the probe `{}` is not an instance of its route `{}`",
            probe.describe(),
            probe.route
        );
    }
    let probed: BTreeSet<String> = walk.iter().map(|p| p.route.to_owned()).collect();
    let code = routes_in_code();
    let unprobed: Vec<&String> = code.difference(&probed).collect();
    let stale: Vec<&String> = probed.difference(&code).collect();
    assert!(
        unprobed.is_empty() && stale.is_empty(),
        "the tenant walk is out of step with {BOOK_SOURCE}.\nRoutes no probe aims at tenant B: {unprobed:?}\nProbes of routes the code does not have: {stale:?}"
    );
}

#[test]
fn every_route_of_the_book_is_probed() {
    let placeholder = OfB {
        actions: vec![1],
        jobs: vec![1],
        queue: "q".into(),
        audit_seqs: BTreeSet::new(),
        audit_hashes: BTreeSet::new(),
    };
    check_coverage(&probes(&placeholder));
}

// ---- calling the host ------------------------------------------------------------------

/// Sends a request with `key` as bearer (none when `None`) and extra `headers`; the status
/// and body text.
fn request(
    book: &Book,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut builder = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("a client")
        .request(method, book.host.url(path));
    if let Some(key) = key {
        builder = builder.bearer_auth(key);
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if let Some(body) = body {
        builder = builder
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    send(builder)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// `GET path` with `key`, which must answer 200; its JSON.
fn get(book: &Book, key: &str, path: &str) -> Value {
    let (status, text) = request(book, "GET", path, Some(key), &[], None);
    assert_eq!(status, 200, "GET {path}: {text}");
    json_of(&text)
}

/// A change with `key` that must answer `status`; its JSON.
fn change(book: &Book, key: &str, method: &str, path: &str, body: Value, status: u16) -> Value {
    let (got, text) = request(book, method, path, Some(key), &[], Some(&body));
    assert_eq!(got, status, "{method} {path} {body}: {text}");
    json_of(&text)
}

/// Every action of one status in the key's outbox.
fn all_actions(book: &Book, key: &str, status: &str) -> Vec<Value> {
    let mut actions = Vec::new();
    let mut after = 0;
    loop {
        let page = get(
            book,
            key,
            &format!("/v1/actions?status={status}&after={after}&limit=1000"),
        );
        let items = page["items"].as_array().expect("items").clone();
        let Some(last) = items.last() else {
            return actions;
        };
        after = last["id"].as_i64().expect("an id");
        actions.extend(items);
    }
}

/// Every entry of the key's tenant's audit log.
fn all_audit(book: &Book, key: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut after = 0;
    loop {
        let page = get(book, key, &format!("/v1/audit?after={after}"));
        let items = page["entries"].as_array().expect("entries").clone();
        let Some(last) = items.last() else {
            return entries;
        };
        after = last["seq"].as_i64().expect("a seq");
        entries.extend(items);
    }
}

/// Everything B's admin reads: compared whole before and after A's walk.
fn state_of_b(book: &Book, key: &str, b: &OfB) -> Value {
    json!({
        "tenant": get(book, key, "/v1/tenant"),
        "loans": get(book, key, "/v1/loans"),
        "loan": get(book, key, &format!("/v1/loans/{B_LOAN}?as_of=2026-03-01")),
        "queue": get(book, key, &format!("/v1/queues/{}", b.queue)),
        "pending": all_actions(book, key, "pending"),
        "acknowledged": all_actions(book, key, "acknowledged"),
        "jobs": b.jobs.iter().map(|id| get(book, key, &format!("/v1/jobs/{id}"))).collect::<Vec<_>>(),
        "portfolio": get(book, key, "/v1/portfolio?date=2026-03-01"),
        "flows": get(book, key, "/v1/portfolio/flows?from=2026-02-28&to=2026-03-01"),
        "audit": all_audit(book, key),
        "verify": get(book, key, "/v1/audit/verify"),
    })
}

/// What of B an answer to A carries: B's personal data or audit hashes, or one of B's ids
/// that A did not send (`sent`: the request's path and body).
fn leaks(sent: &str, answer: &str, b: &OfB, ids_too: bool) -> Vec<String> {
    let mut found: Vec<String> = [B_ID_NUMBER, B_ADDRESS, B_NAME]
        .into_iter()
        .filter(|secret| answer.contains(secret))
        .map(|secret| format!("B's personal data `{secret}`"))
        .collect();
    found.extend(
        b.audit_hashes
            .iter()
            .filter(|hash| answer.contains(hash.as_str()))
            .map(|hash| format!("B's audit hash {hash}")),
    );
    if ids_too {
        found.extend(
            B_IDS
                .iter()
                .filter(|id| answer.contains(*id) && !sent.contains(*id))
                .map(|id| format!("B's id `{id}`, which A did not send")),
        );
    }
    found
}

/// Sets B up; its admin key, collector and viewer keys, and what the walk aims at.
fn set_up_b(book: &Book, key: &str) -> (String, String, OfB) {
    let booked = change(
        book,
        key,
        "POST",
        "/v1/loans",
        loan(B_LOAN, B_BORROWER, B_ID_NUMBER, B_NAME, B_ADDRESS),
        201,
    );
    assert_eq!(booked["borrower"]["id_number"], B_ID_NUMBER, "{booked}");
    let (status, text) = request(
        book,
        "POST",
        &format!("/v1/loans/{B_LOAN}/payments"),
        Some(key),
        &[("idempotency-key", B_IDEMPOTENCY_KEY)],
        Some(&b_payment()),
    );
    assert_eq!(status, 201, "B's payment: {text}");
    change(
        book,
        key,
        "POST",
        &format!("/v1/loans/{B_LOAN}/promises"),
        b_promise(),
        201,
    );
    change(
        book,
        key,
        "POST",
        &format!("/v1/loans/{B_LOAN}/contact-outcomes"),
        b_outcome(),
        201,
    );
    change(book, key, "POST", "/v1/events", b_event(), 201);
    let collector = change(
        book,
        key,
        "POST",
        "/v1/api-keys",
        json!({ "role": "collector", "label": "b-collector" }),
        201,
    )["key"]
        .as_str()
        .expect("a key")
        .to_owned();
    let viewer = change(
        book,
        key,
        "POST",
        "/v1/api-keys",
        json!({ "role": "viewer", "label": "b-viewer" }),
        201,
    )["key"]
        .as_str()
        .expect("a key")
        .to_owned();
    let mut jobs = Vec::new();
    for date in CLOSED {
        let closed = book.close(key, date);
        let runs = closed["jobs"].as_array().expect("jobs");
        assert!(
            runs.iter()
                .all(|j| j["processed"] == 1 && j["status"] == "completed"),
            "B's close of {date} worked its loan: {closed}"
        );
        jobs.extend(runs.iter().map(|j| j["id"].as_i64().expect("a job id")));
    }
    jobs.sort_unstable();
    jobs.dedup();
    let pending = all_actions(book, key, "pending");
    assert!(!pending.is_empty(), "B has actions in its outbox");
    let actions: Vec<i64> = pending
        .iter()
        .map(|a| a["id"].as_i64().expect("an id"))
        .collect();
    let standing = &get(book, key, &format!("/v1/loans/{B_LOAN}"))["standing"];
    let queue = standing["queue"]
        .as_str()
        .or_else(|| pending.iter().find_map(|a| a["queue"].as_str()))
        .unwrap_or("collections")
        .to_owned();
    let audit = all_audit(book, key);
    assert!(audit.len() >= 8, "B's changes are audited: {audit:?}");
    let b = OfB {
        actions,
        jobs,
        queue,
        audit_seqs: audit.iter().filter_map(|e| e["seq"].as_i64()).collect(),
        audit_hashes: audit
            .iter()
            .filter_map(|e| e["hash"].as_str().map(str::to_owned))
            .collect(),
    };
    (collector, viewer, b)
}

#[test]
fn tenant_a_reads_or_changes_nothing_of_tenant_b() {
    let redis = RedisServer::start();
    let book = Book::start("book-tenants", &redis);
    let a_key = book.create_tenant("a", json!({}));
    let b_key = book.create_tenant("b", json!({}));
    let (b_collector, b_viewer, b) = set_up_b(&book, &b_key);
    let before = state_of_b(&book, &b_key, &b);
    // B's reads that A's must not match: B's queue and portfolio hold B's loan.
    if before["loan"]["standing"]["queue"] == b.queue.as_str() {
        assert_eq!(
            before["queue"]["items"][0]["loan_id"], B_LOAN,
            "B's queue lists B's loan: {}",
            before["queue"]
        );
    }
    assert_eq!(
        before["portfolio"]["totals"]["loans"], 1,
        "{}",
        before["portfolio"]
    );

    let walk = probes(&b);
    check_coverage(&walk);
    let mut failures = Vec::new();
    let mut answers = Vec::new();
    for probe in &walk {
        let (status, text) = request(
            &book,
            probe.method,
            &probe.path,
            Some(&a_key),
            &[],
            probe.body.as_ref(),
        );
        let body = json_of(&text);
        let status_ok = match probe.expect {
            Expect::Status(expected) => status == expected,
            Expect::NoSuch => {
                status == 404
                    && body["type"] == "urn:postloan:problem:not-found"
                    && !body["detail"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with("no resource at")
            }
            Expect::ClientError => (400..500).contains(&status),
        };
        if !status_ok {
            failures.push(format!(
                "{} → {status}, expected {:?}: {text}",
                probe.describe(),
                probe.expect
            ));
            continue;
        }
        if let Err(why) = (probe.check)(&body, &b) {
            failures.push(format!("{} → {status}: {why}: {text}", probe.describe()));
        }
        let sent = format!(
            "{} {}",
            probe.path,
            probe
                .body
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default()
        );
        for leak in leaks(&sent, &text, &b, true) {
            failures.push(format!(
                "{} → {status} carries {leak}: {text}",
                probe.describe()
            ));
        }
        answers.push((probe.route, body));
    }
    assert!(
        failures.is_empty(),
        "tenant a's key reached tenant b's book:\n{}",
        failures.join("\n")
    );

    // The key A made is A's.
    let a_viewer = answers
        .iter()
        .find(|(route, _)| *route == "POST /v1/api-keys")
        .and_then(|(_, body)| body["key"].as_str())
        .expect("A's new key")
        .to_owned();
    let shown = get(&book, &a_viewer, "/v1/tenant");
    assert_eq!(
        (shown["tenant"].as_str(), shown["role"].as_str()),
        (Some("a"), Some("viewer")),
        "{shown}"
    );

    // B's payment, idempotency key, promise and event ids are free in A: each is new there,
    // so A learns nothing of B's from a conflict or a "duplicate".
    let mut namesakes = Vec::new();
    let (status, text) = request(
        &book,
        "POST",
        &format!("/v1/loans/{B_LOAN}/payments"),
        Some(&a_key),
        &[("idempotency-key", B_IDEMPOTENCY_KEY)],
        Some(&b_payment()),
    );
    assert_eq!(status, 201, "A's payment under B's ids: {text}");
    namesakes.push(text);
    let (status, text) = request(
        &book,
        "POST",
        &format!("/v1/loans/{B_LOAN}/payments"),
        Some(&a_key),
        &[("idempotency-key", B_IDEMPOTENCY_KEY)],
        Some(&json!({ "id": "PAY-BY-A-2", "value_date": "2026-02-01", "amount": "1000.00" })),
    );
    assert_eq!(
        status, 409,
        "A's own idempotency key, reused for another payment, conflicts in A alone: {text}"
    );
    let (status, text) = request(
        &book,
        "POST",
        &format!("/v1/loans/{B_LOAN}/promises"),
        Some(&a_key),
        &[],
        Some(&b_promise()),
    );
    assert_eq!(status, 201, "A's promise under B's id: {text}");
    namesakes.push(text);
    let mut a_event = b_event();
    a_event["tenant"] = json!("a");
    let (status, text) = request(
        &book,
        "POST",
        "/v1/events",
        Some(&a_key),
        &[],
        Some(&a_event),
    );
    let event = json_of(&text);
    assert_eq!(
        (status, event["status"].as_str()),
        (201, Some("applied")),
        "A's event under B's event id is new in A: {text}"
    );
    namesakes.push(text);
    let (status, text) = request(
        &book,
        "POST",
        &format!("/v1/borrowers/{B_BORROWER}/dispute"),
        Some(&a_key),
        &[],
        Some(&json!({ "open": true })),
    );
    assert_eq!(status, 200, "A's own borrower under B's id: {text}");
    namesakes.push(text);
    let (status, text) = request(
        &book,
        "GET",
        &format!("/v1/loans/{B_LOAN}?as_of=2026-03-01"),
        Some(&a_key),
        &[],
        None,
    );
    assert_eq!(status, 200, "{text}");
    let own = json_of(&text);
    assert_eq!(own["borrower"]["id_number"], A_ID_NUMBER, "{own}");
    assert_eq!(own["borrower"]["profile"]["dispute_open"], true, "{own}");
    assert_eq!(
        own["loan"]["payments"].as_array().map(Vec::len),
        Some(1),
        "A's loan has A's one payment: {own}"
    );
    namesakes.push(text);
    // A's portfolio of 2026-03-01 is A's: closed before A booked a loan.
    let portfolio = get(&book, &a_key, "/v1/portfolio?date=2026-03-01");
    assert_eq!(portfolio["totals"]["loans"], 0, "{portfolio}");
    namesakes.push(portfolio.to_string());
    for text in &namesakes {
        let found = leaks("", text, &b, false);
        assert!(found.is_empty(), "an answer to A carries {found:?}: {text}");
    }

    // Without a key, or with a key nobody issued, every route is refused.
    let unknown = format!("pl_{}", "0".repeat(64));
    for probe in &walk {
        let open = probe.route == "GET /v1/openapi.json";
        for key in [None, Some(unknown.as_str())] {
            let (status, text) = request(
                &book,
                probe.method,
                &probe.path,
                key,
                &[],
                probe.body.as_ref(),
            );
            let expected = if open { 200 } else { 401 };
            assert_eq!(
                status,
                expected,
                "{} with key {key:?}: {text}",
                probe.describe()
            );
        }
    }
    // The platform token may not take tenant b over either.
    let (status, text) = request(
        &book,
        "POST",
        "/v1/tenants",
        Some(PLATFORM_TOKEN),
        &[],
        Some(&json!({ "id": "b", "name": "taken over" })),
    );
    assert_eq!(status, 409, "{text}");

    // B's other roles: a collector may not book loans and sees personal data; a viewer sees
    // identity numbers and addresses masked to their last four characters.
    change(
        &book,
        &b_collector,
        "POST",
        "/v1/loans",
        loan(
            "LOAN-BY-COLLECTOR",
            "BORROWER-BY-COLLECTOR",
            A_ID_NUMBER,
            A_NAME,
            A_ADDRESS,
        ),
        403,
    );
    let path = format!("/v1/loans/{B_LOAN}?as_of=2026-03-01");
    let masked_id = format!(
        "{}{}",
        "*".repeat(B_ID_NUMBER.len() - 4),
        &B_ID_NUMBER[B_ID_NUMBER.len() - 4..]
    );
    let masked_address = format!(
        "{}{}",
        "*".repeat(B_ADDRESS.len() - 4),
        &B_ADDRESS[B_ADDRESS.len() - 4..]
    );
    for (who, key, id_number, address) in [
        ("admin", b_key.as_str(), B_ID_NUMBER, B_ADDRESS),
        ("collector", b_collector.as_str(), B_ID_NUMBER, B_ADDRESS),
        (
            "viewer",
            b_viewer.as_str(),
            masked_id.as_str(),
            masked_address.as_str(),
        ),
    ] {
        let view = get(&book, key, &path);
        assert_eq!(
            (
                view["borrower"]["id_number"].as_str(),
                view["borrower"]["profile"]["contact_points"][0]["address"].as_str()
            ),
            (Some(id_number), Some(address)),
            "B's {who} sees: {}",
            view["borrower"]
        );
    }
    let (status, text) = request(&book, "GET", &path, Some(&b_viewer), &[], None);
    assert_eq!(status, 200);
    assert!(
        !text.contains(B_ID_NUMBER) && !text.contains(B_ADDRESS),
        "the viewer's answer carries personal data: {text}"
    );
    for action in all_actions(&book, &b_viewer, "pending") {
        if let Some(address) = action["detail"]["address"].as_str() {
            assert_eq!(
                address, masked_address,
                "the viewer sees an action's address: {action}"
            );
        }
    }

    // B's book is as it was.
    let after = state_of_b(&book, &b_key, &b);
    assert_eq!(
        after["loan"]["standing"], before["loan"]["standing"],
        "B's loan's standing changed"
    );
    assert_eq!(
        after["loan"]["loan"]["payments"], before["loan"]["loan"]["payments"],
        "B's payments changed"
    );
    assert_eq!(
        after["loan"]["borrower"], before["loan"]["borrower"],
        "B's borrower changed"
    );
    for list in ["pending", "acknowledged", "audit"] {
        assert_eq!(
            after[list].as_array().map(Vec::len),
            before[list].as_array().map(Vec::len),
            "the number of B's {list} entries changed"
        );
    }
    assert_eq!(
        (
            after["verify"]["intact"].as_bool(),
            &after["verify"]["entries"]
        ),
        (Some(true), &before["verify"]["entries"]),
        "B's audit chain: {}",
        after["verify"]
    );
    assert_eq!(after, before, "B's book changed while A walked it");

    // A's audit log and its verification count A's entries alone.
    let a_audit = all_audit(&book, &a_key);
    assert!(
        a_audit.iter().all(|e| {
            e["seq"]
                .as_i64()
                .is_some_and(|s| !b.audit_seqs.contains(&s))
                && e["hash"]
                    .as_str()
                    .is_some_and(|h| !b.audit_hashes.contains(h))
        }),
        "A's log holds B's entries: {a_audit:?}"
    );
    let verify = get(&book, &a_key, "/v1/audit/verify");
    assert_eq!(
        (verify["intact"].as_bool(), verify["entries"].as_u64()),
        (Some(true), Some(a_audit.len() as u64)),
        "{verify}"
    );
}
