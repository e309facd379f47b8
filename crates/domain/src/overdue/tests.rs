//! Hand-worked examples: every expected figure is worked out in the comments beside it.

use super::*;
use crate::loan::Installment;
use crate::money::Currency;
use crate::policy::LateFee;

pub(crate) fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

pub(crate) fn amount(text: &str) -> Decimal {
    text.parse().unwrap()
}

pub(crate) fn installment(
    seq: u32,
    due: &str,
    principal: &str,
    interest: &str,
    fees: &str,
) -> Installment {
    Installment {
        seq,
        due_date: date(due),
        principal: amount(principal),
        interest: amount(interest),
        fees: amount(fees),
    }
}

pub(crate) fn payment(id: &str, value_date: &str, paid: &str) -> Payment {
    Payment {
        id: id.into(),
        value_date: date(value_date),
        amount: amount(paid),
    }
}

fn cny() -> Currency {
    Currency::parse("loan.currency", "CNY").unwrap()
}

/// Four monthly installments of 1000.00 principal with falling interest and 10.00 fees:
/// 1060.00, 1050.00, 1040.00 and 1030.00.
fn four_month_loan(payments: Vec<Payment>) -> Loan {
    Loan::new(
        "L-1001".into(),
        cny(),
        vec![
            installment(1, "2026-01-15", "1000.00", "50.00", "10.00"),
            installment(2, "2026-02-15", "1000.00", "40.00", "10.00"),
            installment(3, "2026-03-15", "1000.00", "30.00", "10.00"),
            installment(4, "2026-04-15", "1000.00", "20.00", "10.00"),
        ],
        payments,
    )
    .unwrap()
}

fn breakdown(principal: &str, interest: &str, fees: &str) -> Breakdown {
    Breakdown {
        principal: amount(principal),
        interest: amount(interest),
        fees: amount(fees),
        penalty: Decimal::ZERO,
    }
}

#[test]
fn partial_payment_leaves_the_oldest_installment_overdue() {
    // P1 pays installment 1 (1060.00) in full on its due date.
    // P2 (500.00 on 2026-02-20) goes to installment 2: fees 10.00, interest 40.00, then
    // principal 450.00, leaving 550.00 principal unpaid.
    // P3 is valued after the assessment date and is ignored.
    let loan = four_month_loan(vec![
        payment("P1", "2026-01-15", "1060.00"),
        payment("P2", "2026-02-20", "500.00"),
        payment("P3", "2026-03-25", "1590.00"),
    ]);
    let a = assess(&loan, date("2026-03-20"), &Policy::default());

    // Oldest unpaid: installment 2, due 2026-02-15. February 2026 has 28 days:
    // 13 days to 2026-02-28, then 20 days to 2026-03-20 = 33 days past due.
    assert_eq!(a.dpd, 33);
    assert_eq!(a.days_in_arrears, 33);
    assert_eq!(a.overdue_since, Some(date("2026-02-15")));
    // Overdue: installment 2 (550.00 principal) + installment 3 (1000.00 + 30.00 + 10.00).
    assert_eq!(a.overdue, breakdown("1550.00", "30.00", "10.00"));
    assert_eq!(a.overdue.total(), amount("1590.00"));
    // Outstanding adds installment 4, not yet due: 1000.00 + 20.00 + 10.00.
    assert_eq!(a.outstanding, breakdown("2550.00", "50.00", "20.00"));
    assert_eq!(a.outstanding.total(), amount("2620.00"));
    assert_eq!(a.overpaid, Decimal::ZERO);

    let statuses: Vec<_> = a.installments.iter().map(|i| i.status).collect();
    use InstallmentStatus::*;
    assert_eq!(statuses, [Paid, Overdue, Overdue, NotDue]);
    assert_eq!(a.installments[0].paid_off_on, Some(date("2026-01-15")));
    assert_eq!(a.installments[0].days_late, 0);
    assert_eq!(
        a.installments[1].paid,
        breakdown("450.00", "40.00", "10.00")
    );
    assert_eq!(a.installments[1].days_late, 33);
    // Installment 3: 2026-03-15 to 2026-03-20 = 5 days.
    assert_eq!(a.installments[2].days_late, 5);
    assert_eq!(a.explanation[1].rule, "dpd.oldest-unpaid-installment");
    assert!(
        a.explanation[0]
            .detail
            .contains("1 payment(s) reversed or valued after 2026-03-20 left out")
    );
}

#[test]
fn within_an_installment_fees_then_interest_then_principal() {
    // 45.00 against 10.00 fees, 50.00 interest, 1000.00 principal:
    // fees take 10.00, interest 35.00, principal nothing.
    let loan = four_month_loan(vec![payment("P1", "2026-01-10", "45.00")]);
    let a = assess(&loan, date("2026-01-10"), &Policy::default());
    assert_eq!(a.installments[0].paid, breakdown("0.00", "35.00", "10.00"));
    assert_eq!(
        a.installments[0].unpaid,
        breakdown("1000.00", "15.00", "0.00")
    );
    assert_eq!(a.installments[0].status, InstallmentStatus::PartiallyPaid);
    assert_eq!(a.dpd, 0);
}

