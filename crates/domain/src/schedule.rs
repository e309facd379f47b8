//! Repayment schedules: due dates, and how each installment splits into principal and interest.
//!
//! Amounts are rounded to the currency's minor unit. Annuity installments are equal but for
//! the last, which takes the rest of the principal so that principal sums exactly to the loan.

use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::{Decimal, MathematicalOps, RoundingStrategy};

use crate::FieldError;
use crate::calendar::Calendar;
use crate::date::LATEST;
use crate::money::Currency;
use crate::policy::annual_rate;

/// How often installments fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Every month, on the same day (month-end stays at month-end).
    Monthly,
    /// Every 14 days.
    Biweekly,
    /// Every 7 days.
    Weekly,
}

/// How principal is repaid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Equal installments of principal and interest (等额本息).
    Annuity,
    /// Equal principal, interest on the falling balance (等额本金).
    EqualPrincipal,
    /// Interest each period, all principal with the last (先息后本).
    InterestOnly,
    /// One installment at the end of the term: all principal and all interest.
    Bullet,
}

/// How a period's length is counted as a fraction of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayCount {
    /// 30E/360: every month has 30 days (a 31st counts as the 30th, and so does the last day
    /// of February), over a 360-day year.
    Thirty360,
    /// Actual days over 365.
    Actual365,
    /// Actual days over 360.
    Actual360,
}

/// How amounts are rounded to the minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    /// Halves away from zero.
    #[default]
    HalfUp,
    /// Halves to the even neighbour (banker's rounding).
    HalfEven,
}

/// Most installments a schedule may have.
pub const MAX_TERM: u32 = 1200;

/// What a schedule is generated from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Amount lent.
    pub principal: Decimal,
    /// Currency of the loan.
    pub currency: Currency,
    /// Yearly interest rate as a fraction, such as `0.12`.
    pub annual_rate: Decimal,
    /// Number of installments (for a bullet loan, of periods until the one installment).
    pub term: u32,
    /// How often installments fall due.
    pub frequency: Frequency,
    /// How principal is repaid.
    pub method: Method,
    /// Disbursement date: interest runs from it.
    pub disbursed_on: NaiveDate,
    /// First due date; one period after disbursement when none.
    pub first_due_date: Option<NaiveDate>,
    /// Day-count convention for interest.
    pub day_count: DayCount,
    /// Rounding to the minor unit.
    pub rounding: Rounding,
    /// Working days: due dates on other days move as it says. Interest still runs to the
    /// date as scheduled.
    pub calendar: Calendar,
}

/// One installment of a generated schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledInstallment {
    /// Position, from 1.
    pub seq: u32,
    /// Due date, after the calendar's shift.
    pub due_date: NaiveDate,
    /// Principal due.
    pub principal: Decimal,
    /// Interest due.
    pub interest: Decimal,
    /// Fees due (schedules generate none).
    pub fees: Decimal,
    /// Principal still owed once this installment is paid.
    pub balance_after: Decimal,
}

impl ScheduledInstallment {
    /// Principal, interest and fees together.
    pub fn total(&self) -> Decimal {
        self.principal + self.interest + self.fees
    }
}

/// A generated schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The installments, in order.
    pub installments: Vec<ScheduledInstallment>,
    /// Interest over the whole schedule.
    pub total_interest: Decimal,
    /// Everything the borrower pays.
    pub total_payable: Decimal,
}

