//! Hand-worked restructures and re-ages: every expected figure is worked out beside it.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::loan::{Loan, Payment};
use crate::overdue::tests::{amount, date, installment, payment};
use crate::overdue::{InstallmentStatus, assess};
use crate::policy::{Classification, Policy, Ranges};

fn cny() -> Currency {
    Currency::parse("loan.currency", "CNY").unwrap()
}

/// Fineract's re-age example: 1000.00 in four installments of 250.00, the first paid.
fn quarter_paid_loan(reschedules: Vec<Reschedule>) -> Loan {
    Loan::new(
        "L-RA".into(),
        cny(),
        vec![
            installment(1, "2024-01-15", "250.00", "0", "0"),
            installment(2, "2024-02-15", "250.00", "0", "0"),
            installment(3, "2024-03-15", "250.00", "0", "0"),
            installment(4, "2024-04-15", "250.00", "0", "0"),
        ],
        vec![payment("P1", "2024-01-15", "250.00")],
    )
    .unwrap()
    .with_reschedules(reschedules)
    .unwrap()
}

fn re_age(on: &str, installments: u32, first_due: &str) -> Reschedule {
    Reschedule {
        on: date(on),
        relief: Relief::ReAge(ReAge {
            installments,
            frequency: Frequency::Monthly,
            first_due_date: date(first_due),
        }),
    }
}

#[test]
fn a_re_age_spreads_the_arrears_over_new_installments_and_clears_the_dpd() {
    let loan = quarter_paid_loan(vec![re_age("2024-02-20", 6, "2024-03-01")]);

    // The day before, installment 2 (due 2024-02-15) is 4 days past due.
    let before = assess(&loan, date("2024-02-19"), &Policy::default());
    assert_eq!(before.dpd, 4);
    assert!(before.reschedules.is_empty());

    // At the end of 2024-02-20, 750.00 unpaid (installments 2 to 4) is re-spread over six
    // monthly installments of 125.00 from 2024-03-01: seq 5 to 10, nothing past due.
    let after = assess(&loan, date("2024-02-20"), &Policy::default());
    assert_eq!(after.dpd, 0);
    assert_eq!(after.outstanding.principal, amount("750.00"));
    let statuses: Vec<_> = after.installments.iter().map(|i| i.status).collect();
    assert_eq!(
        statuses[..4],
        [
            InstallmentStatus::Paid,
            InstallmentStatus::Rescheduled,
            InstallmentStatus::Rescheduled,
            InstallmentStatus::Rescheduled,
        ]
    );
    let new: Vec<_> = after.installments[4..]
        .iter()
        .map(|i| (i.seq, i.due_date, i.unpaid.principal))
        .collect();
    let months = [
        "2024-03-01",
        "2024-04-01",
        "2024-05-01",
        "2024-06-01",
        "2024-07-01",
        "2024-08-01",
    ];
    let expected: Vec<_> = (5..=10)
        .zip(months)
        .map(|(seq, due)| (seq, date(due), amount("125.00")))
        .collect();
    assert_eq!(new, expected);
    let r = &after.reschedules[0];
    assert_eq!(
        (r.kind, r.moved.principal, r.new_seqs),
        (ReliefKind::ReAge, amount("750.00"), Some((5, 10)))
    );
    assert!(
        after
            .explanation
            .iter()
            .any(|e| e.rule == "reschedule.re-age" && e.detail.contains("5 to 10"))
    );

    // Installment 5 unpaid on 2024-03-05: 4 days past due on the new schedule.
    assert_eq!(assess(&loan, date("2024-03-05"), &Policy::default()).dpd, 4);
}

#[test]
fn a_re_age_splits_each_part_in_equal_shares_the_last_taking_the_rest() {
    let r = re_age("2024-02-20", 3, "2024-03-01");
    let unpaid = Breakdown {
        principal: amount("100.00"),
        interest: amount("10.00"),
        fees: amount("0.05"),
        penalty: amount("1.00"),
    };
    let made = r.installments(unpaid, cny(), 5);
    // 100.00 / 3 = 33.33 twice, then 33.34; 10.00 / 3 = 3.33, 3.33, 3.34;
    // 0.05 / 3 = 0.01, 0.01, 0.03; 1.00 / 3 = 0.33, 0.33, 0.34.
    let shares: Vec<_> = made
        .iter()
        .map(|n| {
            (
                n.installment.seq,
                n.installment.principal,
                n.installment.interest,
                n.installment.fees,
                n.penalty,
            )
        })
        .collect();
    assert_eq!(
        shares,
        vec![
            (
                5,
                amount("33.33"),
                amount("3.33"),
                amount("0.01"),
                amount("0.33")
            ),
            (
                6,
                amount("33.33"),
                amount("3.33"),
                amount("0.01"),
                amount("0.33")
            ),
            (
                7,
                amount("33.34"),
                amount("3.34"),
                amount("0.03"),
                amount("0.34")
            ),
        ]
    );
}