#[test]
fn the_day_after_the_due_date_is_one_day_past_due() {
    let loan = four_month_loan(vec![]);
    let on_due_date = assess(&loan, date("2026-01-15"), &Policy::default());
    assert_eq!(on_due_date.dpd, 0);
    assert_eq!(
        on_due_date.installments[0].status,
        InstallmentStatus::DueToday
    );
    assert_eq!(on_due_date.overdue.total(), Decimal::ZERO);
    assert_eq!(on_due_date.explanation[1].rule, "dpd.nothing-overdue");

    let next_day = assess(&loan, date("2026-01-16"), &Policy::default());
    assert_eq!(next_day.dpd, 1);
    assert_eq!(next_day.overdue.total(), amount("1060.00"));
}

#[test]
fn a_late_payment_clears_the_installment_and_records_how_late() {
    // Installment 1 (1060.00) paid on 2026-01-25: 10 days late; nothing else due yet.
    let loan = four_month_loan(vec![payment("P1", "2026-01-25", "1060.00")]);
    let a = assess(&loan, date("2026-02-01"), &Policy::default());
    assert_eq!(a.dpd, 0);
    assert_eq!(a.installments[0].status, InstallmentStatus::Paid);
    assert_eq!(a.installments[0].paid_off_on, Some(date("2026-01-25")));
    assert_eq!(a.installments[0].days_late, 10);
}

#[test]
fn money_beyond_the_due_installments_prepays_the_next_then_is_overpaid() {
    // 1060.00 + 1050.00 = 2110.00 clears installments 1 and 2; 2200.00 leaves 90.00 for
    // installment 3: fees 10.00, interest 30.00, principal 50.00.
    let loan = four_month_loan(vec![payment("P1", "2026-01-15", "2200.00")]);
    let a = assess(&loan, date("2026-01-15"), &Policy::default());
    assert_eq!(a.installments[1].status, InstallmentStatus::Paid);
    assert_eq!(a.installments[2].paid, breakdown("50.00", "30.00", "10.00"));
    assert_eq!(a.installments[2].status, InstallmentStatus::PartiallyPaid);
    assert_eq!(a.overpaid, Decimal::ZERO);

    // The whole schedule is 1060 + 1050 + 1040 + 1030 = 4180.00; 4200.00 overpays 20.00.
    let loan = four_month_loan(vec![payment("P1", "2026-01-15", "4200.00")]);
    let a = assess(&loan, date("2026-01-15"), &Policy::default());
    assert_eq!(a.overpaid, amount("20.00"));
    assert_eq!(a.outstanding.total(), Decimal::ZERO);
}

#[test]
fn grace_days_reduce_days_in_arrears_but_not_dpd() {
    // 2026-01-15 to 2026-01-20 is 5 days past due; 3 grace days leave 2 in arrears,
    // 7 grace days leave none.
    let loan = four_month_loan(vec![]);
    let a = assess(
        &loan,
        date("2026-01-20"),
        &Policy {
            grace_days: 3,
            ..Policy::default()
        },
    );
    assert_eq!((a.dpd, a.days_in_arrears), (5, 2));
    let a = assess(
        &loan,
        date("2026-01-20"),
        &Policy {
            grace_days: 7,
            ..Policy::default()
        },
    );
    assert_eq!((a.dpd, a.days_in_arrears), (5, 0));
}

#[test]
fn arrival_order_does_not_change_the_answer() {
    let payments = vec![
        payment("P1", "2026-01-15", "1060.00"),
        payment("P2", "2026-02-20", "500.00"),
        payment("P3", "2026-02-20", "300.00"),
        payment("P4", "2026-03-01", "70.00"),
    ];
    let expected = assess(
        &four_month_loan(payments.clone()),
        date("2026-03-20"),
        &Policy::default(),
    );
    let mut reversed = payments;
    reversed.reverse();
    let shuffled = assess(
        &four_month_loan(reversed),
        date("2026-03-20"),
        &Policy::default(),
    );
    assert_eq!(shuffled, expected);
    // 500.00 + 300.00 + 70.00 = 870.00 against installment 2's 1050.00 leaves 180.00.
    assert_eq!(expected.installments[1].unpaid.total(), amount("180.00"));
}

fn policy() -> Policy {
    Policy::default()
}

