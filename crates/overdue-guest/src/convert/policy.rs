//! A WIT policy, parsed and checked; absent options take the domain's defaults.

use chrono::Weekday;
use postloan_domain::FieldError;
use postloan_domain::calendar::{Calendar, DueDateShift};
use postloan_domain::date::parse_date;
use postloan_domain::money::{parse_amount, parse_non_negative};
use postloan_domain::policy::{
    self, Classification, LateFee, LateFeeCharge, Materiality, Part, Penalty, PenaltyBasis, Policy,
    Range, Ranges, Tolerance,
};

use super::field_error;
use crate::exports::postloan::overdue::overdue::Error;
use crate::postloan::core::types as wit;

/// Parses and checks a WIT policy; field paths start at `policy`.
pub fn policy(policy: wit::Policy) -> Result<Policy, Error> {
    parse(policy).map_err(field_error)
}

fn parse(wit: wit::Policy) -> Result<Policy, FieldError> {
    let defaults = Policy::default();
    Ok(Policy {
        grace_days: wit.grace_days,
        tolerance: wit.tolerance.map(tolerance).transpose()?,
        allocation: match wit.allocation {
            Some(parts) => {
                let parts: Vec<Part> = parts.into_iter().map(part).collect();
                policy::allocation_order("policy.allocation", &parts)?
            }
            None => defaults.allocation,
        },
        penalty: wit.penalty.map(penalty).transpose()?,
        late_fee: wit.late_fee.map(late_fee).transpose()?,
        buckets: match wit.buckets {
            Some(list) => ranges("policy.buckets", list)?,
            None => defaults.buckets,
        },
        // The observation after a reschedule is the China five-category rule's own.
        observation: match wit.classification {
            None | Some(wit::ClassificationScheme::CnFiveCategory) => defaults.observation,
            Some(_) => None,
        },
        classification: match wit.classification {
            Some(scheme) => classification(scheme)?,
            None => defaults.classification,
        },
        calendar: match wit.calendar {
            Some(c) => calendar("policy.calendar", c)?,
            None => defaults.calendar,
        },
        contagion: wit.contagion,
    })
}

fn tolerance(t: wit::Tolerance) -> Result<Tolerance, FieldError> {
    let amount = |name: &str, text: Option<String>| {
        text.map(|text| parse_amount(&format!("policy.tolerance.{name}"), &text))
            .transpose()
    };
    let percent = t
        .percent
        .map(|p| parse_non_negative("policy.tolerance.percent", &p))
        .transpose()?
        .map(|p| policy::percent("policy.tolerance.percent", p))
        .transpose()?;
    Ok(Tolerance {
        amount: amount("amount", t.amount)?,
        percent,
        floor: amount("floor", t.floor)?,
    })
}

fn part(part: wit::DuePart) -> Part {
    match part {
        wit::DuePart::Penalty => Part::Penalty,
        wit::DuePart::Fees => Part::Fees,
        wit::DuePart::Interest => Part::Interest,
        wit::DuePart::Principal => Part::Principal,
    }
}

fn penalty(p: wit::Penalty) -> Result<Penalty, FieldError> {
    let field = "policy.penalty.annual_rate";
    Ok(Penalty {
        annual_rate: policy::annual_rate(field, parse_non_negative(field, &p.annual_rate)?)?,
        basis: match p.basis {
            wit::PenaltyBasis::OverduePrincipal => PenaltyBasis::OverduePrincipal,
            wit::PenaltyBasis::OverdueTotal => PenaltyBasis::OverdueTotal,
        },
    })
}

fn late_fee(fee: wit::LateFee) -> Result<LateFee, FieldError> {
    let path = "policy.late_fee";
    let charge = match fee.charge {
        wit::LateFeeCharge::Amount(text) => {
            LateFeeCharge::Amount(parse_amount(&format!("{path}.amount"), &text)?)
        }
        wit::LateFeeCharge::Percent(text) => {
            LateFeeCharge::Percent(parse_non_negative(&format!("{path}.percent"), &text)?)
        }
    };
    let cap = |name: &str, text: Option<String>| {
        text.map(|text| parse_amount(&format!("{path}.{name}"), &text))
            .transpose()
    };
    LateFee::new(
        path,
        fee.days_late,
        charge,
        cap("cap_per_installment", fee.cap_per_installment)?,
        cap("cap_per_loan", fee.cap_per_loan)?,
    )
}

fn ranges(field: &str, list: Vec<wit::DayRange>) -> Result<Ranges, FieldError> {
    let list = list
        .into_iter()
        .map(|r| Range {
            name: r.name,
            min_days: r.min_days,
            max_days: r.max_days,
        })
        .collect();
    Ranges::new(field, list)
}

fn classification(scheme: wit::ClassificationScheme) -> Result<Classification, FieldError> {
    Ok(match scheme {
        wit::ClassificationScheme::CnFiveCategory => {
            Classification::Ranges(Ranges::cn_five_category())
        }
        wit::ClassificationScheme::FfiecRetail => Classification::Ranges(Ranges::ffiec_retail()),
        wit::ClassificationScheme::EbaDefault(m) => Classification::EbaDefault(Materiality {
            absolute: parse_amount("policy.classification.absolute", &m.absolute)?,
            relative: policy::fraction(
                "policy.classification.relative",
                parse_non_negative("policy.classification.relative", &m.relative)?,
            )?,
        }),
        wit::ClassificationScheme::Ranges(list) => {
            Classification::Ranges(ranges("policy.classification.ranges", list)?)
        }
    })
}

/// Parses a WIT calendar found at `path`.
pub fn calendar(path: &str, c: wit::Calendar) -> Result<Calendar, FieldError> {
    let holidays = c
        .holidays
        .iter()
        .enumerate()
        .map(|(i, d)| parse_date(&format!("{path}.holidays[{i}]"), d))
        .collect::<Result<_, _>>()?;
    Ok(Calendar {
        weekend: c.weekend.into_iter().map(weekday).collect(),
        holidays,
        shift: match c.due_date_shift {
            wit::DueDateShift::None => DueDateShift::None,
            wit::DueDateShift::NextWorkingDay => DueDateShift::NextWorkingDay,
            wit::DueDateShift::PreviousWorkingDay => DueDateShift::PreviousWorkingDay,
        },
    })
}

fn weekday(day: wit::Weekday) -> Weekday {
    match day {
        wit::Weekday::Monday => Weekday::Mon,
        wit::Weekday::Tuesday => Weekday::Tue,
        wit::Weekday::Wednesday => Weekday::Wed,
        wit::Weekday::Thursday => Weekday::Thu,
        wit::Weekday::Friday => Weekday::Fri,
        wit::Weekday::Saturday => Weekday::Sat,
        wit::Weekday::Sunday => Weekday::Sun,
    }
}
