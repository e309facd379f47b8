//! Hand-worked examples: every expected figure is worked out in the comment beside it.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::loan::{Installment, Loan, Payment};
use crate::money::Currency;
use crate::policy::Policy;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn loan(installments: &[(&str, &str)], payments: &[(&str, &str)]) -> Loan {
    let installments = installments
        .iter()
        .zip(1..)
        .map(|(&(due, principal), seq)| Installment {
            seq,
            due_date: date(due),
            principal: dec(principal),
            interest: Decimal::ZERO,
            fees: Decimal::ZERO,
        })
        .collect();
    let payments = payments
        .iter()
        .zip(1..)
        .map(|(&(value_date, amount), n)| Payment {
            id: format!("P{n}"),
            value_date: date(value_date),
            amount: dec(amount),
        })
        .collect();
    let cny = Currency::parse("loan.currency", "CNY").unwrap();
    Loan::new("L-1".into(), cny, installments, payments).unwrap()
}

// ---- scaling -------------------------------------------------------------------------

#[test]
fn the_base_odds_score_exactly_the_base_and_doubling_them_adds_the_pdo() {
    let scaling = Scaling::default();
    assert_eq!(scaling.score_for_odds(dec("50")), Some(600));
    assert_eq!(scaling.score_for_odds(dec("100")), Some(620));
    assert_eq!(scaling.score_for_odds(dec("200")), Some(640));
    assert_eq!(scaling.score_for_odds(dec("25")), Some(580));
    // Even odds: 600 − 20·log2(50) = 600 − 112.877 = 487.12 → 487.
    assert_eq!(scaling.score_for_odds(Decimal::ONE), Some(487));
    assert_eq!(scaling.score_for_odds(Decimal::ZERO), None);
}

#[test]
fn factor_and_offset_follow_the_pdo_and_the_base() {
    let scaling = Scaling::default();
    // factor = 20 / ln 2 = 28.853900817…; offset = 600 − factor·ln 50 = 600 − 112.877123… = 487.122876…
    assert_eq!(scaling.factor().round_dp(6), dec("28.853901"));
    assert_eq!(scaling.offset().round_dp(6), dec("487.122876"));
}

#[test]
fn the_probability_of_default_is_one_over_one_plus_the_odds() {
    let scaling = Scaling::default();
    // 600 → 50:1 → 1/51 = 0.0196078…; 620 → 1/101 = 0.00990099…; 580 → 1/26 = 0.0384615…
    assert_eq!(scaling.probability_of_default(600), dec("0.019608"));
    assert_eq!(scaling.probability_of_default(620), dec("0.009901"));
    assert_eq!(scaling.probability_of_default(580), dec("0.038462"));
    // 100 PDO below the base: 50 / 2^5 = 1.5625:1 → 1/2.5625 = 0.390243…
    assert_eq!(scaling.probability_of_default(500), dec("0.390244"));
    // Far outside what a decimal holds, the probability is 0 or 1, never a panic.
    assert_eq!(scaling.probability_of_default(1_000_000), Decimal::ZERO);
    assert_eq!(scaling.probability_of_default(-1_000_000), Decimal::ONE);
}

#[test]
fn a_scaling_needs_positive_odds_and_pdo() {
    let zero = Decimal::ZERO;
    let err = Scaling::new("scaling", dec("600"), zero, dec("20")).unwrap_err();
    assert_eq!(err.field, "scaling.base_odds");
    let err = Scaling::new("scaling", dec("600"), dec("50"), zero).unwrap_err();
    assert_eq!(err.field, "scaling.pdo");
}

// ---- scorecard -------------------------------------------------------------------------

fn bins(edges_and_points: &[(Option<&str>, i32)]) -> Vec<Bin> {
    edges_and_points
        .iter()
        .map(|&(below, points)| Bin {
            below: below.map(dec),
            points,
        })
        .collect()
}