#[test]
fn penalty_accrues_daily_on_overdue_principal_and_is_paid_first() {
    use crate::policy::{Penalty, PenaltyBasis};
    // 18% a year on overdue principal, actual/365. Installment 1 (1000.00 + 50.00 + 10.00)
    // falls due 2026-01-15 unpaid.
    // 2026-01-16..=2026-01-25, 10 days on 1000.00: 1000 × 0.18 × 10 / 365 = 4.9315… → 4.93.
    // P1 (560.00 on 2026-01-25): penalty 4.93, fees 10.00, interest 50.00, principal 495.07;
    // 504.93 principal stays unpaid.
    // 2026-01-26..=2026-02-14, 20 days on 504.93: 504.93 × 0.18 × 20 / 365 = 4.9801…
    // Accrued in all 4.9315… + 4.9801… = 9.9116… → 9.91, rounded once; 9.91 − 4.93 = 4.98 unpaid.
    let policy = Policy {
        penalty: Some(Penalty {
            annual_rate: amount("0.18"),
            basis: PenaltyBasis::OverduePrincipal,
        }),
        ..policy()
    };
    let loan = four_month_loan(vec![payment("P1", "2026-01-25", "560.00")]);
    let a = assess(&loan, date("2026-02-14"), &policy);
    let first = &a.installments[0];
    assert_eq!(first.paid.penalty, amount("4.93"));
    assert_eq!(first.paid.principal, amount("495.07"));
    assert_eq!(first.unpaid.penalty, amount("4.98"));
    assert_eq!(first.unpaid.principal, amount("504.93"));
    assert_eq!(a.overdue.penalty, amount("4.98"));
    // Installment 2 is not due until 2026-02-15: no penalty on it.
    assert_eq!(a.installments[1].unpaid.penalty, Decimal::ZERO);
}

#[test]
fn penalty_on_the_overdue_total_with_no_payment() {
    use crate::policy::{Penalty, PenaltyBasis};
    // 30 days on 1060.00 at 18%: 1060 × 0.18 × 30 / 365 = 15.6821… → 15.68.
    let policy = Policy {
        penalty: Some(Penalty {
            annual_rate: amount("0.18"),
            basis: PenaltyBasis::OverdueTotal,
        }),
        ..policy()
    };
    let a = assess(&four_month_loan(vec![]), date("2026-02-14"), &policy);
    assert_eq!(a.installments[0].unpaid.penalty, amount("15.68"));
}

fn flat_late_fee() -> LateFee {
    use crate::policy::LateFeeCharge;
    LateFee::new(
        "late_fee",
        10,
        LateFeeCharge::Amount(amount("50.00")),
        None,
        None,
    )
    .unwrap()
}

fn late_fee_reason(a: &Assessment) -> &str {
    let reason = a.explanation.iter().find(|r| r.rule == "late-fee.fixed");
    &reason.expect("a late-fee reason").detail
}

#[test]
fn a_late_fee_is_charged_once_on_the_day_an_installment_is_so_many_days_late() {
    // 50.00 once an installment is 10 days late. Installment 1 (1060.00) is due 2026-01-15
    // and unpaid: 10 days late on 2026-01-25, charged at that day's end as a fee.
    let policy = Policy {
        late_fee: Some(flat_late_fee()),
        ..policy()
    };
    let loan = four_month_loan(vec![]);
    let eve = assess(&loan, date("2026-01-24"), &policy);
    assert_eq!(eve.installments[0].unpaid.fees, amount("10.00"));
    assert!(
        late_fee_reason(&eve).ends_with("none charged"),
        "{}",
        late_fee_reason(&eve)
    );
    let day = assess(&loan, date("2026-01-25"), &policy);
    assert_eq!(day.installments[0].unpaid.fees, amount("60.00"));
    assert_eq!(day.overdue.total(), amount("1110.00")); // 1060.00 + 50.00
    assert!(
        late_fee_reason(&day)
            .contains("50.00 CNY on installment 1 on 2026-01-25; 50.00 CNY in all"),
        "{}",
        late_fee_reason(&day)
    );
    // Charged once: on 2026-03-01 installment 1 still carries one fee, and installment 2
    // (due 2026-02-15, 10 days late on 2026-02-25) its own.
    let later = assess(&loan, date("2026-03-01"), &policy);
    assert_eq!(later.installments[0].unpaid.fees, amount("60.00"));
    assert_eq!(later.installments[1].unpaid.fees, amount("60.00"));
    assert_eq!(later.installments[2].unpaid.fees, amount("10.00"));
    assert_eq!(later.overdue.fees, amount("120.00"));
}

#[test]
fn a_late_fee_is_allocated_as_a_fee_by_the_waterfall() {
    // The fee (50.00, 2026-01-25) makes installment 1's fees 60.00. 100.00 on 2026-01-26,
    // penalty → fees → interest → principal: no penalty, 60.00 to fees, 40.00 of the 50.00
    // interest; 10.00 interest and 1000.00 principal stay unpaid.
    let policy = Policy {
        late_fee: Some(flat_late_fee()),
        ..policy()
    };
    let loan = four_month_loan(vec![payment("P1", "2026-01-26", "100.00")]);
    let a = assess(&loan, date("2026-01-31"), &policy);
    let first = &a.installments[0];
    assert_eq!(first.paid.fees, amount("60.00"));
    assert_eq!(first.paid.interest, amount("40.00"));
    assert_eq!(first.unpaid, breakdown("1000.00", "10.00", "0.00"));
}

