//! The overdue assessment: allocate payments to the schedule, then measure lateness.
//!
//! The result depends only on the value-dated history: payments are applied in value-date
//! order (payment id breaks ties), so the order in which they arrived never matters.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::loan::{Installment, Loan, Payment};
use crate::money::Currency;

/// The lender's rules for judging lateness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Days after a due date before an installment counts toward days in arrears.
    pub grace_days: u32,
}

/// The parts of an amount owed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Principal part.
    pub principal: Decimal,
    /// Interest part.
    pub interest: Decimal,
    /// Fees part.
    pub fees: Decimal,
    /// Penalty interest part.
    pub penalty: Decimal,
}

/// One part of an amount owed, as the allocation order names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Penalty interest.
    Penalty,
    /// Fees.
    Fees,
    /// Interest.
    Interest,
    /// Principal.
    Principal,
}

/// Within an installment, payments cover penalty first, then fees, interest, principal.
pub const ALLOCATION_ORDER: [Part; 4] =
    [Part::Penalty, Part::Fees, Part::Interest, Part::Principal];

impl Breakdown {
    /// The sum of the four parts.
    pub fn total(&self) -> Decimal {
        self.principal + self.interest + self.fees + self.penalty
    }

    fn part_mut(&mut self, part: Part) -> &mut Decimal {
        match part {
            Part::Penalty => &mut self.penalty,
            Part::Fees => &mut self.fees,
            Part::Interest => &mut self.interest,
            Part::Principal => &mut self.principal,
        }
    }

    fn part(mut self, part: Part) -> Decimal {
        *self.part_mut(part)
    }

    fn scheduled(installment: &Installment) -> Self {
        Self {
            principal: installment.principal,
            interest: installment.interest,
            fees: installment.fees,
            penalty: Decimal::ZERO,
        }
    }

    fn minus(&self, other: &Self) -> Self {
        Self {
            principal: self.principal - other.principal,
            interest: self.interest - other.interest,
            fees: self.fees - other.fees,
            penalty: self.penalty - other.penalty,
        }
    }

    fn plus(&self, other: &Self) -> Self {
        Self {
            principal: self.principal + other.principal,
            interest: self.interest + other.interest,
            fees: self.fees + other.fees,
            penalty: self.penalty + other.penalty,
        }
    }
}

/// Where an installment stands on the assessment date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallmentStatus {
    /// Nothing is left unpaid.
    Paid,
    /// Some has been paid, the rest is not yet late.
    PartiallyPaid,
    /// Its due date has passed with an amount still unpaid.
    Overdue,
    /// It falls due on the assessment date and nothing has been paid toward it.
    DueToday,
    /// It falls due later and nothing has been paid toward it.
    NotDue,
}

/// One installment as it stood on the assessment date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallmentAssessment {
    /// Position in the schedule.
    pub seq: u32,
    /// Its due date.
    pub due_date: NaiveDate,
    /// Where it stands.
    pub status: InstallmentStatus,
    /// What payments have covered.
    pub paid: Breakdown,
    /// What is still owed.
    pub unpaid: Breakdown,
    /// The value date of the payment that cleared it.
    pub paid_off_on: Option<NaiveDate>,
    /// Days from due date until cleared, or until the assessment date while unpaid.
    pub days_late: u32,
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// A stable identifier of the rule.
    pub rule: &'static str,
    /// The rule's finding in plain words.
    pub detail: String,
}

/// A loan as it stood at the end of a business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The loan assessed.
    pub loan_id: String,
    /// The business date.
    pub as_of: NaiveDate,
    /// The loan's currency.
    pub currency: Currency,
    /// Days past due of the oldest installment still unpaid; 0 when nothing is overdue.
    pub dpd: u32,
    /// Days past due less grace days, never below 0.
    pub days_in_arrears: u32,
    /// The due date of the oldest overdue installment.
    pub overdue_since: Option<NaiveDate>,
    /// What is past due and unpaid.
    pub overdue: Breakdown,
    /// Everything still unpaid, due or not.
    pub outstanding: Breakdown,
    /// Money received beyond everything the schedule asks for.
    pub overpaid: Decimal,
    /// Each installment, in schedule order.
    pub installments: Vec<InstallmentAssessment>,
    /// The rules behind the figures.
    pub explanation: Vec<Reason>,
}

/// Assesses `loan` as it stood at the end of `as_of`; payments valued later are ignored.
pub fn assess(loan: &Loan, as_of: NaiveDate, policy: &Policy) -> Assessment {
    let counted = payments_up_to(loan.payments(), as_of);
    let allocation = allocate(loan.installments(), &counted);
    let installments: Vec<InstallmentAssessment> = loan
        .installments()
        .iter()
        .zip(&allocation.ledgers)
        .map(|(installment, ledger)| judge(installment, ledger, as_of))
        .collect();

    let oldest_overdue = installments
        .iter()
        .find(|i| i.status == InstallmentStatus::Overdue);
    let dpd = oldest_overdue.map_or(0, |i| days_between(i.due_date, as_of));
    let days_in_arrears = dpd.saturating_sub(policy.grace_days);
    let overdue = sum(installments
        .iter()
        .filter(|i| i.status == InstallmentStatus::Overdue));
    let outstanding = sum(installments.iter());

    let currency = loan.currency();
    let explanation = vec![
        explain_allocation(loan.payments().len(), &counted, as_of, currency),
        explain_dpd(oldest_overdue, as_of, currency),
        explain_arrears(dpd, policy.grace_days, days_in_arrears),
    ];
    Assessment {
        loan_id: loan.id().to_owned(),
        as_of,
        currency,
        dpd,
        days_in_arrears,
        overdue_since: oldest_overdue.map(|i| i.due_date),
        overdue,
        outstanding,
        overpaid: allocation.overpaid,
        installments,
        explanation,
    }
}