/// Four monthly installments of 1000.00 principal, interest 50.00 falling by 10.00 a month,
/// fees 10.00; the first paid.
fn four_month_loan(payments: Vec<Payment>, reschedules: Vec<Reschedule>) -> Loan {
    Loan::new(
        "L-RS".into(),
        cny(),
        vec![
            installment(1, "2026-01-15", "1000.00", "50.00", "10.00"),
            installment(2, "2026-02-15", "1000.00", "40.00", "10.00"),
            installment(3, "2026-03-15", "1000.00", "30.00", "10.00"),
            installment(4, "2026-04-15", "1000.00", "20.00", "10.00"),
        ],
        [vec![payment("P1", "2026-01-15", "1060.00")], payments].concat(),
    )
    .unwrap()
    .with_reschedules(reschedules)
    .unwrap()
}

fn restructure(capitalise: bool) -> Reschedule {
    Reschedule {
        on: date("2026-03-01"),
        relief: Relief::Restructure(Restructure {
            annual_rate: amount("0.12"),
            term: 3,
            frequency: Frequency::Monthly,
            method: Method::EqualPrincipal,
            first_due_date: date("2026-04-01"),
            day_count: DayCount::Thirty360,
            capitalise,
        }),
    }
}

fn new_installments(loan: &Loan, as_of: &str) -> Vec<(u32, NaiveDate, Breakdown)> {
    assess(loan, date(as_of), &Policy::default())
        .installments
        .iter()
        .filter(|i| i.seq > 4)
        .map(|i| (i.seq, i.due_date, i.unpaid))
        .collect()
}

fn parts(principal: &str, interest: &str, fees: &str) -> Breakdown {
    Breakdown {
        principal: amount(principal),
        interest: amount(interest),
        fees: amount(fees),
        penalty: Decimal::ZERO,
    }
}

#[test]
fn a_restructure_without_capitalising_carries_interest_and_fees_onto_the_first_installment() {
    let loan = four_month_loan(vec![], vec![restructure(false)]);
    // Unpaid on 2026-03-01: installments 2 to 4, principal 3000.00, interest 40 + 30 + 20
    // = 90.00, fees 30.00. The new schedule: 3000.00 at 12% (30E/360, 1% a month) in three
    // equal principal payments of 1000.00; interest 1% of 3000.00, 2000.00, 1000.00 = 30.00,
    // 20.00, 10.00. The old 90.00 interest and 30.00 fees fall due with the first.
    assert_eq!(
        new_installments(&loan, "2026-03-02"),
        vec![
            (5, date("2026-04-01"), parts("1000.00", "120.00", "30.00")),
            (6, date("2026-05-01"), parts("1000.00", "20.00", "0")),
            (7, date("2026-06-01"), parts("1000.00", "10.00", "0")),
        ]
    );
}

#[test]
fn a_capitalising_restructure_adds_interest_and_fees_to_the_principal() {
    let loan = four_month_loan(vec![], vec![restructure(true)]);
    // Principal 3000.00 + 90.00 + 30.00 = 3120.00 in three of 1040.00; interest 1% of
    // 3120.00, 2080.00, 1040.00 = 31.20, 20.80, 10.40.
    assert_eq!(
        new_installments(&loan, "2026-03-02"),
        vec![
            (5, date("2026-04-01"), parts("1040.00", "31.20", "0")),
            (6, date("2026-05-01"), parts("1040.00", "20.80", "0")),
            (7, date("2026-06-01"), parts("1040.00", "10.40", "0")),
        ]
    );
    let a = assess(&loan, date("2026-03-02"), &Policy::default());
    assert_eq!(a.reschedules[0].capitalised, amount("120.00"));
}