#[test]
fn no_late_fee_when_paid_that_day_or_left_within_tolerance() {
    use crate::policy::Tolerance;
    let policy = Policy {
        late_fee: Some(flat_late_fee()),
        tolerance: Some(Tolerance {
            amount: Some(amount("1.00")),
            ..Tolerance::default()
        }),
        ..policy()
    };
    // Paid in full on the fee's day: the day's payments come first, nothing is left late.
    let paid_that_day = four_month_loan(vec![payment("P1", "2026-01-25", "1060.00")]);
    let a = assess(&paid_that_day, date("2026-02-01"), &policy);
    assert_eq!(a.installments[0].unpaid.total(), Decimal::ZERO);
    // 1059.00 paid leaves 1.00 of principal, within tolerance: not overdue, so no fee.
    let within = four_month_loan(vec![payment("P1", "2026-01-20", "1059.00")]);
    let a = assess(&within, date("2026-02-01"), &policy);
    assert_eq!(a.installments[0].unpaid, breakdown("1.00", "0.00", "0.00"));
    assert!(late_fee_reason(&a).ends_with("none charged"));
}

#[test]
fn a_percentage_late_fee_is_rounded_and_held_within_its_caps() {
    use crate::policy::LateFeeCharge;
    // 5% after 10 days, at most 52.00 an installment and 100.00 a loan, nothing paid:
    // installment 1: 5% of 1060.00 = 53.00, capped to 52.00 (2026-01-25);
    // installment 2: 5% of 1050.00 = 52.50, capped to 52.00, and the loan's 100.00 leaves
    // 48.00 (2026-02-25); installment 3 (2026-03-25): nothing left under the loan's cap.
    let capped = Policy {
        late_fee: Some(
            LateFee::new(
                "late_fee",
                10,
                LateFeeCharge::Percent(amount("5")),
                Some(amount("52.00")),
                Some(amount("100.00")),
            )
            .unwrap(),
        ),
        ..policy()
    };
    let a = assess(&four_month_loan(vec![]), date("2026-04-01"), &capped);
    let fees: Vec<Decimal> = a.installments.iter().map(|i| i.unpaid.fees).collect();
    assert_eq!(
        fees,
        [
            amount("62.00"),
            amount("58.00"),
            amount("10.00"),
            amount("10.00")
        ]
    );
    assert!(late_fee_reason(&a).contains(
        "52.00 CNY on installment 1 on 2026-01-25, 48.00 CNY on installment 2 on 2026-02-25; 100.00 CNY in all"
    ));
    // 0.125% of 1060.00 = 1.325, half away from zero: 1.33.
    let small = Policy {
        late_fee: Some(
            LateFee::new(
                "late_fee",
                10,
                LateFeeCharge::Percent(amount("0.125")),
                None,
                None,
            )
            .unwrap(),
        ),
        ..policy()
    };
    let a = assess(&four_month_loan(vec![]), date("2026-01-25"), &small);
    assert_eq!(a.installments[0].unpaid.fees, amount("11.33"));
}

#[test]
fn a_cap_finer_than_the_minor_unit_rounds_the_fee_down() {
    use crate::policy::LateFeeCharge;
    // 50.00 capped at 10.005 an installment: CNY pays in 0.01, so the fee is 10.00, and
    // paying 1070.00 (1060.00 and the fee) clears installment 1.
    let capped = |cap: &str| Policy {
        late_fee: Some(
            LateFee::new(
                "late_fee",
                10,
                LateFeeCharge::Amount(amount("50.00")),
                Some(amount(cap)),
                None,
            )
            .unwrap(),
        ),
        ..policy()
    };
    let loan = four_month_loan(vec![payment("P1", "2026-01-28", "1070.00")]);
    let a = assess(&loan, date("2026-02-01"), &capped("10.005"));
    assert_eq!(a.installments[0].paid.fees, amount("20.00"));
    assert_eq!(a.installments[0].unpaid.total(), Decimal::ZERO);
    assert_eq!(a.dpd, 0);
}

#[test]
fn a_late_fee_needs_a_day_late_and_a_charge_above_zero() {
    use crate::policy::LateFeeCharge;
    let refused = |days, charge| {
        LateFee::new("policy.late_fee", days, charge, None, None)
            .unwrap_err()
            .field
    };
    assert_eq!(
        refused(0, LateFeeCharge::Amount(amount("5"))),
        "policy.late_fee.days_late"
    );
    assert_eq!(
        refused(5, LateFeeCharge::Amount(Decimal::ZERO)),
        "policy.late_fee.amount"
    );
    assert_eq!(
        refused(5, LateFeeCharge::Percent(amount("100.01"))),
        "policy.late_fee.percent"
    );
}

#[test]
fn a_remainder_within_tolerance_is_not_overdue() {
    use crate::policy::Tolerance;
    // Installment 1 asks 1060.00; 1055.00 paid leaves 5.00.
    let loan = four_month_loan(vec![payment("P1", "2026-01-15", "1055.00")]);
    let tolerate = |flat: &str| Policy {
        tolerance: Some(Tolerance {
            amount: Some(amount(flat)),
            ..Tolerance::default()
        }),
        ..policy()
    };
    let within = assess(&loan, date("2026-02-01"), &tolerate("5.00"));
    assert_eq!(within.dpd, 0);
    assert_eq!(
        within.installments[0].status,
        InstallmentStatus::PartiallyPaid
    );
    assert_eq!(within.overdue.total(), Decimal::ZERO);
    assert_eq!(within.outstanding.total(), amount("3125.00")); // 5.00 + 1050 + 1040 + 1030
    // 4.99 tolerated: the 5.00 left makes it overdue, 2026-01-15 to 2026-02-01 = 17 days.
    let beyond = assess(&loan, date("2026-02-01"), &tolerate("4.99"));
    assert_eq!(beyond.dpd, 17);
    assert_eq!(beyond.overdue.total(), amount("5.00"));
}

