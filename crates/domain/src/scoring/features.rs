//! Behavioural features: what a loan's repayment history says about the borrower, computed
//! by replaying the loan with [`assess`] as it stood on past dates.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::prelude::*;

use crate::FieldError;
use crate::loan::Loan;
use crate::overdue::{
    Assessment, Glance, InstallmentAssessment, InstallmentStatus, assess_with_glances,
};
use crate::policy::Policy;

/// What postloan does not see in the schedule and payments: the disbursement date and the
/// promises to pay the collectors recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// The disbursement date; one month before the first due date when unknown.
    pub disbursed_on: Option<NaiveDate>,
    /// Promises to pay made.
    pub promises_made: u32,
    /// Promises to pay broken, at most those made.
    pub promises_broken: u32,
}

impl History {
    /// Checks that no more promises were broken than made; fields sit under `history`.
    pub fn check(self) -> Result<Self, FieldError> {
        if self.promises_broken > self.promises_made {
            return Err(FieldError::new(
                "history.promises_broken",
                format!(
                    "{} promises broken is more than the {} made",
                    self.promises_broken, self.promises_made
                ),
            ));
        }
        Ok(self)
    }
}

/// The behavioural features of one loan on a business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    /// Days past due on the date.
    pub current_dpd: u32,
    /// Highest DPD on any day of the last 3 months.
    pub max_dpd_m3: u32,
    /// Highest DPD on any day of the last 6 months.
    pub max_dpd_m6: u32,
    /// Highest DPD on any day of the last 12 months.
    pub max_dpd_m12: u32,
    /// Installments paid after their due date, or still unpaid past it.
    pub late_installments: u32,
    /// Share of the installments fallen due that were paid on time, 4 decimals; 1 when none has fallen due.
    pub on_time_share: Decimal,
    /// Payments after which an amount already due was still unpaid at the end of their value date.
    pub partial_payments: u32,
    /// Days since the last payment's value date; none when nothing has been paid.
    pub days_since_last_payment: Option<u32>,
    /// Promises to pay made.
    pub promises_made: u32,
    /// Promises to pay broken.
    pub promises_broken: u32,
    /// Outstanding principal over scheduled principal, 4 decimals; 0 when nothing was lent.
    pub outstanding_ratio: Decimal,
    /// Whole months from disbursement to the date.
    pub months_on_book: u32,
}

/// One feature, by its WIT name in `behaviour-features`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `current-dpd`.
    CurrentDpd,
    /// `max-dpd-m3`.
    MaxDpdM3,
    /// `max-dpd-m6`.
    MaxDpdM6,
    /// `max-dpd-m12`.
    MaxDpdM12,
    /// `late-installments`.
    LateInstallments,
    /// `on-time-share`.
    OnTimeShare,
    /// `partial-payments`.
    PartialPayments,
    /// `days-since-last-payment`.
    DaysSinceLastPayment,
    /// `promises-made`.
    PromisesMade,
    /// `promises-broken`.
    PromisesBroken,
    /// `outstanding-ratio`.
    OutstandingRatio,
    /// `months-on-book`.
    MonthsOnBook,
}

/// A feature's value: a number, or none (no payment yet).
pub type FeatureValue = Option<Decimal>;

impl Feature {
    /// Every feature, in WIT order.
    pub const ALL: [Feature; 12] = [
        Feature::CurrentDpd,
        Feature::MaxDpdM3,
        Feature::MaxDpdM6,
        Feature::MaxDpdM12,
        Feature::LateInstallments,
        Feature::OnTimeShare,
        Feature::PartialPayments,
        Feature::DaysSinceLastPayment,
        Feature::PromisesMade,
        Feature::PromisesBroken,
        Feature::OutstandingRatio,
        Feature::MonthsOnBook,
    ];

