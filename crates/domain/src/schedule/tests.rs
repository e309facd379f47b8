//! Hand-worked schedules, and an independent cross-check of annuity payments.

use proptest::prelude::*;

use super::*;
use crate::calendar::DueDateShift;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn amount(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn terms(principal: &str, currency: &str, rate: &str, term: u32, method: Method) -> Terms {
    Terms {
        principal: amount(principal),
        currency: Currency::parse("currency", currency).unwrap(),
        annual_rate: amount(rate),
        term,
        frequency: Frequency::Monthly,
        method,
        disbursed_on: date("2026-01-15"),
        first_due_date: None,
        day_count: DayCount::Thirty360,
        rounding: Rounding::HalfUp,
        calendar: Calendar::default(),
    }
}

/// The schedule's due dates as text.
fn due_dates(terms: &Terms) -> Vec<String> {
    let s = schedule(terms).unwrap();
    s.installments
        .iter()
        .map(|i| i.due_date.to_string())
        .collect()
}

fn row(i: &ScheduledInstallment) -> (u32, String, String, String, String) {
    (
        i.seq,
        i.due_date.to_string(),
        i.principal.to_string(),
        i.interest.to_string(),
        i.balance_after.to_string(),
    )
}

#[test]
fn annuity_of_12000_at_12_percent_over_12_months() {
    // i = 0.12 / 12 = 0.01; PMT = 12000 × 0.01 / (1 − 1.01^−12) = 1066.1854… → 1066.19.
    // 1: interest 12000.00 × 0.01 = 120.00, principal 1066.19 − 120.00 = 946.19, left 11053.81.
    // 2: interest 11053.81 × 0.01 = 110.5381 → 110.54, principal 955.65, left 10098.16.
    // …
    // 12: interest 1055.58 × 0.01 = 10.5558 → 10.56; principal takes the rest, 1055.58:
    //     1066.14, five cents under the others from the rounding carried along.
    let s = schedule(&terms("12000.00", "CNY", "0.12", 12, Method::Annuity)).unwrap();
    assert_eq!(s.installments.len(), 12);
    assert_eq!(
        row(&s.installments[0]),
        (
            1,
            "2026-02-15".into(),
            "946.19".into(),
            "120.00".into(),
            "11053.81".into()
        )
    );
    assert_eq!(
        row(&s.installments[1]),
        (
            2,
            "2026-03-15".into(),
            "955.65".into(),
            "110.54".into(),
            "10098.16".into()
        )
    );
    assert_eq!(
        row(&s.installments[11]),
        (
            12,
            "2027-01-15".into(),
            "1055.58".into(),
            "10.56".into(),
            "0.00".into()
        )
    );
    assert!(
        s.installments[..11]
            .iter()
            .all(|i| i.total() == amount("1066.19"))
    );
    assert_eq!(s.installments[11].total(), amount("1066.14"));
    // 11 × 1066.19 + 1066.14 − 12000 = 794.23.
    assert_eq!(s.total_interest, amount("794.23"));
    assert_eq!(s.total_payable, amount("12794.23"));
}

#[test]
fn equal_principal_interest_falls_with_the_balance() {
    // 1000.00 principal each month; interest 1% of 12000, 11000, …, 1000:
    // 120 + 110 + … + 10 = 10 × (12 × 13 / 2) = 780.00.
    let s = schedule(&terms(
        "12000.00",
        "CNY",
        "0.12",
        12,
        Method::EqualPrincipal,
    ))
    .unwrap();
    assert!(
        s.installments
            .iter()
            .all(|i| i.principal == amount("1000.00"))
    );
    assert_eq!(s.installments[0].interest, amount("120.00"));
    assert_eq!(s.installments[11].interest, amount("10.00"));
    assert_eq!(s.total_interest, amount("780.00"));
}

#[test]
fn interest_only_repays_principal_with_the_last() {
    // 1% of 10000.00 = 100.00 each month; 10000.00 with the third.
    let s = schedule(&terms("10000.00", "CNY", "0.12", 3, Method::InterestOnly)).unwrap();
    let principal: Vec<Decimal> = s.installments.iter().map(|i| i.principal).collect();
    assert_eq!(
        principal,
        [Decimal::ZERO, Decimal::ZERO, amount("10000.00")]
    );
    assert!(
        s.installments
            .iter()
            .all(|i| i.interest == amount("100.00"))
    );
    assert_eq!(s.total_payable, amount("10300.00"));
}

#[test]
fn bullet_pays_everything_at_the_end_of_the_term() {
    // 2026-01-15 to 2026-07-15 is 181 days: 10000 × 0.10 × 181 / 365 = 495.8904… → 495.89.
    let mut bullet = terms("10000.00", "CNY", "0.10", 6, Method::Bullet);
    bullet.day_count = DayCount::Actual365;
    let s = schedule(&bullet).unwrap();
    assert_eq!(s.installments.len(), 1);
    assert_eq!(
        row(&s.installments[0]),
        (
            1,
            "2026-07-15".into(),
            "10000.00".into(),
            "495.89".into(),
            "0.00".into()
        )
    );
}

#[test]
fn yen_rounds_to_whole_units() {
    // PMT = 100000 × 0.01 / (1 − 1.01^−3) = 34002.21… → 34002.
    // 1: interest 1000, principal 33002, left 66998. 2: interest 669.98 → 670, principal 33332,
    // left 33666. 3: interest 336.66 → 337, principal 33666: 34003.
    let s = schedule(&terms("100000", "JPY", "0.12", 3, Method::Annuity)).unwrap();
    let totals: Vec<String> = s
        .installments
        .iter()
        .map(|i| i.total().to_string())
        .collect();
    assert_eq!(totals, ["34002", "34002", "34003"]);
    assert_eq!(s.installments[1].interest, amount("670"));
}

#[test]
fn half_even_and_half_up_differ_on_a_midpoint() {
    // One month on 12.50 at 1%: interest 0.125 exactly: half up 0.13, half even 0.12.
    let mut one = terms("12.50", "CNY", "0.12", 1, Method::Annuity);
    assert_eq!(
        schedule(&one).unwrap().installments[0].interest,
        amount("0.13")
    );
    one.rounding = Rounding::HalfEven;
    assert_eq!(
        schedule(&one).unwrap().installments[0].interest,
        amount("0.12")
    );
}

#[test]
fn month_end_due_dates_stay_at_month_end() {
    let mut month_end = terms("3000.00", "CNY", "0", 4, Method::EqualPrincipal);
    month_end.disbursed_on = date("2023-12-31");
    let dates = due_dates(&month_end);
    assert_eq!(
        dates,
        ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
    );
    // A 30th stays the 30th, but for February.
    month_end.disbursed_on = date("2025-12-30");
    let dates = due_dates(&month_end);
    assert_eq!(
        dates,
        ["2026-01-30", "2026-02-28", "2026-03-30", "2026-04-30"]
    );
}

#[test]
fn month_end_periods_are_whole_months_under_30_360() {
    // Jan 31 → Feb 28 counts 30 days under 30E/360, so interest is a full 1%: 30.00 on 3000.00.
    let mut month_end = terms("3000.00", "CNY", "0.12", 3, Method::EqualPrincipal);
    month_end.disbursed_on = date("2026-01-31");
    let s = schedule(&month_end).unwrap();
    assert_eq!(s.installments[0].due_date, date("2026-02-28"));
    assert_eq!(s.installments[0].interest, amount("30.00"));
}

#[test]
fn weekly_and_biweekly_steps() {
    let mut weekly = terms("700.00", "CNY", "0", 3, Method::EqualPrincipal);
    weekly.frequency = Frequency::Weekly;
    let dates = due_dates(&weekly);
    assert_eq!(dates, ["2026-01-22", "2026-01-29", "2026-02-05"]);
    weekly.frequency = Frequency::Biweekly;
    weekly.first_due_date = Some(date("2026-02-01"));
    let dates = due_dates(&weekly);
    assert_eq!(dates, ["2026-02-01", "2026-02-15", "2026-03-01"]);
}

#[test]
fn due_dates_on_weekends_move_but_interest_runs_to_the_scheduled_date() {
    // 2026-03-15 is a Sunday: due Monday 2026-03-16; the interest is still one month's.
    let mut shifted = terms("12000.00", "CNY", "0.12", 12, Method::Annuity);
    shifted.calendar = Calendar {
        weekend: vec![chrono::Weekday::Sat, chrono::Weekday::Sun],
        holidays: Default::default(),
        shift: DueDateShift::NextWorkingDay,
    };
    let s = schedule(&shifted).unwrap();
    assert_eq!(s.installments[1].due_date, date("2026-03-16"));
    assert_eq!(s.installments[1].interest, amount("110.54"));
}

#[test]
fn unusable_terms_name_their_field() {
    let field = |t: Terms| schedule(&t).unwrap_err().field;
    let mut t = terms("1000.00", "CNY", "0.12", 0, Method::Annuity);
    assert_eq!(field(t.clone()), "term");
    t.term = 1201;
    assert_eq!(field(t.clone()), "term");
    t.term = 1200;
    assert!(
        schedule(&t).is_ok(),
        "the longest term at a high rate still computes"
    );
    t.annual_rate = amount("10.01");
    assert_eq!(field(t.clone()), "annual_rate");
    t.annual_rate = amount("0.12");
    t.first_due_date = Some(t.disbursed_on);
    assert_eq!(field(t.clone()), "first_due_date");
    t.first_due_date = None;
    t.principal = Decimal::ZERO;
    assert_eq!(field(t), "principal");
}

/// (1 + i)^n by repeated multiplication, for the other side of the closed form
/// `PMT = P·i·(1 + i)^n / ((1 + i)^n − 1)`.
fn growth(i: Decimal, n: u32) -> Decimal {
    (0..n).fold(Decimal::ONE, |g, _| g * (Decimal::ONE + i))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Regular monthly periods under 30/360: every installment but the last equals the
    /// closed-form payment rounded to the cent (until the balance runs out); interest is
    /// 1/12 of the rate on the balance;
    /// principal sums exactly to the loan; and the last installment differs from the others
    /// only by the rounding carried along: the payment's and each interest's rounding, at
    /// most a cent a period, compounded at the periodic rate: 0.01 × ((1 + i)^n − 1) / i.
    #[test]
    fn annuities_match_the_closed_form(
        cents in 100_000_i64..500_000_000, // 1000.00 to 5000000.00
        rate_bp in 1u32..6000,
        term in 1u32..=360,
        day in 1u32..=28,
    ) {
        let mut t = terms("1", "CNY", "0", term, Method::Annuity);
        t.principal = Decimal::new(cents, 2);
        t.annual_rate = Decimal::new(i64::from(rate_bp), 4);
        t.disbursed_on = NaiveDate::from_ymd_opt(2026, 1, day).unwrap();
        let s = schedule(&t).unwrap();
        let i = t.annual_rate / Decimal::from(12);
        let g = growth(i, term);
        let payment = (t.principal * i * g / (g - Decimal::ONE))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let (last, others) = s.installments.split_last().unwrap();
        let mut balance = t.principal;
        for installment in others {
            let interest = balance * t.annual_rate / Decimal::from(12);
            prop_assert_eq!(installment.interest, interest.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero));
            // Long, dear loans can carry enough rounding to repay early: the installment
            // that clears the balance takes just what is left.
            if installment.principal != balance {
                prop_assert_eq!(installment.total(), payment);
            }
            balance -= installment.principal;
        }
        prop_assert_eq!(last.principal, balance);
        let principal: Decimal = s.installments.iter().map(|i| i.principal).sum();
        prop_assert_eq!(principal, t.principal);
        let drift = (last.total() - payment).abs();
        let carried = Decimal::new(1, 2) * (g - Decimal::ONE) / i;
        prop_assert!(drift <= carried, "last differs by {} > {}", drift, carried);
    }
}