#[test]
fn paused_and_grace_days_come_off_days_in_arrears() {
    use crate::loan::Pause;
    // Overdue since 2026-01-15; on 2026-02-14: 30 days past due. The pause covers
    // 2026-01-20 up to, not including, 2026-01-30: 10 days. Grace 3. 30 − 3 − 10 = 17.
    let loan = four_month_loan(vec![])
        .with_pauses(vec![Pause {
            from: date("2026-01-20"),
            to: date("2026-01-30"),
            reason: "hardship".into(),
        }])
        .unwrap();
    let a = assess(
        &loan,
        date("2026-02-14"),
        &Policy {
            grace_days: 3,
            ..policy()
        },
    );
    assert_eq!((a.dpd, a.days_in_arrears), (30, 17));
    assert_eq!(a.bucket, "M1");
    assert_eq!(
        a.explanation[2].detail,
        "30 days past due less 3 grace days and 10 paused days: 17 days in arrears"
    );
}

#[test]
fn an_open_pause_counts_up_to_the_assessment_date() {
    use crate::loan::Pause;
    // Pause from 2026-02-01 to 2026-03-01, assessed 2026-02-10: 2026-02-01..=2026-02-09 = 9 days.
    // 2026-01-15 to 2026-02-10 = 26 days past due; 26 − 9 = 17.
    let loan = four_month_loan(vec![])
        .with_pauses(vec![Pause {
            from: date("2026-02-01"),
            to: date("2026-03-01"),
            reason: "dispute".into(),
        }])
        .unwrap();
    let a = assess(&loan, date("2026-02-10"), &policy());
    assert_eq!((a.dpd, a.days_in_arrears), (26, 17));
}

#[test]
fn a_reversed_payment_counts_as_never_made() {
    let loan = four_month_loan(vec![payment("P1", "2026-01-15", "1060.00")])
        .with_reversals(vec!["P1".into()])
        .unwrap();
    let a = assess(&loan, date("2026-01-20"), &policy());
    assert_eq!(a.dpd, 5);
    assert_eq!(a.overdue.total(), amount("1060.00"));
}

#[test]
fn a_due_date_on_a_sunday_moves_to_monday() {
    use crate::calendar::{Calendar, DueDateShift};
    use chrono::Weekday;
    // Installment 2 is due Sunday 2026-02-15; the next working day is Monday 2026-02-16.
    let policy = Policy {
        calendar: Calendar {
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays: Default::default(),
            shift: DueDateShift::NextWorkingDay,
        },
        ..policy()
    };
    let loan = four_month_loan(vec![payment("P1", "2026-01-15", "1060.00")]);
    let monday = assess(&loan, date("2026-02-16"), &policy);
    assert_eq!(monday.dpd, 0);
    assert_eq!(monday.installments[1].status, InstallmentStatus::DueToday);
    assert_eq!(
        monday.installments[1].effective_due_date,
        date("2026-02-16")
    );
    assert_eq!(
        monday.next_due,
        Some((date("2026-02-16"), amount("1050.00")))
    );
    let tuesday = assess(&loan, date("2026-02-17"), &policy);
    assert_eq!(tuesday.dpd, 1);
    assert_eq!(tuesday.overdue_since, Some(date("2026-02-16")));
}

#[test]
fn buckets_and_five_categories_follow_days_in_arrears() {
    // Unpaid since 2026-01-15: on 2026-04-15, 90 days (16 + 28 + 31 + 15); on 2026-04-16, 91.
    let loan = four_month_loan(vec![]);
    let at_90 = assess(&loan, date("2026-04-15"), &policy());
    assert_eq!(
        (
            at_90.dpd,
            at_90.bucket.as_str(),
            at_90.classification.as_str()
        ),
        (90, "M3", "special_mention")
    );
    let at_91 = assess(&loan, date("2026-04-16"), &policy());
    assert_eq!(
        (
            at_91.dpd,
            at_91.bucket.as_str(),
            at_91.classification.as_str()
        ),
        (91, "M4", "substandard")
    );
    let current = assess(&loan, date("2026-01-15"), &policy());
    assert_eq!(
        (current.bucket.as_str(), current.classification.as_str()),
        ("M0", "normal")
    );
}

#[test]
fn ffiec_retail_is_substandard_from_90_days_and_loss_from_120() {
    use crate::policy::{Classification, Ranges};
    let policy = Policy {
        classification: Classification::Ranges(Ranges::ffiec_retail()),
        ..policy()
    };
    let loan = four_month_loan(vec![]);
    // 2026-01-15 + 89 days = 2026-04-14; + 90 = 2026-04-15; + 120 = 2026-05-15.
    let name = |as_of: &str| assess(&loan, date(as_of), &policy).classification;
    assert_eq!(
        [
            name("2026-04-14"),
            name("2026-04-15"),
            name("2026-05-14"),
            name("2026-05-15")
        ],
        ["pass", "substandard", "substandard", "loss"]
    );
}

