//! The OpenAPI document served at `GET /v1/openapi.json` stays honest: it describes exactly
//! the routes the code answers (read from the match arms of the service's source), every
//! `$ref` in it resolves, every path parameter is declared, and its problem types are those
//! the code answers. Needs no built component.

use std::collections::BTreeSet;

use postloan_tests::root;
use serde_json::Value;

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