fn characteristic(feature: Feature, code: &str, bins: Vec<Bin>) -> Characteristic {
    Characteristic {
        feature,
        reason_code: code.into(),
        meaning: format!("{} costs points", feature.name()),
        missing_points: feature.optional().then_some(10),
        bins,
    }
}

/// Six characteristics; each best bin is worth 50, so every loss is 50 − points.
fn six_line_scorecard() -> Scorecard {
    let count = || bins(&[(Some("1"), 50), (Some("3"), 30), (None, 0)]);
    Scorecard::new(
        "test".into(),
        "1".into(),
        Scaling::default(),
        vec![
            characteristic(Feature::CurrentDpd, "R01", count()),
            characteristic(Feature::LateInstallments, "R02", count()),
            characteristic(
                Feature::OnTimeShare,
                "R03",
                bins(&[(Some("0.5"), 10), (Some("0.9"), 35), (None, 50)]),
            ),
            characteristic(
                Feature::DaysSinceLastPayment,
                "R04",
                bins(&[(Some("31"), 50), (None, 20)]),
            ),
            characteristic(Feature::PromisesBroken, "R05", count()),
            characteristic(Feature::PartialPayments, "R06", count()),
        ],
        TierFloor([280, 250, 200, 150]),
    )
    .unwrap()
}

fn clean_features() -> Features {
    Features {
        current_dpd: 0,
        max_dpd_m3: 0,
        max_dpd_m6: 0,
        max_dpd_m12: 0,
        late_installments: 0,
        on_time_share: Decimal::ONE,
        partial_payments: 0,
        days_since_last_payment: Some(10),
        promises_made: 0,
        promises_broken: 0,
        outstanding_ratio: Decimal::ONE,
        months_on_book: 1,
    }
}

#[test]
fn the_score_is_the_sum_of_the_bins_points() {
    let card = six_line_scorecard();
    // Every best bin: 6 × 50 = 300, tier A (≥ 280); 300 is 600 − 300 → 50 / 2^15 odds.
    let best = card.score(&clean_features());
    assert_eq!(best.value, 300);
    assert_eq!(best.tier, Tier::A);
    assert!(best.reasons.is_empty());
    // The worst bins: 0 each, but 10 for the share and 10 for no payment (or 20 days).
    assert_eq!((card.min_score(), card.max_score()), (20, 300));
    // A value equal to a bin's `below` falls in the next bin: DPD 1 → 30, share 0.5 → 35.
    let edge = Features {
        current_dpd: 1,
        on_time_share: dec("0.5"),
        ..clean_features()
    };
    assert_eq!(card.score(&edge).value, 300 - 20 - 15);
    // No payment yet: the missing-value points, 10.
    let never_paid = Features {
        days_since_last_payment: None,
        ..clean_features()
    };
    assert_eq!(card.score(&never_paid).value, 300 - 40);
}

#[test]
fn reason_codes_are_the_four_largest_shortfalls_worst_first_ties_in_scorecard_order() {
    let features = Features {
        current_dpd: 2,                    // R01: 30 → 20 lost
        late_installments: 5,              // R02: 0 → 50 lost
        on_time_share: dec("0.4"),         // R03: 10 → 40 lost
        days_since_last_payment: Some(45), // R04: 20 → 30 lost
        promises_broken: 2,                // R05: 30 → 20 lost
        partial_payments: 1,               // R06: 30 → 20 lost
        ..clean_features()
    };
    let score = six_line_scorecard().score(&features);
    // 300 − (20 + 50 + 40 + 30 + 20 + 20) = 120: below D's 150, tier E.
    assert_eq!(score.value, 120);
    assert_eq!(score.tier, Tier::E);
    let reasons: Vec<(&str, u32)> = score
        .reasons
        .iter()
        .map(|r| (r.code.as_str(), r.points_lost))
        .collect();
    // 50, 40, 30, then the first of the three 20s in scorecard order (R01).
    assert_eq!(
        reasons,
        [("R02", 50), ("R03", 40), ("R04", 30), ("R01", 20)]
    );
    assert_eq!(score.reasons[0].feature, Feature::LateInstallments);
}

