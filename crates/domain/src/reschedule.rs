//! Relief that replaces what is left of a loan's schedule: a restructure (重组) on new terms,
//! or a re-age that re-spreads what is owed over new installments (Fineract's re-age).
//!
//! Both take effect at the end of a business date: payments valued that day count first,
//! then every installment's unpaid remainder (penalty accrued to the day included) moves to
//! the new installments, numbered on from the last `seq`. The new amounts are worked out
//! from what is unpaid at that moment, during the replay, so a payment posted later with an
//! earlier value date changes them as it would have then, and the history before the date
//! stays as it was.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::FieldError;
use crate::calendar::Calendar;
use crate::date::LATEST;
use crate::loan::{Installment, MAX_INSTALLMENTS};
use crate::money::Currency;
use crate::overdue::Breakdown;
use crate::policy::annual_rate;
use crate::schedule::{self, DayCount, Frequency, Method, Rounding, Terms};

/// The most reschedules a loan may have.
pub const MAX_RESCHEDULES: usize = 100;

/// The most a reschedule moves: 10²¹, a thousand times what the largest loan's schedule can
/// ask for. A reschedule finding more owed (only reachable by restructuring, capitalising,
/// at rates and over spans at the limits, again and again) is not applied, so that what its
/// interest and later penalty add stays inside a `Decimal` (docs/overdue.md, "Limits").
pub const MAX_MOVED: Decimal = Decimal::from_parts(3_735_027_712, 902_409_669, 54, false, 0);

/// A new schedule for what a loan owes, from the end of a business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reschedule {
    /// The business date at whose end it takes effect.
    pub on: NaiveDate,
    /// How the new installments are made.
    pub relief: Relief,
}

/// The two ways a schedule is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relief {
    /// A new schedule generated from new terms for the unpaid principal.
    Restructure(Restructure),
    /// What is unpaid, part by part, re-spread in equal shares.
    ReAge(ReAge),
}

/// What kind of relief: one name for the API, the events and the portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReliefKind {
    /// A restructure (`restructure`).
    Restructure,
    /// A re-age (`re_age`).
    ReAge,
}

impl ReliefKind {
    /// The name the API, the events and the portfolio use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Restructure => "restructure",
            Self::ReAge => "re_age",
        }
    }
}

/// The terms of a restructure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restructure {
    /// The new yearly rate, as a fraction.
    pub annual_rate: Decimal,
    /// Number of new installments (for a bullet, of periods to its one installment).
    pub term: u32,
    /// How often they fall due.
    pub frequency: Frequency,
    /// How principal is repaid.
    pub method: Method,
    /// The first new due date, after the restructure date; interest runs from that date.
    pub first_due_date: NaiveDate,
    /// Day-count convention for the new interest.
    pub day_count: DayCount,
    /// Whether unpaid interest, fees and penalty join the principal of the new schedule;
    /// when not, they fall due with the first new installment.
    pub capitalise: bool,
}

/// The terms of a re-age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReAge {
    /// Number of new installments.
    pub installments: u32,
    /// How often they fall due.
    pub frequency: Frequency,
    /// The first new due date, after the re-age date.
    pub first_due_date: NaiveDate,
}

/// One installment a reschedule makes, with the penalty it carries over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInstallment {
    /// Its schedule entry.
    pub installment: Installment,
    /// Penalty interest accrued before the reschedule that it asks for.
    pub penalty: Decimal,
}

impl Reschedule {
    /// The kind of relief.
    pub fn kind(&self) -> ReliefKind {
        match self.relief {
            Relief::Restructure(_) => ReliefKind::Restructure,
            Relief::ReAge(_) => ReliefKind::ReAge,
        }
    }

    /// The new due dates as scheduled, before a calendar moves them: they do not depend on
    /// the amounts.
    pub fn due_dates(&self) -> Vec<NaiveDate> {
        match &self.relief {
            Relief::Restructure(r) => {
                schedule::due_dates(r.first_due_date, r.frequency, r.term, r.method)
            }
            Relief::ReAge(r) => schedule::due_dates(
                r.first_due_date,
                r.frequency,
                r.installments,
                Method::Annuity,
            ),
        }
    }

    /// The installments replacing what is `unpaid` when it takes effect, numbered from
    /// `first_seq`; none when nothing is unpaid.
    pub fn installments(
        &self,
        unpaid: Breakdown,
        currency: Currency,
        first_seq: u32,
    ) -> Vec<NewInstallment> {
        if unpaid.total().is_zero() {
            return Vec::new();
        }
        let shares = match &self.relief {
            Relief::Restructure(r) => self.restructured(r, unpaid, currency),
            Relief::ReAge(_) => self.re_aged(unpaid, currency),
        };
        shares
            .into_iter()
            .zip(first_seq..)
            .map(|((due_date, share), seq)| NewInstallment {
                installment: Installment {
                    seq,
                    due_date,
                    principal: share.principal,
                    interest: share.interest,
                    fees: share.fees,
                },
                penalty: share.penalty,
            })
            .collect()
    }

    /// The capitalised amount: what a restructure adds to principal besides the principal.
    pub fn capitalised(&self, unpaid: Breakdown) -> Decimal {
        match &self.relief {
            Relief::Restructure(r) if r.capitalise => unpaid.total() - unpaid.principal,
            _ => Decimal::ZERO,
        }
    }

