//! The OpenAPI document served at `GET /v1/openapi.json` stays honest: it describes exactly
//! the routes the code answers (read from the match arms of the service's source), every
//! `$ref` in it resolves, every path parameter is declared, and its problem types are those
//! the code answers. These need no built component. The last test runs the loan book and
//! holds each route's documented statuses to the answers it really gives: every status
//! answered is documented, and each documented `401`, `403` and `404` is answered — `403`
//! to exactly the roles the route's `x-postloan-roles` leaves out.

use std::collections::{BTreeMap, BTreeSet};

use postloan_tests::{Book, PLATFORM_TOKEN, RedisServer, readme_request, root};
use serde_json::{Value, json};

/// The document, as `crates/service/src/book/http.rs` embeds it.
const DOCUMENT: &str = "crates/service/src/book/openapi.json";

/// The stateless routes and the `STATELESS` paths.
const STATELESS_SOURCE: &str = "crates/service/src/lib.rs";

/// The loan book's routes: `handle` (with `/v1/` in its patterns) and `route` (without).
const BOOK_SOURCE: &str = "crates/service/src/book/http.rs";

/// The problem bodies and their types.
const PROBLEM_SOURCE: &str = "crates/service/src/problem.rs";

/// The keys of an OpenAPI path item that are operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A route: the lower-case method and the path template with every parameter as `{}`.
type Route = (String, String);

fn document() -> Value {
    let path = root().join(DOCUMENT);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{DOCUMENT} is not JSON: {e}"))
}