#[test]
fn tiers_read_the_score_against_each_floor() {
    let card = six_line_scorecard();
    let with_dpd = |dpd| Features {
        current_dpd: dpd,
        late_installments: dpd,
        ..clean_features()
    };
    // DPD and late installments 1: 300 − 40 = 260, in B (250–279); 3: 300 − 100 = 200, C.
    assert_eq!(card.score(&with_dpd(1)).tier, Tier::B);
    assert_eq!(card.score(&with_dpd(3)).tier, Tier::C);
}

#[test]
fn a_scorecard_refuses_bins_out_of_order_and_features_twice() {
    let build = |characteristics| {
        Scorecard::new(
            "t".into(),
            "1".into(),
            Scaling::default(),
            characteristics,
            TierFloor([4, 3, 2, 1]),
        )
    };
    let unordered = bins(&[(Some("5"), 1), (Some("5"), 2), (None, 3)]);
    let err = build(vec![characteristic(Feature::CurrentDpd, "R1", unordered)]).unwrap_err();
    assert_eq!(err.field, "characteristics[0].bins[1].below");
    let closed = bins(&[(Some("5"), 1)]);
    let err = build(vec![characteristic(Feature::CurrentDpd, "R1", closed)]).unwrap_err();
    assert_eq!(err.field, "characteristics[0].bins[0].below");
    let open = || bins(&[(None, 1)]);
    let twice = vec![
        characteristic(Feature::CurrentDpd, "R1", open()),
        characteristic(Feature::CurrentDpd, "R2", open()),
    ];
    assert_eq!(
        build(twice).unwrap_err().field,
        "characteristics[1].feature"
    );
    let mut no_missing = characteristic(Feature::DaysSinceLastPayment, "R1", open());
    no_missing.missing_points = None;
    let err = build(vec![no_missing]).unwrap_err();
    assert_eq!(err.field, "characteristics[0].missing_points");
    let tiers = Scorecard::new(
        "t".into(),
        "1".into(),
        Scaling::default(),
        vec![characteristic(Feature::CurrentDpd, "R1", open())],
        TierFloor([4, 4, 2, 1]),
    );
    assert_eq!(tiers.unwrap_err().field, "tiers.b");
}

// ---- features --------------------------------------------------------------------------

#[test]
fn the_readme_loan_has_the_features_worked_out_by_hand() {
    // The README's loan with interest and fees left out: 1000.00 due 01-15, 02-15, 03-15;
    // P1 pays installment 1 on its due date, P2 pays 450.00 of installment 2 on 02-20.
    let loan = loan(
        &[
            ("2026-01-15", "1000.00"),
            ("2026-02-15", "1000.00"),
            ("2026-03-15", "1000.00"),
        ],
        &[
            ("2026-01-15", "1000.00"),
            ("2026-02-20", "450.00"),
            ("2026-03-12", "550.00"),
        ],
    );
    let f = features(
        &loan,
        date("2026-03-10"),
        &Policy::default(),
        History::default(),
    );
    // Installment 2 unpaid since 02-15: 13 + 10 = 23 days on 03-10.
    assert_eq!(f.current_dpd, 23);
    // The eves of P1 (01-14, nothing due: 0) and P2 (02-19: 4 days) are lower than today.
    assert_eq!((f.max_dpd_m3, f.max_dpd_m6, f.max_dpd_m12), (23, 23, 23));
    // Installment 2 is late; 1 of the 2 fallen due (1 and 2) was paid on time.
    assert_eq!(f.late_installments, 1);
    assert_eq!(f.on_time_share, dec("0.5000"));
    // P2 left installment 2 overdue at the end of 02-20; P1 cleared what was due.
    assert_eq!(f.partial_payments, 1);
    // P3 is valued after as_of: the last payment is P2, 8 + 10 = 18 days before.
    assert_eq!(f.days_since_last_payment, Some(18));
    // 550.00 + 1000.00 of 3000.00 principal outstanding: 0.51666… → 0.5167.
    assert_eq!(f.outstanding_ratio, dec("0.5167"));
    // Disbursed (by default) one month before 01-15: 12-15 → 02-15 is 2 whole months.
    assert_eq!(f.months_on_book, 2);
}