/// Generates the schedule for `terms`, or says which term is unusable.
pub fn schedule(terms: &Terms) -> Result<Schedule, FieldError> {
    check(terms)?;
    let dates = period_ends(terms);
    let starts = std::iter::once(terms.disbursed_on).chain(dates.iter().copied());
    let periods: Vec<(NaiveDate, NaiveDate)> = starts.zip(dates.iter().copied()).collect();
    let round = |amount: Decimal| round(amount, terms);
    let interest_for = |balance: Decimal, k: usize, (start, end): (NaiveDate, NaiveDate)| {
        let regular = k > 0 || terms.first_due_date.is_none();
        let (days, year) = year_fraction(terms, regular, start, end);
        // Divide last, so that an exact midpoint such as 9.375 stays exact before rounding.
        round(balance * terms.annual_rate * days / year)
    };
    let level = match terms.method {
        Method::Annuity => round(annuity_payment(terms)),
        Method::EqualPrincipal => round(terms.principal / Decimal::from(periods.len())),
        Method::InterestOnly | Method::Bullet => Decimal::ZERO,
    };

    let mut balance = terms.principal;
    let mut installments = Vec::with_capacity(periods.len());
    for (k, &period) in periods.iter().enumerate() {
        let interest = interest_for(balance, k, period);
        let principal = if k + 1 == periods.len() {
            balance
        } else {
            match terms.method {
                Method::Annuity => (level - interest).max(Decimal::ZERO).min(balance),
                Method::EqualPrincipal => level.min(balance),
                Method::InterestOnly | Method::Bullet => Decimal::ZERO,
            }
        };
        balance -= principal;
        installments.push(ScheduledInstallment {
            seq: u32::try_from(k + 1).unwrap_or(u32::MAX),
            due_date: terms.calendar.shift(period.1),
            principal,
            interest,
            fees: Decimal::ZERO,
            balance_after: balance,
        });
    }
    if let Some(last) = installments.last().filter(|i| i.due_date > LATEST) {
        return Err(FieldError::new(
            "term",
            format!("the last due date, {}, is past {LATEST}", last.due_date),
        ));
    }
    let total_interest = installments.iter().map(|i| i.interest).sum();
    Ok(Schedule {
        total_payable: terms.principal + total_interest,
        installments,
        total_interest,
    })
}

fn check(terms: &Terms) -> Result<(), FieldError> {
    if terms.principal <= Decimal::ZERO {
        return Err(FieldError::new("principal", "must be greater than zero"));
    }
    annual_rate("annual_rate", terms.annual_rate)?;
    if terms.term == 0 || terms.term > MAX_TERM {
        return Err(FieldError::new(
            "term",
            format!("{} is outside 1 to {MAX_TERM}", terms.term),
        ));
    }
    if let Some(first) = terms
        .first_due_date
        .filter(|first| *first <= terms.disbursed_on)
    {
        return Err(FieldError::new(
            "first_due_date",
            format!(
                "{first} is not after disbursement on {}",
                terms.disbursed_on
            ),
        ));
    }
    Ok(())
}

/// The unshifted end of each period: the due dates as scheduled. A bullet loan has one.
fn period_ends(terms: &Terms) -> Vec<NaiveDate> {
    match terms.first_due_date {
        Some(first) => dates_from(first, 0, terms.frequency, terms.term, terms.method),
        None => dates_from(
            terms.disbursed_on,
            1,
            terms.frequency,
            terms.term,
            terms.method,
        ),
    }
}

/// The due dates, as scheduled, of `term` periods from `first` on: one date, the last, for a
/// bullet.
pub fn due_dates(
    first: NaiveDate,
    frequency: Frequency,
    term: u32,
    method: Method,
) -> Vec<NaiveDate> {
    dates_from(first, 0, frequency, term, method)
}

/// Period ends `offset`, `offset + 1`, … periods after `anchor`: stepping from the anchor
/// each time keeps its day of the month.
fn dates_from(
    anchor: NaiveDate,
    offset: u32,
    frequency: Frequency,
    term: u32,
    method: Method,
) -> Vec<NaiveDate> {
    let at = |k: u32| step(anchor, frequency, k + offset);
    match method {
        Method::Bullet => vec![at(term.saturating_sub(1))],
        _ => (0..term).map(at).collect(),
    }
}