#[test]
fn the_dpd_follows_the_old_schedule_before_a_restructure_and_the_new_one_after() {
    let loan = four_month_loan(vec![], vec![restructure(false)]);
    let without = four_month_loan(vec![], vec![]);
    // Before: installment 2 (due 2026-02-15) unpaid, 13 days past due on 2026-02-28;
    // everything as it was without the restructure.
    let before = assess(&loan, date("2026-02-28"), &Policy::default());
    assert_eq!(before.dpd, 13);
    assert_eq!(
        before,
        assess(&without, date("2026-02-28"), &Policy::default())
    );
    // After: nothing due until 2026-04-01.
    assert_eq!(assess(&loan, date("2026-03-31"), &Policy::default()).dpd, 0);
    // Installment 5 unpaid on 2026-04-11: 10 days past due (the old schedule would say 55).
    assert_eq!(
        assess(&loan, date("2026-04-11"), &Policy::default()).dpd,
        10
    );
    assert_eq!(
        assess(&without, date("2026-04-11"), &Policy::default()).dpd,
        55
    );
}

#[test]
fn a_payment_valued_before_the_restructure_reduces_what_moves() {
    // 1050.00 valued 2026-02-20 pays installment 2, even when posted after the restructure:
    // only installments 3 and 4 move: principal 2000.00, interest 50.00, fees 20.00.
    let loan = four_month_loan(
        vec![payment("P2", "2026-02-20", "1050.00")],
        vec![restructure(false)],
    );
    let a = assess(&loan, date("2026-03-02"), &Policy::default());
    assert_eq!(a.reschedules[0].moved, parts("2000.00", "50.00", "20.00"));
    assert_eq!(a.installments[1].status, InstallmentStatus::Paid);
    assert_eq!(a.outstanding.principal, amount("2000.00"));
}

#[test]
fn payments_after_a_restructure_go_to_the_new_installments() {
    // 1150.00 on 2026-04-01 pays installment 5 (fees 30.00, interest 120.00, principal
    // 1000.00) in full, on time.
    let loan = four_month_loan(
        vec![payment("P2", "2026-04-01", "1150.00")],
        vec![restructure(false)],
    );
    let a = assess(&loan, date("2026-04-11"), &Policy::default());
    assert_eq!(a.dpd, 0);
    assert_eq!(a.installments[4].status, InstallmentStatus::Paid);
    assert_eq!(a.outstanding.principal, amount("2000.00"));
}

#[test]
fn the_five_category_rules_keep_a_restructured_loan_substandard_while_it_is_observed() {
    let policy = Policy::default();
    let loan = four_month_loan(vec![], vec![restructure(false)]);
    // Right after: no days in arrears, yet substandard under observation.
    let a = assess(&loan, date("2026-03-02"), &policy);
    assert_eq!(a.days_in_arrears, 0);
    assert_eq!(a.classification, "substandard");
    let observed = a
        .explanation
        .iter()
        .find(|e| e.rule == "classification.reschedule-observation")
        .unwrap();
    // Observation from the first new due date, 2026-04-01, to a year later (the second new
    // installment, 2026-05-01, comes sooner).
    assert!(observed.detail.contains("2026-04-01 to 2027-04-01"));
    // Installment 5 falls overdue: a relapse within the observation, at least doubtful.
    assert_eq!(
        assess(&loan, date("2026-04-11"), &policy).classification,
        "doubtful"
    );

    // Paid on time throughout: substandard to 2027-04-01, then by days in arrears again.
    let kept = four_month_loan(
        vec![
            payment("P2", "2026-04-01", "1150.00"),
            payment("P3", "2026-05-01", "1020.00"),
            payment("P4", "2026-06-01", "1010.00"),
        ],
        vec![restructure(false)],
    );
    assert_eq!(
        assess(&kept, date("2027-04-01"), &policy).classification,
        "substandard"
    );
    assert_eq!(
        assess(&kept, date("2027-04-02"), &policy).classification,
        "normal"
    );
}

#[test]
fn a_second_reschedule_within_the_observation_is_a_relapse() {
    let loan = four_month_loan(
        vec![],
        vec![restructure(false), re_age("2026-04-10", 3, "2026-05-01")],
    );
    let a = assess(&loan, date("2026-04-11"), &Policy::default());
    assert_eq!(a.dpd, 0);
    assert_eq!(a.classification, "doubtful");
    // The re-age moves what the restructure made: seq 5 to 7 superseded, 8 to 10 new.
    assert_eq!(a.reschedules[1].new_seqs, Some((8, 10)));
    assert_eq!(a.reschedules[1].moved.principal, amount("3000.00"));
}