    fn terms(&self, r: &Restructure, principal: Decimal, currency: Currency) -> Terms {
        Terms {
            principal,
            currency,
            annual_rate: r.annual_rate,
            term: r.term,
            frequency: r.frequency,
            method: r.method,
            disbursed_on: self.on,
            first_due_date: Some(r.first_due_date),
            day_count: r.day_count,
            rounding: Rounding::HalfUp,
            calendar: Calendar::default(),
        }
    }

    /// A schedule generated for the principal (and what is capitalised); what is not
    /// capitalised falls due with the first installment.
    fn restructured(
        &self,
        r: &Restructure,
        unpaid: Breakdown,
        currency: Currency,
    ) -> Vec<(NaiveDate, Breakdown)> {
        let capitalised = self.capitalised(unpaid);
        let principal = unpaid.principal + capitalised;
        let generated = schedule::schedule(&self.terms(r, principal, currency))
            .map(|s| s.installments)
            .unwrap_or_default();
        let mut shares: Vec<(NaiveDate, Breakdown)> = generated
            .into_iter()
            .map(|i| {
                let share = Breakdown {
                    principal: i.principal,
                    interest: i.interest,
                    ..Breakdown::default()
                };
                (i.due_date, share)
            })
            .collect();
        if shares.is_empty() {
            // No principal left (the generator needs some): one installment at the first
            // due date carries the rest.
            let share = Breakdown {
                principal,
                ..Breakdown::default()
            };
            shares.push((r.first_due_date, share));
        }
        if capitalised.is_zero() {
            let first = &mut shares[0].1;
            first.interest += unpaid.interest;
            first.fees += unpaid.fees;
            first.penalty += unpaid.penalty;
        }
        shares
    }

    /// Each part in equal shares rounded down to the minor unit, the last taking the rest.
    fn re_aged(&self, unpaid: Breakdown, currency: Currency) -> Vec<(NaiveDate, Breakdown)> {
        let dates = self.due_dates();
        let count = Decimal::from(dates.len());
        let share = |part: Decimal| {
            (part / count).round_dp_with_strategy(currency.minor_unit(), RoundingStrategy::ToZero)
        };
        let regular = Breakdown {
            principal: share(unpaid.principal),
            interest: share(unpaid.interest),
            fees: share(unpaid.fees),
            penalty: share(unpaid.penalty),
        };
        let before_last = count - Decimal::ONE;
        let last = Breakdown {
            principal: unpaid.principal - regular.principal * before_last,
            interest: unpaid.interest - regular.interest * before_last,
            fees: unpaid.fees - regular.fees * before_last,
            penalty: unpaid.penalty - regular.penalty * before_last,
        };
        let final_index = dates.len() - 1;
        dates
            .into_iter()
            .enumerate()
            .map(|(k, date)| (date, if k == final_index { last } else { regular }))
            .collect()
    }
}

/// Checks a loan's reschedules: in date order, one a day, at most [`MAX_RESCHEDULES`] making
/// at most [`MAX_INSTALLMENTS`] new installments in all (so a replay stays as cheap as for
/// twice the longest schedule), each with usable terms whose due dates fall after its date
/// and by [`LATEST`].
pub fn check(reschedules: &[Reschedule]) -> Result<(), FieldError> {
    if reschedules.len() > MAX_RESCHEDULES {
        return Err(FieldError::new(
            "loan.reschedules",
            format!(
                "lists {} items; a loan has at most {MAX_RESCHEDULES}",
                reschedules.len()
            ),
        ));
    }
    for (i, r) in reschedules.iter().enumerate() {
        let at = |name: &str| format!("loan.reschedules[{i}].{name}");
        if let Some(previous) = i.checked_sub(1).map(|j| &reschedules[j])
            && r.on <= previous.on
        {
            return Err(FieldError::new(
                at("on"),
                format!(
                    "{} is not after the previous reschedule on {}; reschedules are in date order, one a day",
                    r.on, previous.on
                ),
            ));
        }
        check_one(r).map_err(|e| FieldError::new(at(&e.field), e.reason))?;
    }
    let made: usize = reschedules.iter().map(|r| r.due_dates().len()).sum();
    if made > MAX_INSTALLMENTS {
        return Err(FieldError::new(
            "loan.reschedules",
            format!("make {made} installments in all; at most {MAX_INSTALLMENTS}"),
        ));
    }
    Ok(())
}

fn check_one(r: &Reschedule) -> Result<(), FieldError> {
    let (count, count_field, first_due) = match &r.relief {
        Relief::Restructure(terms) => {
            annual_rate("annual_rate", terms.annual_rate)?;
            (terms.term, "term", terms.first_due_date)
        }
        Relief::ReAge(terms) => (terms.installments, "installments", terms.first_due_date),
    };
    if count == 0 || count > schedule::MAX_TERM {
        return Err(FieldError::new(
            count_field,
            format!("{count} is outside 1 to {}", schedule::MAX_TERM),
        ));
    }
    if first_due <= r.on {
        return Err(FieldError::new(
            "first_due_date",
            format!(
                "{first_due} is not after the {} on {}",
                r.kind().name(),
                r.on
            ),
        ));
    }
    match r.due_dates().last() {
        Some(last) if *last > LATEST => Err(FieldError::new(
            "first_due_date",
            format!("the last new due date, {last}, is past {LATEST}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