    /// The WIT name, such as `max-dpd-m3`.
    pub fn name(self) -> &'static str {
        match self {
            Feature::CurrentDpd => "current-dpd",
            Feature::MaxDpdM3 => "max-dpd-m3",
            Feature::MaxDpdM6 => "max-dpd-m6",
            Feature::MaxDpdM12 => "max-dpd-m12",
            Feature::LateInstallments => "late-installments",
            Feature::OnTimeShare => "on-time-share",
            Feature::PartialPayments => "partial-payments",
            Feature::DaysSinceLastPayment => "days-since-last-payment",
            Feature::PromisesMade => "promises-made",
            Feature::PromisesBroken => "promises-broken",
            Feature::OutstandingRatio => "outstanding-ratio",
            Feature::MonthsOnBook => "months-on-book",
        }
    }

    /// The feature a WIT name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the feature can have no value.
    pub fn optional(self) -> bool {
        self == Feature::DaysSinceLastPayment
    }
}

impl Features {
    /// The value of one feature.
    pub fn value(&self, feature: Feature) -> FeatureValue {
        let count = |n: u32| Some(Decimal::from(n));
        match feature {
            Feature::CurrentDpd => count(self.current_dpd),
            Feature::MaxDpdM3 => count(self.max_dpd_m3),
            Feature::MaxDpdM6 => count(self.max_dpd_m6),
            Feature::MaxDpdM12 => count(self.max_dpd_m12),
            Feature::LateInstallments => count(self.late_installments),
            Feature::OnTimeShare => Some(self.on_time_share),
            Feature::PartialPayments => count(self.partial_payments),
            Feature::DaysSinceLastPayment => self.days_since_last_payment.map(Decimal::from),
            Feature::PromisesMade => count(self.promises_made),
            Feature::PromisesBroken => count(self.promises_broken),
            Feature::OutstandingRatio => Some(self.outstanding_ratio),
            Feature::MonthsOnBook => count(self.months_on_book),
        }
    }
}

/// Decimals of the share and ratio features.
const RATIO_DECIMALS: u32 = 4;

/// The behavioural features of `loan` at the end of `as_of`, under `policy`.
pub fn features(loan: &Loan, as_of: NaiveDate, policy: &Policy, history: History) -> Features {
    assess_with_features(loan, as_of, policy, history).1
}

/// `loan`'s assessment at the end of `as_of` (what [`crate::overdue::assess`] gives) and its
/// behavioural features, from one replay of its history.
pub fn assess_with_features(
    loan: &Loan,
    as_of: NaiveDate,
    policy: &Policy,
    history: History,
) -> (Assessment, Features) {
    let payment_dates = counted_payment_dates(loan, as_of);
    let past = Past::replay(loan, as_of, policy, &payment_dates);
    let now = &past.now;
    let features = Features {
        current_dpd: now.dpd,
        max_dpd_m3: past.max_dpd(&payment_dates, 3),
        max_dpd_m6: past.max_dpd(&payment_dates, 6),
        max_dpd_m12: past.max_dpd(&payment_dates, MAX_DPD_MONTHS),
        late_installments: count(now.installments.iter().filter(|i| i.days_late > 0)),
        on_time_share: on_time_share(now),
        partial_payments: count(payment_dates.iter().filter(|&&d| past.on(d).left_short)),
        days_since_last_payment: payment_dates.last().map(|&last| days_between(last, as_of)),
        promises_made: history.promises_made,
        promises_broken: history.promises_broken,
        outstanding_ratio: outstanding_ratio(loan, now),
        months_on_book: months_on_book(loan, history.disbursed_on, as_of),
    };
    (past.now, features)
}

/// The longest window the DPD features look back over, in months.
const MAX_DPD_MONTHS: u32 = 12;

/// The loan in one replay: assessed on the assessment date, and glanced at on the past days
/// the features read: each payment's value date (partial payments) and the eve of each
/// payment in the last 12 months (the highest DPD).
struct Past {
    now: Assessment,
    dates: Vec<NaiveDate>,
    glances: Vec<Glance>,
}

impl Past {
    fn replay(loan: &Loan, as_of: NaiveDate, policy: &Policy, payment_dates: &[NaiveDate]) -> Self {
        let start = window_start(as_of, MAX_DPD_MONTHS);
        let eves = payment_dates
            .iter()
            .filter_map(|d| d.pred_opt())
            .filter(|eve| *eve >= start);
        let mut dates: Vec<NaiveDate> = payment_dates
            .iter()
            .copied()
            .chain(eves)
            .filter(|d| *d < as_of)
            .collect();
        dates.sort();
        dates.dedup();
        let (now, glances) = assess_with_glances(loan, as_of, &dates, policy);
        Self {
            now,
            dates,
            glances,
        }
    }