#[test]
fn without_an_observation_rule_the_classification_follows_days_in_arrears() {
    let policy = Policy {
        classification: Classification::Ranges(Ranges::ffiec_retail()),
        observation: None,
        ..Policy::default()
    };
    let loan = four_month_loan(vec![], vec![restructure(false)]);
    assert_eq!(
        assess(&loan, date("2026-03-02"), &policy).classification,
        "pass"
    );
}

#[test]
fn a_rescheduled_loan_is_forborne_for_two_years() {
    // EBA/GL/2018/06: probation of at least two years from the forbearance measure.
    let kept = four_month_loan(
        vec![
            payment("P2", "2026-04-01", "1150.00"),
            payment("P3", "2026-05-01", "1020.00"),
            payment("P4", "2026-06-01", "1010.00"),
        ],
        vec![restructure(false)],
    );
    let policy = Policy::default();
    assert!(!assess(&kept, date("2026-02-28"), &policy).forborne);
    assert!(assess(&kept, date("2026-03-01"), &policy).forborne);
    assert!(assess(&kept, date("2028-02-29"), &policy).forborne);
    assert!(!assess(&kept, date("2028-03-01"), &policy).forborne);
}

#[test]
fn reschedules_are_checked_field_by_field() {
    let base = || quarter_paid_loan(vec![]);
    let error = |reschedules| base().with_reschedules(reschedules).unwrap_err();

    let e = error(vec![
        re_age("2024-02-20", 6, "2024-03-01"),
        re_age("2024-02-20", 6, "2024-03-01"),
    ]);
    assert_eq!(e.field, "loan.reschedules[1].on");

    let e = error(vec![re_age("2024-02-20", 6, "2024-02-20")]);
    assert_eq!(e.field, "loan.reschedules[0].first_due_date");

    let e = error(vec![re_age("2024-02-20", 0, "2024-03-01")]);
    assert_eq!(e.field, "loan.reschedules[0].installments");

    let mut bad_rate = restructure(false);
    if let Relief::Restructure(r) = &mut bad_rate.relief {
        r.annual_rate = amount("-0.01");
    }
    assert_eq!(
        error(vec![bad_rate]).field,
        "loan.reschedules[0].annual_rate"
    );

    let e = error(vec![re_age("2024-02-20", 1200, "9999-01-01")]);
    assert_eq!(e.field, "loan.reschedules[0].first_due_date");

    // 700 + 600 new installments: more than the 1200 a loan's reschedules may make.
    let e = error(vec![
        re_age("2024-02-20", 700, "2024-03-01"),
        re_age("2024-02-21", 600, "2024-03-01"),
    ]);
    assert_eq!(e.field, "loan.reschedules");
    assert!(e.reason.contains("1300"), "{}", e.reason);
}

#[test]
fn the_most_a_reschedule_moves_is_ten_to_the_twenty_first() {
    assert_eq!(MAX_MOVED, Decimal::from_i128_with_scale(10i128.pow(21), 0));
}

#[test]
fn a_reschedule_finding_more_owed_than_the_limit_is_not_applied() {
    use crate::policy::{Penalty, PenaltyBasis};
    // 1200 monthly installments of the largest amount from 1900 (about 1.2 × 10¹⁸), at
    // 1000% penalty a year on all of it: by 2150 the penalty alone is past 10²¹.
    let largest = "999999999999999.99";
    let installments = (0..1200u32)
        .map(|k| Installment {
            seq: k + 1,
            due_date: date("1900-01-01")
                .checked_add_months(chrono::Months::new(k))
                .unwrap(),
            principal: amount(largest),
            interest: Decimal::ZERO,
            fees: Decimal::ZERO,
        })
        .collect();
    let mut restructure = restructure(true);
    restructure.on = date("2150-01-01");
    if let Relief::Restructure(r) = &mut restructure.relief {
        r.first_due_date = date("2150-02-01");
    }
    let loan = Loan::new("L-MAX".into(), cny(), installments, vec![])
        .unwrap()
        .with_reschedules(vec![restructure])
        .unwrap();
    let policy = Policy {
        penalty: Some(Penalty {
            annual_rate: amount("10"),
            basis: PenaltyBasis::OverdueTotal,
        }),
        ..Policy::default()
    };
    let a = assess(&loan, date("2150-06-01"), &policy);
    assert!(a.reschedules.is_empty());
    assert_eq!(a.installments.len(), 1200);
    assert!(a.outstanding.total() > MAX_MOVED);
}
