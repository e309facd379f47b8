//! The inputs every scorer must answer without trapping: a brand-new loan, all zeros,
//! extreme values, a typical delinquent loan, and a malformed decimal.

use crate::sandbox::{ScoringInput, wit};

/// An input with the name a report gives it.
pub struct Case {
    /// What the input stands for.
    pub name: &'static str,
    /// The input.
    pub input: ScoringInput,
}

/// Every case, mildest first.
pub fn cases() -> Vec<Case> {
    vec![
        case("a brand-new loan", features(0, "1", None, "1")),
        case("all zeros", features(0, "0", Some(0), "0")),
        case("a typical delinquent loan", typical()),
        case(
            "extreme values",
            features(u32::MAX, "1", Some(u32::MAX), "1"),
        ),
        case(
            "a malformed decimal",
            features(0, "not-a-number", None, "1e9"),
        ),
    ]
}

fn case(name: &'static str, features: wit::BehaviourFeatures) -> Case {
    Case {
        name,
        input: ScoringInput {
            features,
            assessment: assessment(),
        },
    }
}

/// Every count at `count`, with the given share, days and ratio.
fn features(count: u32, share: &str, days: Option<u32>, ratio: &str) -> wit::BehaviourFeatures {
    wit::BehaviourFeatures {
        current_dpd: count,
        max_dpd_m3: count,
        max_dpd_m6: count,
        max_dpd_m12: count,
        late_installments: count,
        on_time_share: share.to_owned(),
        partial_payments: count,
        days_since_last_payment: days,
        promises_made: count,
        promises_broken: count,
        outstanding_ratio: ratio.to_owned(),
        months_on_book: count,
    }
}

/// The README's worked example: 23 days past due after a partial payment.
fn typical() -> wit::BehaviourFeatures {
    wit::BehaviourFeatures {
        current_dpd: 23,
        max_dpd_m3: 23,
        max_dpd_m6: 23,
        max_dpd_m12: 23,
        late_installments: 1,
        on_time_share: "0.5000".to_owned(),
        partial_payments: 1,
        days_since_last_payment: Some(18),
        promises_made: 2,
        promises_broken: 1,
        outstanding_ratio: "0.5167".to_owned(),
        months_on_book: 2,
    }
}

fn assessment() -> wit::Assessment {
    let zero = || wit::Breakdown {
        principal: "0.00".into(),
        interest: "0.00".into(),
        fees: "0.00".into(),
        penalty: "0.00".into(),
        total: "0.00".into(),
    };
    wit::Assessment {
        loan_id: "conformance".into(),
        as_of: "2026-03-10".into(),
        currency: "CNY".into(),
        dpd: 0,
        days_in_arrears: 0,
        overdue_since: None,
        overdue: zero(),
        outstanding: zero(),
        bucket: "M0".into(),
        classification: "normal".into(),
        classification_rank: 0,
        next_due: None,
        overpaid: wit::Money {
            amount: "0.00".into(),
            currency: "CNY".into(),
        },
        reschedules: Vec::new(),
        forborne: false,
        installments: Vec::new(),
        explanation: Vec::new(),
    }
}
