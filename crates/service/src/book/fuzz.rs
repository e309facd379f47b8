//! Fuzzing the loan book's readers of outside input (see `crate::fuzz`): the bodies of its
//! routes and events, the tenant's settings, and query strings.

use proptest::prelude::*;

use super::events::Envelope;
use super::loans::{NewLoan, check_filter, query_value};
use super::page_limit;
use super::servicing::{ExtensionIn, OutcomeIn, PauseIn, PaymentIn, PromiseIn};
use super::tenants::{Settings, check_id};
use crate::fuzz::{fuzz, fuzz_body, is_client_problem};

#[test]
fn fuzz_a_new_loan() {
    fuzz_body::<NewLoan>("POST /v1/loans", |_| Ok(()));
}

#[test]
fn fuzz_the_changes_to_a_loan() {
    fuzz_body::<PaymentIn>("POST /v1/loans/{id}/payments", |_| Ok(()));
    fuzz_body::<PromiseIn>("POST /v1/loans/{id}/promises", |_| Ok(()));
    fuzz_body::<PauseIn>("POST /v1/loans/{id}/pauses", |_| Ok(()));
    fuzz_body::<OutcomeIn>("POST /v1/loans/{id}/contact-outcomes", |_| Ok(()));
    fuzz_body::<ExtensionIn>("POST /v1/loans/{id}/extensions", |_| Ok(()));
}

#[test]
fn fuzz_the_event_envelope() {
    fuzz_body::<Envelope>("event envelope", |_| Ok(()));
}

#[test]
fn fuzz_the_settings() {
    fuzz_body::<Settings>("PUT /v1/tenant/settings", |settings| {
        // What the service checks itself; the policy's own rules are the overdue
        // component's (fuzzed through `policy` in crate::fuzz).
        settings.policy().map(drop)
    });
}

/// A query string: arbitrary text, or pairs of the routes' own names and hostile values,
/// percent-encoded or not.
fn query() -> impl Strategy<Value = String> {
    let names = prop::sample::select(
        &[
            "limit", "cursor", "status", "stage", "bucket", "format", "date", "after", "from", "to",
        ][..],
    );
    let values = prop_oneof![
        ".{0,16}",
        prop::sample::select(
            &[
                "",
                "0",
                "-1",
                "501",
                "99999999999999999999",
                "%00",
                "%ff%fe",
                "active",
                "closed",
                "zombie",
                "early",
                "12:L1",
                ":",
                "2026-02-30",
                "csv",
            ][..]
        )
        .prop_map(str::to_owned),
    ];
    prop_oneof![
        ".{0,64}",
        prop::collection::vec((names, values), 0..5).prop_map(|pairs| {
            pairs
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("&")
        }),
    ]
}

#[test]
fn fuzz_the_query_strings() {
    fuzz("query strings", query(), |query| {
        match page_limit(&query, 50, 500) {
            Ok(limit) => prop_assert!((1..=500).contains(&limit)),
            Err(problem) => is_client_problem(&problem)?,
        }
        for filter in ["status", "stage", "bucket"] {
            if let Some(Err(problem)) =
                query_value(&query, filter).map(|value| check_filter(filter, &value))
            {
                is_client_problem(&problem)?;
            }
        }
        if let Some(cursor) = query_value(&query, "cursor") {
            match check_id("cursor", &cursor) {
                Ok(()) => prop_assert!(cursor.len() <= 64 && cursor.is_ascii()),
                Err(problem) => is_client_problem(&problem)?,
            }
        }
        Ok(())
    });
}
