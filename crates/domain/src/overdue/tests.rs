//! Hand-worked examples: every expected figure is worked out in the comments beside it.

use super::*;
use crate::money::Currency;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn amount(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn installment(seq: u32, due: &str, principal: &str, interest: &str, fees: &str) -> Installment {
    Installment {
        seq,
        due_date: date(due),
        principal: amount(principal),
        interest: amount(interest),
        fees: amount(fees),
    }
}

fn payment(id: &str, value_date: &str, paid: &str) -> Payment {
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
            .contains("1 payment(s) valued after 2026-03-20 ignored")
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
    let a = assess(&loan, date("2026-01-20"), &Policy { grace_days: 3 });
    assert_eq!((a.dpd, a.days_in_arrears), (5, 2));
    let a = assess(&loan, date("2026-01-20"), &Policy { grace_days: 7 });
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