#[test]
fn the_worst_dpd_of_a_cured_loan_stays_in_the_longer_windows() {
    // Installment 1 (due 01-15) paid on 02-24 with installment 2: 40 and 9 days late; 3 and 4
    // paid on their due dates.
    let loan = loan(
        &[
            ("2026-01-15", "1000.00"),
            ("2026-02-15", "1000.00"),
            ("2026-03-15", "1000.00"),
            ("2026-04-15", "1000.00"),
        ],
        &[
            ("2026-02-24", "2000.00"),
            ("2026-03-15", "1000.00"),
            ("2026-04-15", "1000.00"),
        ],
    );
    let history = History {
        disbursed_on: Some(date("2025-12-01")),
        promises_made: 2,
        promises_broken: 1,
    };
    let f = features(&loan, date("2026-06-01"), &Policy::default(), history);
    // On 02-23, the eve of the cure: 16 days of January + 23 of February = 39 DPD. That day
    // is before 03-01 (3 months back) but after 12-01 (6 months back).
    assert_eq!(f.current_dpd, 0);
    assert_eq!((f.max_dpd_m3, f.max_dpd_m6, f.max_dpd_m12), (0, 39, 39));
    assert_eq!(f.late_installments, 2);
    assert_eq!(f.on_time_share, dec("0.5000"));
    assert_eq!(f.partial_payments, 0);
    // 04-15 to 06-01: 15 days to 04-30, 31 in May, 1 more: 47 days.
    assert_eq!(f.days_since_last_payment, Some(47));
    assert_eq!(f.outstanding_ratio, dec("0.0000"));
    // 12-01 to 06-01: exactly 6 months.
    assert_eq!(f.months_on_book, 6);
    assert_eq!((f.promises_made, f.promises_broken), (2, 1));
}

#[test]
fn a_brand_new_loan_has_nothing_against_it() {
    let loan = loan(&[("2026-02-15", "500.00")], &[]);
    let f = features(
        &loan,
        date("2026-01-20"),
        &Policy::default(),
        History::default(),
    );
    assert_eq!(f.current_dpd, 0);
    assert_eq!(f.late_installments, 0);
    // Nothing has fallen due yet: the share is 1.
    assert_eq!(f.on_time_share, Decimal::ONE);
    assert_eq!(f.days_since_last_payment, None);
    assert_eq!(f.outstanding_ratio, dec("1.0000"));
    // Disbursed (by default) 01-15: 5 days, no whole month.
    assert_eq!(f.months_on_book, 0);
}

#[test]
fn a_partial_payment_on_the_due_date_counts() {
    let loan = loan(&[("2026-01-15", "100.00")], &[("2026-01-15", "60.00")]);
    let f = features(
        &loan,
        date("2026-01-15"),
        &Policy::default(),
        History::default(),
    );
    assert_eq!(f.partial_payments, 1);
    assert_eq!(f.days_since_last_payment, Some(0));
}

#[test]
fn no_more_promises_can_be_broken_than_made() {
    let history = History {
        disbursed_on: None,
        promises_made: 1,
        promises_broken: 2,
    };
    assert_eq!(
        history.check().unwrap_err().field,
        "history.promises_broken"
    );
}

#[test]
fn feature_names_are_the_wit_names() {
    for feature in Feature::ALL {
        assert_eq!(Feature::from_name(feature.name()), Some(feature));
    }
    assert_eq!(Feature::from_name("max-dpd-m3"), Some(Feature::MaxDpdM3));
    assert_eq!(Feature::from_name("max_dpd_m3"), None);
}