#[test]
fn eba_default_counts_days_since_both_thresholds_are_breached() {
    use crate::policy::{Classification, Materiality};
    let eba = |absolute: &str| Policy {
        classification: Classification::EbaDefault(Materiality {
            absolute: amount(absolute),
            relative: amount("0.01"),
        }),
        ..policy()
    };
    let loan = four_month_loan(vec![]);
    // From 2026-01-16, 1060.00 is overdue: above 100 and above 1% of the 4180.00 owed.
    // 2026-01-16 is day 1; 2026-04-15 is day 90 (performing), 2026-04-16 day 91 (default).
    assert_eq!(
        assess(&loan, date("2026-04-15"), &eba("100")).classification,
        "performing"
    );
    assert_eq!(
        assess(&loan, date("2026-04-16"), &eba("100")).classification,
        "default"
    );
    // Raise the absolute threshold above 1060.00: breached only from 2026-02-16, when
    // installment 2 joins (2110.00 overdue). Day 91 from there is 2026-05-17.
    assert_eq!(
        assess(&loan, date("2026-05-16"), &eba("1500")).classification,
        "performing"
    );
    assert_eq!(
        assess(&loan, date("2026-05-17"), &eba("1500")).classification,
        "default"
    );
}

#[test]
fn a_custom_allocation_order_is_followed() {
    use crate::policy::Part;
    // Principal first: 45.00 goes wholly to principal.
    let policy = Policy {
        allocation: [Part::Principal, Part::Interest, Part::Fees, Part::Penalty],
        ..policy()
    };
    let loan = four_month_loan(vec![payment("P1", "2026-01-10", "45.00")]);
    let a = assess(&loan, date("2026-01-10"), &policy);
    assert_eq!(a.installments[0].paid, breakdown("45.00", "0", "0"));
}

#[test]
fn contagion_raises_every_loan_to_the_borrowers_worst_class() {
    // Loan A unpaid since 2026-01-15 is 91 days overdue on 2026-04-16: substandard.
    // Loan B is fully paid so far (its first installment): normal on its own.
    let a = four_month_loan(vec![]);
    let b = Loan::new(
        "L-2002".into(),
        cny(),
        vec![installment(1, "2026-04-10", "100.00", "0", "0")],
        vec![payment("Q1", "2026-04-10", "100.00")],
    )
    .unwrap();
    let loans = [a, b];
    let alone = assess_borrower(&loans, date("2026-04-16"), &policy());
    assert_eq!(alone.worst_classification, "substandard");
    assert_eq!(alone.loans[1].classification, "normal");
    let together = assess_borrower(
        &loans,
        date("2026-04-16"),
        &Policy {
            contagion: true,
            ..policy()
        },
    );
    assert!(together.contagion_applied);
    assert_eq!(together.loans[1].classification, "substandard");
    assert_eq!(
        together.loans[1].explanation.last().unwrap().rule,
        "classification.contagion"
    );
}

mod arrival_order {
    use proptest::prelude::*;

    use super::*;
    use crate::policy::{Penalty, PenaltyBasis, Tolerance};
    use crate::reschedule::Reschedule;

    /// 5% of the installment after 10 days late, at most 52.00 an installment and 100.00 a loan.
    fn capped_late_fee() -> LateFee {
        use crate::policy::LateFeeCharge;
        LateFee::new(
            "late_fee",
            10,
            LateFeeCharge::Percent(amount("5")),
            Some(amount("52.00")),
            Some(amount("100.00")),
        )
        .unwrap()
    }

    fn payments() -> impl Strategy<Value = Vec<Payment>> {
        // Up to 8 payments of 0.01 to 2000.00 valued over the first five months of 2026.
        prop::collection::vec((1i64..200_000, 0u64..150), 0..8).prop_map(|drawn| {
            drawn
                .into_iter()
                .enumerate()
                .map(|(k, (cents, day))| Payment {
                    id: format!("P{k}"),
                    value_date: date("2026-01-01") + chrono::Days::new(day),
                    amount: Decimal::new(cents, 2),
                })
                .collect()
        })
    }