/// `anchor` moved on by `periods`. Monthly steps keep the day of the month, clamped to the
/// month's length; a month-end anchor stays at month-end (Jan 31 → Feb 28/29 → Mar 31).
fn step(anchor: NaiveDate, frequency: Frequency, periods: u32) -> NaiveDate {
    let days = |per: u64| anchor.checked_add_days(Days::new(per * u64::from(periods)));
    let moved = match frequency {
        Frequency::Weekly => days(7),
        Frequency::Biweekly => days(14),
        Frequency::Monthly => anchor.checked_add_months(Months::new(periods)).map(|date| {
            if is_month_end(anchor) {
                month_end(date)
            } else {
                date
            }
        }),
    };
    moved.unwrap_or(NaiveDate::MAX)
}

fn is_month_end(date: NaiveDate) -> bool {
    date.succ_opt()
        .is_none_or(|next| next.month() != date.month())
}

fn month_end(date: NaiveDate) -> NaiveDate {
    let first_of_next = date
        .with_day(1)
        .and_then(|d| d.checked_add_months(Months::new(1)));
    first_of_next.and_then(|d| d.pred_opt()).unwrap_or(date)
}

/// The fraction of a year from `start` to `end` under the terms' day count, as days over a
/// year's days. Under 30/360 a regular period (one generated step, not an odd first period)
/// is exactly its nominal length: a month is 1/12 of a year whatever the calendar says.
fn year_fraction(
    terms: &Terms,
    regular: bool,
    start: NaiveDate,
    end: NaiveDate,
) -> (Decimal, Decimal) {
    let actual = Decimal::from((end - start).num_days());
    match terms.day_count {
        DayCount::Actual365 => (actual, Decimal::from(365)),
        DayCount::Actual360 => (actual, Decimal::from(360)),
        DayCount::Thirty360 if regular && terms.method != Method::Bullet => nominal_period(terms),
        DayCount::Thirty360 => (Decimal::from(days_30e_360(start, end)), Decimal::from(360)),
    }
}

/// Days between two dates when every month has 30 days: a month-end day counts as the 30th.
fn days_30e_360(start: NaiveDate, end: NaiveDate) -> i64 {
    let day = |d: NaiveDate| {
        if is_month_end(d) {
            30
        } else {
            i64::from(d.day()).min(30)
        }
    };
    360 * i64::from(end.year() - start.year())
        + 30 * (i64::from(end.month()) - i64::from(start.month()))
        + (day(end) - day(start))
}

/// One period's nominal share of a year under the day count, as days over a year's days:
/// a month is 1 over 12, a week 7 over 365 or 360.
fn nominal_period(terms: &Terms) -> (Decimal, Decimal) {
    let year = match terms.day_count {
        DayCount::Actual365 => Decimal::from(365),
        DayCount::Actual360 | DayCount::Thirty360 => Decimal::from(360),
    };
    match terms.frequency {
        Frequency::Monthly => (Decimal::ONE, Decimal::from(12)),
        Frequency::Biweekly => (Decimal::from(14), year),
        Frequency::Weekly => (Decimal::from(7), year),
    }
}

/// The level payment, unrounded: `P·i / (1 − (1 + i)^−n)`, or `P / n` without interest.
fn annuity_payment(terms: &Terms) -> Decimal {
    let n = Decimal::from(terms.term);
    let (days, year) = nominal_period(terms);
    let i = terms.annual_rate * days / year;
    if i.is_zero() {
        return terms.principal / n;
    }
    // (1 + i)^n can exceed what a decimal holds for long terms at high rates; the discount
    // factor (1 + i)^−n is then below the precision that matters, so it counts as zero.
    let discount = (Decimal::ONE + i)
        .checked_powu(u64::from(terms.term))
        .map_or(Decimal::ZERO, |growth| Decimal::ONE / growth);
    terms.principal * i / (Decimal::ONE - discount)
}

fn round(amount: Decimal, terms: &Terms) -> Decimal {
    let strategy = match terms.rounding {
        Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
    };
    amount.round_dp_with_strategy(terms.currency.minor_unit(), strategy)
}

#[cfg(test)]
mod tests;