    /// The glance on `date`, the assessment date or one of the days replayed.
    fn on(&self, date: NaiveDate) -> Glance {
        if date == self.now.as_of {
            return self.now.glance();
        }
        let index = self
            .dates
            .binary_search(&date)
            .unwrap_or_else(|_| unreachable!("{date} was replayed"));
        self.glances[index]
    }

    /// The highest DPD on any day from `months` months before the assessment date up to it.
    /// DPD only grows between payments (a day at a time, or by a jump when an installment
    /// turns overdue) and can only fall on a payment's value date, so the highest is reached
    /// on the assessment date or on the eve of a payment's value date: only those days count.
    fn max_dpd(&self, payment_dates: &[NaiveDate], months: u32) -> u32 {
        let start = window_start(self.now.as_of, months);
        payment_dates
            .iter()
            .filter_map(|value_date| value_date.pred_opt())
            .filter(|eve| *eve >= start)
            .map(|eve| self.on(eve).dpd)
            .fold(self.now.dpd, u32::max)
    }
}

fn window_start(as_of: NaiveDate, months: u32) -> NaiveDate {
    as_of
        .checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

/// Installments fallen due (before the assessment date) that were paid on time, or whose
/// remainder is within tolerance, over all fallen due; 1 when none has fallen due. One a
/// reschedule replaced before it was late never fell due.
fn on_time_share(now: &Assessment) -> Decimal {
    let fallen_due: Vec<&InstallmentAssessment> = now
        .installments
        .iter()
        .filter(|i| i.effective_due_date < now.as_of)
        .filter(|i| !(i.status == InstallmentStatus::Rescheduled && i.days_late == 0))
        .collect();
    let on_time = count(
        fallen_due
            .iter()
            .filter(|i| i.status != InstallmentStatus::Overdue && i.days_late == 0),
    );
    ratio(
        Decimal::from(on_time),
        Decimal::from(count(fallen_due.iter())),
    )
    .unwrap_or(Decimal::new(10_000, RATIO_DECIMALS))
}

/// Value dates of the standing payments valued on or before `as_of`, earliest first.
fn counted_payment_dates(loan: &Loan, as_of: NaiveDate) -> Vec<NaiveDate> {
    let mut dates: Vec<NaiveDate> = loan
        .standing_payments()
        .map(|p| p.value_date)
        .filter(|d| *d <= as_of)
        .collect();
    dates.sort();
    dates
}

fn outstanding_ratio(loan: &Loan, now: &Assessment) -> Decimal {
    let lent: Decimal = loan.installments().iter().map(|i| i.principal).sum();
    ratio(now.outstanding.principal, lent).unwrap_or(Decimal::ZERO)
}

/// Whole months from disbursement (one month before the first due date when unknown).
fn months_on_book(loan: &Loan, disbursed_on: Option<NaiveDate>, as_of: NaiveDate) -> u32 {
    let first_due = loan.installments().first().map(|i| i.due_date);
    let Some(start) = disbursed_on.or_else(|| first_due?.checked_sub_months(Months::new(1))) else {
        return 0;
    };
    let calendar_months = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
    let apart = u32::try_from(calendar_months(as_of) - calendar_months(start)).unwrap_or(0);
    // One less when the day of the month has not come round yet (month-end clamped).
    let reached = start
        .checked_add_months(Months::new(apart))
        .is_some_and(|d| d <= as_of);
    if reached {
        apart
    } else {
        apart.saturating_sub(1)
    }
}

/// `part / whole` to 4 decimals, half up; none when `whole` is zero.
fn ratio(part: Decimal, whole: Decimal) -> Option<Decimal> {
    let share = part.checked_div(whole)?;
    let mut share =
        share.round_dp_with_strategy(RATIO_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
    share.rescale(RATIO_DECIMALS);
    Some(share)
}

fn count<T>(items: impl Iterator<Item = T>) -> u32 {
    u32::try_from(items.count()).unwrap_or(u32::MAX)
}

fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}