    /// Up to a restructure (one to six months, at 0 to 24%, capitalising or not) and a re-age
    /// after it (one to six months), each on a day of the first five months of 2026 with its
    /// first new due date 1 to 40 days later.
    fn reschedules() -> impl Strategy<Value = Vec<Reschedule>> {
        use crate::reschedule::{ReAge, Relief, Restructure};
        use crate::schedule::{DayCount, Frequency, Method};
        let restructure = (0u64..150, 1u64..40, 1u32..7, 0i64..25, any::<bool>()).prop_map(
            |(day, first, term, percent, capitalise)| {
                let on = date("2026-01-01") + chrono::Days::new(day);
                Reschedule {
                    on,
                    relief: Relief::Restructure(Restructure {
                        annual_rate: Decimal::new(percent, 2),
                        term,
                        frequency: Frequency::Monthly,
                        method: Method::Annuity,
                        first_due_date: on + chrono::Days::new(first),
                        day_count: DayCount::Actual365,
                        capitalise,
                    }),
                }
            },
        );
        let re_age = (1u64..60, 1u64..40, 1u32..7);
        (prop::option::of(restructure), prop::option::of(re_age)).prop_map(
            |(restructure, re_age)| {
                let mut made: Vec<Reschedule> = restructure.into_iter().collect();
                if let Some((later, first, installments)) = re_age {
                    let after = made.last().map_or(date("2026-01-20"), |r| r.on);
                    let on = after + chrono::Days::new(later);
                    made.push(Reschedule {
                        on,
                        relief: Relief::ReAge(ReAge {
                            installments,
                            frequency: Frequency::Monthly,
                            first_due_date: on + chrono::Days::new(first),
                        }),
                    });
                }
                made
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The same payments in any arrival order give identical assessments, with penalty
        /// interest, late fees, tolerance, restructures and re-ages in play.
        #[test]
        fn any_arrival_order_gives_the_same_assessment(
            payments in payments(),
            reschedules in reschedules(),
            shuffle in any::<prop::sample::Index>(),
            days in 0u64..200,
        ) {
            let policy = Policy {
                penalty: Some(Penalty { annual_rate: amount("0.24"), basis: PenaltyBasis::OverdueTotal }),
                tolerance: Some(Tolerance { amount: Some(amount("1.00")), ..Tolerance::default() }),
                late_fee: Some(capped_late_fee()),
                ..Policy::default()
            };
            let as_of = date("2026-01-01") + chrono::Days::new(days);
            let loan = |payments| four_month_loan(payments).with_reschedules(reschedules.clone()).unwrap();
            let expected = assess(&loan(payments.clone()), as_of, &policy);
            let mut arrived = payments;
            if !arrived.is_empty() {
                let pivot = shuffle.index(arrived.len());
                arrived.rotate_left(pivot);
                arrived.reverse();
            }
            prop_assert_eq!(assess(&loan(arrived), as_of, &policy), expected);
        }

        /// A reschedule changes nothing before its date, and moves everything owed at its end:
        /// a re-age leaves what is outstanding that day as it was, and nothing past due.
        #[test]
        fn a_reschedule_keeps_the_history_before_it_and_what_is_owed(
            payments in payments(),
            reschedules in reschedules(),
            days in 0u64..200,
        ) {
            let policy = Policy {
                penalty: Some(Penalty { annual_rate: amount("0.24"), basis: PenaltyBasis::OverdueTotal }),
                late_fee: Some(capped_late_fee()),
                ..Policy::default()
            };
            let without = four_month_loan(payments.clone());
            let with = four_month_loan(payments).with_reschedules(reschedules.clone()).unwrap();
            let as_of = date("2026-01-01") + chrono::Days::new(days);
            if reschedules.first().is_none_or(|r| as_of < r.on) {
                prop_assert_eq!(assess(&with, as_of, &policy), assess(&without, as_of, &policy));
            }
            if let [only] = reschedules.as_slice()
                && matches!(only.relief, crate::reschedule::Relief::ReAge(_))
            {
                let on = assess(&with, only.on, &policy);
                prop_assert_eq!(on.outstanding, assess(&without, only.on, &policy).outstanding);
                prop_assert_eq!(on.dpd, 0);
            }
        }

        /// One replay glancing at many dates sees, on each, what assessing that date alone
        /// gives, and assesses the last as `assess` does, with penalty interest, tolerance
        /// and EBA materiality tracked day by day.
        #[test]
        fn glancing_at_many_dates_at_once_matches_each_alone(
            payments in payments(),
            reschedules in reschedules(),
            reversed in any::<prop::sample::Index>(),
            mut days in prop::collection::vec(0u64..200, 1..12),
        ) {
            let policy = Policy {
                penalty: Some(Penalty { annual_rate: amount("0.24"), basis: PenaltyBasis::OverdueTotal }),
                tolerance: Some(Tolerance { amount: Some(amount("1.00")), ..Tolerance::default() }),
                classification: Classification::EbaDefault(crate::policy::Materiality {
                    absolute: amount("100"),
                    relative: amount("0.01"),
                }),
                late_fee: Some(capped_late_fee()),
                ..Policy::default()
            };
            let pause = crate::loan::Pause { from: date("2026-02-20"), to: date("2026-03-05"), reason: "hardship".into() };
            let mut loan = four_month_loan(payments.clone())
                .with_pauses(vec![pause])
                .unwrap()
                .with_reschedules(reschedules)
                .unwrap();
            if !payments.is_empty() {
                loan = loan.with_reversals(vec![payments[reversed.index(payments.len())].id.clone()]).unwrap();
            }
            days.sort();
            days.dedup();
            let dates: Vec<NaiveDate> = days.iter().map(|d| date("2026-01-01") + chrono::Days::new(*d)).collect();
            let (as_of, past) = dates.split_last().unwrap();
            let alone: Vec<Glance> = past.iter().map(|d| assess(&loan, *d, &policy).glance()).collect();
            let (assessment, glances) = assess_with_glances(&loan, *as_of, past, &policy);
            prop_assert_eq!(glances, alone);
            prop_assert_eq!(assessment, assess(&loan, *as_of, &policy));
        }

        /// The assessment that comes with the features, from their replay, is the one
        /// `assess` gives, and the features are those `features` reads alone.
        #[test]
        fn the_assessment_beside_the_features_is_the_assessment(
            payments in payments(),
            days in 0u64..200,
            made in 0u32..4,
        ) {
            use crate::scoring::{History, assess_with_features, features};
            let policy = Policy {
                penalty: Some(Penalty { annual_rate: amount("0.24"), basis: PenaltyBasis::OverduePrincipal }),
                ..Policy::default()
            };
            let loan = four_month_loan(payments);
            let as_of = date("2026-01-01") + chrono::Days::new(days);
            let history = History { disbursed_on: None, promises_made: made, promises_broken: made / 2 };
            let (assessment, read) = assess_with_features(&loan, as_of, &policy, history);
            prop_assert_eq!(assessment, assess(&loan, as_of, &policy));
            prop_assert_eq!(read, features(&loan, as_of, &policy, history));
        }
    }
}

/// The limits (docs/overdue.md, "Limits") leave room for every sum and penalty: the largest
/// amounts, on the most installments, overdue from 1900 to the last business date at the
/// highest penalty rate, assess without an overflow.
#[test]
fn the_largest_amounts_over_the_longest_span_do_not_overflow() {
    use crate::loan::MAX_INSTALLMENTS;
    use crate::policy::{Penalty, PenaltyBasis};
    let largest = "999999999999999.99";
    let installments: Vec<Installment> = (0..MAX_INSTALLMENTS as u32)
        .map(|k| {
            let due = date("1900-01-31")
                .checked_add_months(chrono::Months::new(k))
                .unwrap();
            installment(k + 1, &due.to_string(), largest, largest, largest)
        })
        .collect();
    let payments: Vec<Payment> = (0..5)
        .map(|k| payment(&format!("P{k}"), "1950-06-30", largest))
        .collect();
    let loan = Loan::new("L-MAX".into(), cny(), installments, payments).unwrap();
    let policy = Policy {
        penalty: Some(Penalty {
            annual_rate: Decimal::TEN,
            basis: PenaltyBasis::OverdueTotal,
        }),
        ..Policy::default()
    };
    let assessed = assess(&loan, crate::date::LATEST, &policy);
    // Every installment is overdue. The 5 payments of 1950 went to the penalty accrued by
    // then (the default allocation pays penalty first; 50 years at 1000% on the first
    // installments is more than they paid), so all 3,600 parts of the largest amount are owed:
    // 3,600 × 999,999,999,999,999.99 = 3,599,999,999,999,999,964.00.
    let owed = amount("3599999999999999964.00");
    let overdue = assessed.overdue.principal + assessed.overdue.interest + assessed.overdue.fees;
    assert_eq!(overdue, owed);
    assert!(assessed.overdue.penalty > owed, "300 years at 1000% a year");
}

#[test]
fn each_payment_says_what_it_paid_of_each_installment() {
    // P1 1060.00 on 2026-01-15 clears installment 1: fees 10.00, interest 50.00, principal
    // 1000.00. P2 1500.00 on 2026-02-20 clears installment 2 (1050.00) and leaves 450.00 for
    // installment 3: fees 10.00, interest 30.00, principal 410.00. P3, reversed, and P4,
    // valued after 2026-02-28, are not listed; P1 comes first, by value date.
    let mut loan = four_month_loan(vec![
        payment("P2", "2026-02-20", "1500.00"),
        payment("P1", "2026-01-15", "1060.00"),
        payment("P3", "2026-02-21", "100.00"),
        payment("P4", "2026-03-01", "100.00"),
    ])
    .with_reversals(vec!["P3".into()])
    .unwrap();
    let applied = allocations(&loan, date("2026-02-28"), &Policy::default());
    let listed: Vec<&str> = applied.iter().map(|a| a.payment_id.as_str()).collect();
    assert_eq!(listed, ["P1", "P2"]);
    assert_eq!(
        applied[0].applied,
        [(1, breakdown("1000.00", "50.00", "10.00"))]
    );
    assert_eq!(applied[0].unapplied, Decimal::ZERO);
    assert_eq!(
        applied[1].applied,
        [
            (2, breakdown("1000.00", "40.00", "10.00")),
            (3, breakdown("410.00", "30.00", "10.00"))
        ]
    );
    assert_eq!(applied[1].value_date, date("2026-02-20"));
    assert_eq!(applied[1].amount, amount("1500.00"));

    // The whole schedule is 4180.00: 4200.00 leaves 20.00 unapplied, the overpayment.
    loan = four_month_loan(vec![payment("P1", "2026-01-15", "4200.00")]);
    let applied = allocations(&loan, date("2026-01-15"), &Policy::default());
    assert_eq!(applied[0].applied.len(), 4);
    assert_eq!(applied[0].unapplied, amount("20.00"));
    assert_eq!(
        assess(&loan, date("2026-01-15"), &Policy::default()).overpaid,
        applied[0].unapplied
    );
}