fn source(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A path template with its parameter names left out: `/v1/loans/{id}` → `/v1/loans/{}`.
fn template(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn show(routes: &BTreeSet<Route>) -> String {
    routes
        .iter()
        .map(|(method, path)| format!("  {} {path}", method.to_uppercase()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a match arm `(Method::X, PATTERN)` matches the path against.
enum Pattern {
    /// A string literal: the whole path, as in `lib.rs`.
    Literal(String),
    /// A slice pattern's segments, as in `book/http.rs`: `Some(name)` for a literal,
    /// `None` for a binding (a parameter).
    Segments(Vec<Option<String>>),
}

/// Every `(Method::X, PATTERN)` arm in `text`; an arm whose pattern cannot be read fails the
/// test, so a route written in a new way is not silently left out.
fn arms(file: &str, text: &str) -> Vec<(String, Pattern)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("(Method::") {
        let rest = &text[at + "(Method::".len()..];
        let context = || rest.chars().take(80).collect::<String>();
        let method: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let Some(after_comma) = rest[method.len()..].trim_start().strip_prefix(',') else {
            panic!("{file}: cannot read the arm at `(Method::{}`", context());
        };
        let pattern = after_comma.trim_start();
        let pattern = if let Some(literal) = pattern.strip_prefix('"') {
            let end = literal
                .find('"')
                .unwrap_or_else(|| panic!("{file}: unterminated path at `{}`", context()));
            Pattern::Literal(literal[..end].to_owned())
        } else if let Some(slice) = pattern.strip_prefix('[') {
            let end = slice
                .find(']')
                .unwrap_or_else(|| panic!("{file}: unterminated slice at `{}`", context()));
            Pattern::Segments(
                slice[..end]
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|segment| segment_pattern(file, segment))
                    .collect(),
            )
        } else {
            panic!(
                "{file}: cannot read the path pattern of `(Method::{}`",
                context()
            );
        };
        found.push((method.to_lowercase(), pattern));
    }
    found
}

/// One element of a slice pattern: a string literal, or a bare identifier binding a
/// parameter (`id`, `name`, `payment`, `_`).
fn segment_pattern(file: &str, segment: &str) -> Option<String> {
    if let Some(literal) = segment.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Some(literal.to_owned());
    }
    let identifier = segment
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !segment.starts_with(|c: char| c.is_ascii_digit());
    assert!(
        identifier,
        "{file}: the route segment `{segment}` is neither a literal nor a parameter; teach tests/tests/openapi.rs to read it"
    );
    None
}

/// The string literals of `const NAME: [&str; N] = [...];` in `text`.
fn string_array(text: &str, name: &str) -> BTreeSet<String> {
    let start = text
        .find(&format!("const {name}"))
        .unwrap_or_else(|| panic!("no `const {name}`"));
    let body = &text[start..];
    let open = body.find("= [").expect("an array") + 3;
    let close = open + body[open..].find("];").expect("the array's end");
    body[open..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or_else(|| panic!("`{s}` in {name} is not a string literal"))
                .to_owned()
        })
        .collect()
}

/// The stateless routes of `lib.rs`; each path of `STATELESS` has an arm, and each arm's
/// path is in `STATELESS`.
fn stateless_routes() -> BTreeSet<Route> {
    let text = source(STATELESS_SOURCE);
    let mut routes = BTreeSet::new();
    for (method, pattern) in arms(STATELESS_SOURCE, &text) {
        match pattern {
            Pattern::Literal(path) => routes.insert((method, path)),
            Pattern::Segments(_) => {
                panic!("{STATELESS_SOURCE}: a slice pattern in a stateless arm")
            }
        };
    }
    let paths: BTreeSet<String> = routes.iter().map(|(_, path)| path.clone()).collect();
    assert_eq!(
        paths,
        string_array(&text, "STATELESS"),
        "{STATELESS_SOURCE}: the STATELESS paths are not those of the match arms"
    );
    routes
}

/// The loan book's routes of `book/http.rs`: patterns that start with `"v1"` are whole
/// paths (`handle`), the others are under `/v1/` (`route`).
fn book_routes() -> BTreeSet<Route> {
    let text = source(BOOK_SOURCE);
    let mut routes = BTreeSet::new();
    for (method, pattern) in arms(BOOK_SOURCE, &text) {
        let Pattern::Segments(segments) = pattern else {
            panic!("{BOOK_SOURCE}: a string pattern in a book arm");
        };
        let mut parts: Vec<String> = segments
            .into_iter()
            .map(|s| s.unwrap_or_else(|| "{}".to_owned()))
            .collect();
        if parts.first().map(String::as_str) != Some("v1") {
            parts.insert(0, "v1".to_owned());
        }
        let path = format!("/{}", parts.join("/"));
        assert!(
            routes.insert((method.clone(), path.clone())),
            "{BOOK_SOURCE}: {method} {path} has two arms"
        );
    }
    routes
}

fn routes_in_code() -> BTreeSet<Route> {
    let stateless = stateless_routes();
    let book = book_routes();
    assert!(
        !stateless.is_empty() && !book.is_empty(),
        "no routes read from the source: stateless {stateless:?}, book {book:?}"
    );
    stateless.union(&book).cloned().collect()
}

fn routes_in_document(document: &Value) -> BTreeSet<Route> {
    let paths = document["paths"].as_object().expect("`paths` is an object");
    let mut routes = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for method in item.keys().filter(|k| METHODS.contains(&k.as_str())) {
            assert!(
                routes.insert((method.clone(), template(path))),
                "{DOCUMENT}: {} {path} is described twice (ignoring parameter names)",
                method.to_uppercase()
            );
        }
    }
    routes
}

#[test]
fn the_document_is_openapi_3_1() {
    let document = document();
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3.1"),
        "openapi is `{version}`, not 3.1"
    );
    assert_eq!(document["info"]["title"], "postloan");
    assert!(document["paths"].is_object(), "no paths");
}

#[test]
fn the_document_describes_exactly_the_routes_of_the_code() {
    let code = routes_in_code();
    let described = routes_in_document(&document());
    let undocumented: BTreeSet<Route> = code.difference(&described).cloned().collect();
    let unanswered: BTreeSet<Route> = described.difference(&code).cloned().collect();
    assert!(
        undocumented.is_empty() && unanswered.is_empty(),
        "{DOCUMENT} is out of step with the code.\nRoutes in the code missing from the document:\n{}\nRoutes in the document that the code does not answer:\n{}",
        show(&undocumented),
        show(&unanswered)
    );
}

