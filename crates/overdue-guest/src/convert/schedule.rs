//! Schedule terms in, a generated schedule out.

use postloan_domain::FieldError;
use postloan_domain::date::parse_date;
use postloan_domain::money::{Currency, parse_non_negative};
use postloan_domain::schedule::{DayCount, Frequency, Method, Rounding, Schedule, Terms};

use super::field_error;
use crate::exports::postloan::overdue::overdue::{self as wit, Error};

/// Parses the terms; field paths are the request's top-level names.
pub fn terms(terms: wit::ScheduleTerms) -> Result<Terms, Error> {
    parse(terms).map_err(field_error)
}

fn parse(t: wit::ScheduleTerms) -> Result<Terms, FieldError> {
    let currency = Currency::parse("currency", &t.currency)?;
    Ok(Terms {
        principal: currency.parse_amount("principal", &t.principal)?,
        currency,
        annual_rate: parse_non_negative("annual_rate", &t.annual_rate)?,
        term: t.term,
        frequency: frequency(t.frequency),
        method: method(t.method),
        disbursed_on: parse_date("disbursed_on", &t.disbursed_on)?,
        first_due_date: t
            .first_due_date
            .map(|d| parse_date("first_due_date", &d))
            .transpose()?,
        day_count: day_count(t.day_count),
        rounding: match t.rounding {
            wit::Rounding::HalfUp => Rounding::HalfUp,
            wit::Rounding::HalfEven => Rounding::HalfEven,
        },
        calendar: t
            .calendar
            .map(|c| super::policy::calendar("calendar", c))
            .transpose()?
            .unwrap_or_default(),
    })
}

/// The domain's frequency for the WIT one.
pub fn frequency(f: wit::Frequency) -> Frequency {
    match f {
        wit::Frequency::Monthly => Frequency::Monthly,
        wit::Frequency::Biweekly => Frequency::Biweekly,
        wit::Frequency::Weekly => Frequency::Weekly,
    }
}

/// The domain's repayment method for the WIT one.
pub fn method(m: wit::RepaymentMethod) -> Method {
    match m {
        wit::RepaymentMethod::Annuity => Method::Annuity,
        wit::RepaymentMethod::EqualPrincipal => Method::EqualPrincipal,
        wit::RepaymentMethod::InterestOnly => Method::InterestOnly,
        wit::RepaymentMethod::Bullet => Method::Bullet,
    }
}

/// The domain's day count for the WIT one.
pub fn day_count(d: wit::DayCount) -> DayCount {
    match d {
        wit::DayCount::Thirty360 => DayCount::Thirty360,
        wit::DayCount::Actual365 => DayCount::Actual365,
        wit::DayCount::Actual360 => DayCount::Actual360,
    }
}

/// The domain schedule as its WIT record, amounts in the currency's minor unit.
pub fn repayment_schedule(s: Schedule, currency: Currency) -> wit::RepaymentSchedule {
    let money = |amount| currency.format(amount);
    wit::RepaymentSchedule {
        currency: currency.code().to_owned(),
        installments: s
            .installments
            .iter()
            .map(|i| wit::ScheduledInstallment {
                seq: i.seq,
                due_date: i.due_date.to_string(),
                principal: money(i.principal),
                interest: money(i.interest),
                fees: money(i.fees),
                total: money(i.total()),
                balance_after: money(i.balance_after),
            })
            .collect(),
        total_interest: money(s.total_interest),
        total_payable: money(s.total_payable),
    }
}