/// What the payments covered of each installment.
struct Allocation {
    ledgers: Vec<Ledger>,
    overpaid: Decimal,
}

#[derive(Default)]
struct Ledger {
    paid: Breakdown,
    paid_off_on: Option<NaiveDate>,
}

/// Payments valued on or before `as_of`, in value-date order, id breaking ties.
fn payments_up_to(payments: &[Payment], as_of: NaiveDate) -> Vec<&Payment> {
    let mut counted: Vec<&Payment> = payments.iter().filter(|p| p.value_date <= as_of).collect();
    counted.sort_by(|a, b| (a.value_date, &a.id).cmp(&(b.value_date, &b.id)));
    counted
}

/// Applies each payment to the oldest installment with anything unpaid, part by part in
/// [`ALLOCATION_ORDER`]; what is left after the last installment is overpaid.
fn allocate(installments: &[Installment], payments: &[&Payment]) -> Allocation {
    let mut ledgers: Vec<Ledger> = installments.iter().map(|_| Ledger::default()).collect();
    let mut overpaid = Decimal::ZERO;
    for payment in payments {
        let mut left = payment.amount;
        for (installment, ledger) in installments.iter().zip(ledgers.iter_mut()) {
            if left.is_zero() {
                break;
            }
            let due = Breakdown::scheduled(installment);
            for part in ALLOCATION_ORDER {
                let unpaid = due.part(part) - ledger.paid.part(part);
                let applied = unpaid.min(left);
                *ledger.paid.part_mut(part) += applied;
                left -= applied;
            }
            if ledger.paid_off_on.is_none() && ledger.paid == due {
                ledger.paid_off_on = Some(payment.value_date);
            }
        }
        overpaid += left;
    }
    Allocation { ledgers, overpaid }
}

fn judge(installment: &Installment, ledger: &Ledger, as_of: NaiveDate) -> InstallmentAssessment {
    let due = Breakdown::scheduled(installment);
    let unpaid = due.minus(&ledger.paid);
    // An installment with nothing scheduled is settled from the start, on its due date.
    let paid_off_on = match ledger.paid_off_on {
        None if due.total().is_zero() && installment.due_date <= as_of => {
            Some(installment.due_date)
        }
        other => other,
    };
    let status = if unpaid.total().is_zero() {
        InstallmentStatus::Paid
    } else if installment.due_date < as_of {
        InstallmentStatus::Overdue
    } else if !ledger.paid.total().is_zero() {
        InstallmentStatus::PartiallyPaid
    } else if installment.due_date == as_of {
        InstallmentStatus::DueToday
    } else {
        InstallmentStatus::NotDue
    };
    let late_until = match status {
        InstallmentStatus::Overdue => Some(as_of),
        _ => paid_off_on,
    };
    InstallmentAssessment {
        seq: installment.seq,
        due_date: installment.due_date,
        status,
        paid: ledger.paid,
        unpaid,
        paid_off_on,
        days_late: late_until.map_or(0, |until| days_between(installment.due_date, until)),
    }
}

/// Whole days from `from` to `to`, 0 when `to` is not later.
fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}

fn sum<'a>(installments: impl Iterator<Item = &'a InstallmentAssessment>) -> Breakdown {
    installments.fold(Breakdown::default(), |total, i| total.plus(&i.unpaid))
}

fn explain_allocation(
    received: usize,
    counted: &[&Payment],
    as_of: NaiveDate,
    currency: Currency,
) -> Reason {
    let total: Decimal = counted.iter().map(|p| p.amount).sum();
    let ignored = received - counted.len();
    let mut detail = format!(
        "{} payment(s) totalling {} {} applied in value-date order to the oldest installment first, \
         each installment's penalty, then fees, interest and principal",
        counted.len(),
        currency.format(total),
        currency.code(),
    );
    if ignored > 0 {
        detail.push_str(&format!(
            "; {ignored} payment(s) valued after {as_of} ignored"
        ));
    }
    Reason {
        rule: "allocation.oldest-first",
        detail,
    }
}

fn explain_dpd(
    oldest_overdue: Option<&InstallmentAssessment>,
    as_of: NaiveDate,
    currency: Currency,
) -> Reason {
    match oldest_overdue {
        Some(i) => Reason {
            rule: "dpd.oldest-unpaid-installment",
            detail: format!(
                "installment {} due {} still had {} {} unpaid on {as_of}: {} days past due",
                i.seq,
                i.due_date,
                currency.format(i.unpaid.total()),
                currency.code(),
                days_between(i.due_date, as_of),
            ),
        },
        None => Reason {
            rule: "dpd.nothing-overdue",
            detail: format!(
                "no installment due before {as_of} has an unpaid amount: 0 days past due"
            ),
        },
    }
}

fn explain_arrears(dpd: u32, grace_days: u32, days_in_arrears: u32) -> Reason {
    Reason {
        rule: "arrears.grace-days",
        detail: format!(
            "{dpd} days past due less {grace_days} grace days: {days_in_arrears} days in arrears"
        ),
    }
}

#[cfg(test)]
mod tests;