/// Every `$ref` in `value`, with where it stands.
fn refs<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref"
                    && let Some(target) = child.as_str()
                {
                    found.push((at.clone(), target));
                }
                refs(child, format!("{at}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_ref_resolves_to_a_component() {
    let document = document();
    let mut found = Vec::new();
    refs(&document, String::new(), &mut found);
    assert!(!found.is_empty(), "no $ref at all");
    let broken: Vec<String> = found
        .iter()
        .filter(|(_, target)| {
            !target.starts_with("#/components/")
                || document.pointer(&target[1..]).is_none_or(Value::is_null)
        })
        .map(|(at, target)| format!("  {target} (at {at})"))
        .collect();
    assert!(
        broken.is_empty(),
        "$refs that do not resolve to an entry of components:\n{}",
        broken.join("\n")
    );
}

/// A parameter, following a `$ref` to `components/parameters`.
fn resolve<'a>(document: &'a Value, parameter: &'a Value) -> &'a Value {
    match parameter["$ref"].as_str() {
        Some(target) => document
            .pointer(target.trim_start_matches('#'))
            .unwrap_or(&Value::Null),
        None => parameter,
    }
}

#[test]
fn every_path_parameter_is_declared() {
    let document = document();
    let mut wrong = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let in_template: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, operation) in item
            .as_object()
            .expect("a path item")
            .iter()
            .filter(|(k, _)| METHODS.contains(&k.as_str()))
        {
            let own = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let declared: BTreeSet<String> = shared
                .iter()
                .chain(own.iter())
                .map(|p| resolve(&document, p).clone())
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            let declared: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
            if declared != in_template {
                wrong.push(format!(
                    "  {} {path}: the template names {in_template:?}, the parameters {declared:?}",
                    method.to_uppercase()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "path parameters:\n{}", wrong.join("\n"));
}

#[test]
fn the_problem_types_are_those_the_code_answers() {
    let text = source(PROBLEM_SOURCE);
    let in_code: BTreeSet<String> = text
        .match_indices("\"urn:postloan:problem:")
        .map(|(at, _)| {
            let rest = &text[at + 1..];
            rest[..rest.find('"').expect("a closed string")].to_owned()
        })
        .collect();
    let document = document();
    let described: BTreeSet<String> =
        document["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
            .as_array()
            .expect("Problem.type lists its values")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
    assert!(
        !in_code.is_empty(),
        "no problem types read from {PROBLEM_SOURCE}"
    );
    assert_eq!(
        described, in_code,
        "the problem types of {DOCUMENT} are not those of {PROBLEM_SOURCE}"
    );
}

// ---- the documented statuses against the answers ----------------------------------------

/// The roles a tenant key may have, as `POST /v1/api-keys` names them.
const ROLES: [&str; 4] = ["admin", "collector", "viewer", "auditor"];

/// A path of no route of the code or the document: a method no route takes.
const NO_METHOD: &str = "PATCH";

/// The requests sent for one route: `path` names things that exist, each of `unknown` names
/// something that does not (a path id, or a business date not closed), both with `body`.
struct Case {
    route: &'static str,
    path: String,
    unknown: Vec<String>,
    body: Option<Value>,
}

fn case(route: &'static str, path: impl Into<String>, body: Option<Value>) -> Case {
    Case {
        route,
        path: path.into(),
        unknown: Vec::new(),
        body,
    }
}

impl Case {
    fn unknown(mut self, path: impl Into<String>) -> Self {
        self.unknown.push(path.into());
        self
    }

    fn method(&self) -> &str {
        self.route.split_once(' ').map_or("", |(method, _)| method)
    }
}

/// An answer: the status, and the problem body's own status when the content type is
/// `application/problem+json` (`None` otherwise).
struct Answer {
    status: u16,
    problem_status: Option<Value>,
    text: String,
}

fn call(book: &Book, method: &str, path: &str, key: Option<&str>, body: Option<&Value>) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("a client")
        .request(method, book.host.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().expect("the host answers");
    let status = response.status().as_u16();
    let problem = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "application/problem+json");
    let text = response.text().expect("a text body");
    let problem_status = problem
        .then(|| serde_json::from_str::<Value>(&text).map_or(Value::Null, |p| p["status"].clone()));
    Answer {
        status,
        problem_status,
        text,
    }
}

/// A loan of two installments of 1000.00 due 2026-01-01 and 02-01, with its borrower.
fn a_loan(id: &str, borrower: &str) -> Value {
    json!({
        "id": id,
        "borrower": { "id": borrower, "id_number": "110101199003071234", "profile": {
            "name": "张伟", "language": "zh-CN", "time_zone": "Asia/Shanghai",
            "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
        } },
        "currency": "CNY",
        "disbursed_on": "2025-12-01",
        "installments": [
            { "seq": 1, "due_date": "2026-01-01", "principal": "1000.00", "interest": "0" },
            { "seq": 2, "due_date": "2026-02-01", "principal": "1000.00", "interest": "0" }
        ]
    })
}

/// One request per route of the document, on a tenant with a loan `L-1` of borrower `B-1`,
/// its payment `P-1`, two closed business dates, a job and an action.
fn cases(job: i64, action: i64) -> Vec<Case> {
    let loan = |rest: &str| format!("/v1/loans/L-1{rest}");
    let no_loan = |rest: &str| format!("/v1/loans/NO-SUCH-LOAN{rest}");
    let borrower = |rest: &str| format!("/v1/borrowers/B-1{rest}");
    let no_borrower = |rest: &str| format!("/v1/borrowers/NO-SUCH-BORROWER{rest}");
    let event = |id: &str, kind: &str, data: Value| json!({ "id": id, "tenant": "t", "type": kind, "occurred_at": "2026-03-01T03:00:00Z", "data": data });
    vec![
        case("GET /v1/health", "/v1/health", None),
        case("POST /v1/assess", "/v1/assess", Some(readme_request())),
        case("POST /v1/assess/borrower", "/v1/assess/borrower", Some(json!({}))),
        case("POST /v1/schedules", "/v1/schedules", Some(json!({}))),
        case("POST /v1/contact-plan", "/v1/contact-plan", Some(json!({}))),
        case("POST /v1/score", "/v1/score", Some(json!({}))),
        case("GET /v1/openapi.json", "/v1/openapi.json", None),
        case(
            "POST /v1/tenants",
            "/v1/tenants",
            Some(json!({ "id": "t2", "name": "t2" })),
        ),
        case("GET /v1/tenant", "/v1/tenant", None),
        case(
            "PUT /v1/tenant/settings",
            "/v1/tenant/settings",
            Some(json!({ "contact": { "escalation": { "high_risk_tiers": [] } } })),
        ),
        case(
            "POST /v1/api-keys",
            "/v1/api-keys",
            Some(json!({ "role": "viewer", "label": "another" })),
        ),
        case("POST /v1/loans", "/v1/loans", Some(a_loan("L-2", "B-2"))),
        case("GET /v1/loans", "/v1/loans", None),
        case("GET /v1/loans/{}", loan(""), None).unknown(no_loan("")),
        case(
            "POST /v1/loans/{}/payments",
            loan("/payments"),
            Some(json!({ "id": "P-2", "value_date": "2026-02-01", "amount": "100.00" })),
        )
        .unknown(no_loan("/payments")),
        case(
            "POST /v1/loans/{}/payments/{}/reversal",
            loan("/payments/P-1/reversal"),
            None,
        )
        .unknown(no_loan("/payments/P-1/reversal"))
        .unknown(loan("/payments/NO-SUCH-PAYMENT/reversal")),
        case(
            "POST /v1/loans/{}/pauses",
            loan("/pauses"),
            Some(json!({ "from": "2026-02-01", "to": "2026-02-10", "reason": "hospital" })),
        )
        .unknown(no_loan("/pauses")),
        case(
            "POST /v1/loans/{}/extensions",
            loan("/extensions"),
            Some(json!({ "periods": 1 })),
        )
        .unknown(no_loan("/extensions")),
        case(
            "POST /v1/loans/{}/re-age",
            loan("/re-age"),
            Some(json!({
                "on": "2026-03-05", "reason": "hardship ended", "approved_by": "lead-1",
                "installments": 3, "frequency": "monthly", "first_due_date": "2026-04-05"
            })),
        )
        .unknown(no_loan("/re-age")),
        case(
            "POST /v1/loans/{}/restructure",
            loan("/restructure"),
            Some(json!({
                "on": "2026-03-10", "reason": "income fell", "approved_by": "lead-1",
                "annual_rate": "0.06", "term": 6, "frequency": "monthly",
                "method": "annuity", "first_due_date": "2026-04-10",
                "day_count": "actual/365", "capitalise": true
            })),
        )
        .unknown(no_loan("/restructure")),
        case(
            "POST /v1/loans/{}/write-off",
            loan("/write-off"),
            Some(json!({ "reason": "uncollectable" })),
        )
        .unknown(no_loan("/write-off")),
        case(
            "POST /v1/loans/{}/promises",
            loan("/promises"),
            Some(json!({ "id": "PR-1", "amount": "10.00", "date": "2026-12-31" })),
        )
        .unknown(no_loan("/promises")),
        case(
            "POST /v1/loans/{}/contact-outcomes",
            loan("/contact-outcomes"),
            Some(json!({ "channel": "sms", "at": "2026-03-01T03:00:00Z", "outcome": "refused" })),
        )
        .unknown(no_loan("/contact-outcomes")),
        case(
            "POST /v1/borrowers/{}/dispute",
            borrower("/dispute"),
            Some(json!({ "open": true })),
        )
        .unknown(no_borrower("/dispute")),
        case(
            "POST /v1/borrowers/{}/hardship",
            borrower("/hardship"),
            Some(json!({ "open": true })),
        )
        .unknown(no_borrower("/hardship")),
        case(
            "PUT /v1/borrowers/{}/opt-outs",
            borrower("/opt-outs"),
            Some(json!({ "channels": ["sms"] })),
        )
        .unknown(no_borrower("/opt-outs")),
        // Queues are the tenant's own names: one nobody stands in is empty, not missing.
        case("GET /v1/queues", "/v1/queues", None),
        case("GET /v1/queues/{}", "/v1/queues/early", None).unknown("/v1/queues/NO-SUCH-QUEUE"),
        case("GET /v1/actions", "/v1/actions", None),
        case(
            "POST /v1/actions/{}/ack",
            format!("/v1/actions/{action}/ack"),
            None,
        )
        .unknown("/v1/actions/999999999/ack"),
        case("GET /v1/portfolio", "/v1/portfolio?date=2026-03-01", None)
            .unknown("/v1/portfolio?date=2026-03-02"),
        case(
            "GET /v1/portfolio/flows",
            "/v1/portfolio/flows?from=2026-02-28&to=2026-03-01",
            None,
        )
        .unknown("/v1/portfolio/flows?from=2026-03-02&to=2026-03-03"),
        case(
            "GET /v1/portfolio/trend",
            "/v1/portfolio/trend?from=2026-02-01&to=2026-03-01",
            None,
        ),
        case("GET /v1/jobs", "/v1/jobs", None),
        case(
            "POST /v1/jobs/close-of-business",
            "/v1/jobs/close-of-business?date=2026-03-01",
            None,
        ),
        case("GET /v1/jobs/{}", format!("/v1/jobs/{job}"), None).unknown("/v1/jobs/999999999"),
        case(
            "POST /v1/events",
            "/v1/events",
            Some(event(
                "E-1",
                "payment.posted",
                json!({ "loan_id": "L-1", "id": "P-3", "value_date": "2026-02-01", "amount": "1.00" }),
            )),
        )
        .unknown("/v1/events"),
        case("GET /v1/audit", "/v1/audit", None),
        case("GET /v1/audit/verify", "/v1/audit/verify", None),
    ]
}

/// The body an unknown-thing request of `case` carries instead of its own, where the thing
/// is in the body: an event for a borrower the tenant does not have.
fn unknown_body(case: &Case) -> Option<Value> {
    (case.route == "POST /v1/events").then(|| {
        json!({ "id": "E-2", "tenant": "t", "type": "dispute.opened",
                "occurred_at": "2026-03-01T03:00:00Z", "data": { "borrower_id": "NO-SUCH-BORROWER" } })
    })
}

/// The statuses an operation of the document lists, and its roles (`None`: open to all,
/// without a tenant key).
fn documented(document: &Value, route: &str) -> (BTreeSet<u16>, Option<BTreeSet<String>>) {
    let (method, template_path) = route.split_once(' ').expect("`METHOD /path`");
    let operation = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .find(|(path, _)| template(path) == template_path)
        .map(|(_, item)| &item[method.to_lowercase()])
        .filter(|operation| operation.is_object())
        .unwrap_or_else(|| panic!("{DOCUMENT} does not describe {route}"));
    let statuses = operation["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .map(|status| status.parse().expect("a numeric status"))
        .collect();
    let roles = operation["x-postloan-roles"].as_array().map(|roles| {
        roles
            .iter()
            .map(|r| r.as_str().expect("a role name").to_owned())
            .collect()
    });
    (statuses, roles)
}

#[test]
fn each_routes_documented_statuses_are_the_answers_it_gives() {
    let redis = RedisServer::start();
    let book = Book::start("openapi-statuses", &redis);
    let admin = book.create_tenant("t", json!({}));
    let mut keys: BTreeMap<&str, String> = BTreeMap::from([("admin", admin.clone())]);
    for role in &ROLES[1..] {
        let (status, body) = book.call(
            "POST",
            "/v1/api-keys",
            &admin,
            Some(json!({ "role": role, "label": role })),
        );
        assert_eq!(status, 201, "a {role} key: {body}");
        keys.insert(role, body["key"].as_str().expect("a key").to_owned());
    }
    let (status, body) = book.call("POST", "/v1/loans", &admin, Some(a_loan("L-1", "B-1")));
    assert_eq!(status, 201, "L-1 booked: {body}");
    let (status, body) = book.call(
        "POST",
        "/v1/loans/L-1/payments",
        &admin,
        Some(json!({ "id": "P-1", "value_date": "2026-01-01", "amount": "1000.00" })),
    );
    assert_eq!(status, 201, "P-1 paid: {body}");
    book.close(&admin, "2026-02-28");
    let closed = book.close(&admin, "2026-03-01");
    let job = closed["jobs"][0]["id"].as_i64().expect("a job id");
    let (_, actions) = book.call("GET", "/v1/actions", &admin, None);
    let action = actions["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("L-1, a month overdue, has an action: {actions}"));

    let document = document();
    let cases = cases(job, action);
    let probed: BTreeSet<Route> = cases
        .iter()
        .map(|c| {
            let (method, path) = c.route.split_once(' ').expect("`METHOD /path`");
            (method.to_lowercase(), path.to_owned())
        })
        .collect();
    assert_eq!(
        probed,
        routes_in_document(&document),
        "every route of {DOCUMENT} has exactly one case here"
    );

    let mut wrong = Vec::new();
    for case in &cases {
        let (listed, roles) = documented(&document, case.route);
        let mut answered: BTreeMap<u16, String> = BTreeMap::new();
        let mut note = |answer: Answer, what: String| {
            if answer.status >= 400 && answer.problem_status != Some(Value::from(answer.status)) {
                wrong.push(format!(
                    "  {what}: {} without a problem body of that status: {}",
                    answer.status, answer.text
                ));
            }
            answered.entry(answer.status).or_insert(what);
            answer.status
        };
        let method = case.method();
        let body = case.body.as_ref();
        note(
            call(&book, method, &case.path, None, body),
            format!("{method} {} without a key", case.path),
        );
        if case.route == "POST /v1/tenants" {
            note(
                call(&book, method, &case.path, Some(PLATFORM_TOKEN), body),
                format!("{method} {} with the platform token", case.path),
            );
        }
        let mut refused_roles = BTreeSet::new();
        for (role, key) in &keys {
            let status = note(
                call(&book, method, &case.path, Some(key), body),
                format!("{method} {} as {role}", case.path),
            );
            if status == 403 {
                refused_roles.insert((*role).to_owned());
            }
        }
        for path in &case.unknown {
            let body = unknown_body(case).or_else(|| case.body.clone());
            note(
                call(&book, method, path, Some(&admin), body.as_ref()),
                format!("{method} {path} as admin"),
            );
        }
        note(
            call(&book, NO_METHOD, &case.path, Some(&admin), None),
            format!("{NO_METHOD} {} as admin", case.path),
        );

        for (status, what) in &answered {
            if !listed.contains(status) {
                wrong.push(format!(
                    "  {}: answered {status} ({what}), not documented",
                    case.route
                ));
            }
        }
        for status in [401, 403, 404, 405] {
            if listed.contains(&status) && !answered.contains_key(&status) {
                wrong.push(format!(
                    "  {}: documents {status}, which no request here was answered",
                    case.route
                ));
            }
        }
        let expected_refused: BTreeSet<String> = match &roles {
            Some(allowed) => ROLES
                .iter()
                .map(|r| (*r).to_owned())
                .filter(|r| !allowed.contains(r))
                .collect(),
            None => BTreeSet::new(),
        };
        if refused_roles != expected_refused {
            wrong.push(format!(
                "  {}: x-postloan-roles {roles:?}, but 403 was answered to {refused_roles:?}",
                case.route
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{DOCUMENT} and the answers disagree:\n{}",
        wrong.join("\n")
    );
}
