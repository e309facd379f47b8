//! Fuzzing every reader of outside input, natively: arbitrary bytes and arbitrary JSON (built
//! from the API's own field names and from hostile values) into each request body's parser,
//! then into the checks that follow it without a component. None may panic; each refusal is
//! a 400 or 413 problem naming a field. `POSTLOAN_FUZZ_SECONDS` sets how long each target
//! runs (2 s by default; docs/benchmarks.md records a 10-minute run of each).

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::problem::Problem;
use crate::request::parse;

/// Runs `test` on values of `strategy` until the fuzzing time is spent; the cases run.
pub fn fuzz<S: Strategy>(
    target: &str,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> u64 {
    let seconds = std::env::var("POSTLOAN_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let until = Instant::now() + Duration::from_secs(seconds);
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let cases = std::cell::Cell::new(0_u64);
    let counted = |value| {
        cases.set(cases.get() + 1);
        test(value)
    };
    while Instant::now() < until {
        // A runner runs its cases once; each new one draws from a fresh random seed.
        if let Err(failure) = TestRunner::new(config.clone()).run(&strategy, counted) {
            panic!("fuzz target {target}: {failure}");
        }
    }
    let cases = cases.get();
    eprintln!("fuzz target {target}: {cases} cases in {seconds} s, no failure");
    cases
}

/// Field names of the API's bodies, so that generated documents reach past the first key.
const KEYS: &[&str] = &[
    "id",
    "as_of",
    "loan",
    "loans",
    "currency",
    "installments",
    "payments",
    "reversals",
    "pauses",
    "seq",
    "due_date",
    "principal",
    "interest",
    "fees",
    "value_date",
    "amount",
    "payment_id",
    "from",
    "to",
    "reason",
    "policy",
    "grace_days",
    "tolerance",
    "percent",
    "floor",
    "allocation",
    "penalty",
    "annual_rate",
    "basis",
    "buckets",
    "name",
    "min_days",
    "max_days",
    "classification",
    "scheme",
    "absolute",
    "relative",
    "ranges",
    "calendar",
    "weekend",
    "holidays",
    "due_date_shift",
    "contagion",
    "history",
    "disbursed_on",
    "promises_made",
    "promises_broken",
    "term",
    "frequency",
    "method",
    "first_due_date",
    "day_count",
    "rounding",
    "borrower",
    "profile",
    "language",
    "time_zone",
    "contact_points",
    "channel",
    "address",
    "terms",
    "now",
    "contact",
    "rules",
    "custom_rules",
    "reminders",
    "escalation",
    "promises",
    "date",
    "status",
    "made_on",
    "outcome",
    "at",
    "periods",
    "type",
    "tenant",
    "occurred_at",
    "data",
    "loan_id",
    "settings",
    "previous_stage",
    "tier",
];

/// Values that have broken parsers before, or would: huge and odd numbers, far and false
/// dates, names of the API's own enumerations.
const HOSTILE: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "1e3",
    "NaN",
    "1.005",
    "79228162514264337593543950335",
    "792281625142643375935439503350",
    "40000000000000000000000000000",
    "999999999999999.99",
    "1000000000000000.00",
    "0.00001",
    "-1.00",
    "0000-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-1-1",
    "2026-03-10",
    "2026-03-10T00:00:00Z",
    "CNY",
    "JPY",
    "XAU",
    "cny",
    "sms",
    "email",
    "pigeon",
    "annuity",
    "monthly",
    "30/360",
    "cn_five_category",
    "fees",
    "principal",
    "Asia/Shanghai",
    "Mars/Olympus",
    "zh-CN",
    "\u{0}",
    "\u{202e}",
    "キ",
    "💸",
];

/// An arbitrary JSON document, leaning on the API's keys and hostile values.
pub fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(HOSTILE).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// Bytes of a body: arbitrary, or an arbitrary JSON document, whole or cut short.
pub fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (json(), any::<prop::sample::Index>()).prop_map(|(value, cut)| {
            let text = value.to_string().into_bytes();
            let keep = if cut.index(4) == 0 {
                cut.index(text.len() + 1)
            } else {
                text.len()
            };
            text[..keep].to_vec()
        }),
    ]
}

/// A refusal is a 400 or 413 problem that names a field.
pub fn is_client_problem(problem: &Problem) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(problem.status(), 400 | 413),
        "status {} for {}",
        problem.status(),
        problem.detail()
    );
    prop_assert!(!problem.field().is_empty(), "{}", problem.detail());
    Ok(())
}

/// Fuzzes `parse::<T>` and then `check` on what it accepts.
pub fn fuzz_body<T: DeserializeOwned>(
    target: &str,
    check: impl Fn(T) -> Result<(), Problem>,
) -> u64 {
    fuzz(target, body(), |bytes| {
        match parse::<T>(&bytes).and_then(&check) {
            Ok(()) => Ok(()),
            Err(problem) => is_client_problem(&problem),
        }
    })
}

#[test]
fn fuzz_the_assess_request() {
    fuzz_body::<crate::assess::AssessRequest>("POST /v1/assess", |_| Ok(()));
}

#[test]
fn fuzz_a_loan() {
    fuzz_body::<crate::input::LoanJson>("loan", |_| Ok(()));
}

#[test]
fn fuzz_a_policy() {
    fuzz_body::<crate::input::PolicyJson>("policy", |policy| policy.into_wit().map(drop));
}

#[test]
fn fuzz_the_schedule_terms() {
    fuzz_body::<crate::schedules::TermsJson>("POST /v1/schedules", |_| Ok(()));
}

#[test]
fn fuzz_the_contact_profile() {
    fuzz_body::<crate::contact_plan::ProfileJson>("contact profile", |profile| {
        profile.into_wit();
        Ok(())
    });
}

#[test]
fn fuzz_the_contact_settings() {
    fuzz_body::<crate::contact_plan::ContactPolicyJson>("contact settings", |contact| {
        crate::contact_plan::check_contact_policy(contact)
    });
}

#[test]
fn fuzz_decimals_currencies_and_dates() {
    use postloan_domain::date::{EARLIEST, LATEST, parse_date};
    use postloan_domain::money::{Currency, parse_amount};
    use rust_decimal::Decimal;
    let text = prop_oneof![
        ".{0,40}",
        "[-0-9.]{0,40}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        prop::sample::select(HOSTILE).prop_map(str::to_owned),
    ];
    fuzz("decimals, currencies and dates", text, |text| {
        if let Ok(amount) = parse_amount("a", &text) {
            prop_assert!(!amount.is_sign_negative() || amount.is_zero(), "{text}");
            prop_assert!(
                amount.trunc() < Decimal::from(1_000_000_000_000_000_u64),
                "{text}"
            );
            prop_assert!(amount.scale() <= 4, "{text}");
            prop_assert_eq!(Decimal::from_str_exact(&text).ok(), Some(amount));
        }
        if let Ok(date) = parse_date("d", &text) {
            prop_assert!((EARLIEST..=LATEST).contains(&date), "{text}");
            prop_assert_eq!(date.to_string(), text.clone());
        }
        if let Ok(currency) = Currency::parse("c", &text) {
            prop_assert_eq!(currency.code(), text.as_str());
            prop_assert!(currency.minor_unit() <= 4);
        }
        Ok(())
    });
}

#[test]
fn the_fuzzer_finds_a_refusal_that_is_not_a_client_problem() {
    // The harness itself can fail: a check that answers 500 is caught.
    let caught = std::panic::catch_unwind(|| {
        fuzz_body::<Value>("self-test", |_| Err(Problem::internal("boom".into())))
    });
    assert!(caught.is_err());
}
