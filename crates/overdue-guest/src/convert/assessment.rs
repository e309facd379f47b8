//! The domain assessment as its WIT record, amounts written in the currency's minor unit.

use postloan_domain::money::Currency;
use postloan_domain::overdue::{self, InstallmentStatus as Status};
use postloan_domain::reschedule::ReliefKind;

use crate::exports::postloan::overdue::overdue::{InstallmentPaid, PaymentAllocation};
use crate::postloan::core::types as wit;

/// A breakdown, each part and the total in `currency`'s minor unit.
fn breakdown_in(currency: Currency, b: &overdue::Breakdown) -> wit::Breakdown {
    wit::Breakdown {
        principal: currency.format(b.principal),
        interest: currency.format(b.interest),
        fees: currency.format(b.fees),
        penalty: currency.format(b.penalty),
        total: currency.format(b.total()),
    }
}

/// Converts what each payment paid.
pub fn allocations(all: Vec<overdue::Allocation>, currency: Currency) -> Vec<PaymentAllocation> {
    all.into_iter()
        .map(|a| PaymentAllocation {
            payment_id: a.payment_id,
            value_date: a.value_date.to_string(),
            amount: currency.format(a.amount),
            applied: a
                .applied
                .iter()
                .map(|(seq, paid)| InstallmentPaid {
                    seq: *seq,
                    paid: breakdown_in(currency, paid),
                })
                .collect(),
            unapplied: currency.format(a.unapplied),
        })
        .collect()
}

/// Converts an assessment.
pub fn assessment(a: overdue::Assessment) -> wit::Assessment {
    let currency = a.currency;
    let breakdown = |b: &overdue::Breakdown| breakdown_in(currency, b);
    wit::Assessment {
        loan_id: a.loan_id,
        as_of: a.as_of.to_string(),
        currency: currency.code().to_owned(),
        dpd: a.dpd,
        days_in_arrears: a.days_in_arrears,
        overdue_since: a.overdue_since.map(|d| d.to_string()),
        overdue: breakdown(&a.overdue),
        outstanding: breakdown(&a.outstanding),
        bucket: a.bucket,
        classification: a.classification,
        classification_rank: u32::try_from(a.classification_rank).unwrap_or(u32::MAX),
        next_due: a.next_due.map(|(date, amount)| wit::NextDue {
            date: date.to_string(),
            amount: currency.format(amount),
        }),
        overpaid: wit::Money {
            amount: currency.format(a.overpaid),
            currency: currency.code().to_owned(),
        },
        reschedules: a
            .reschedules
            .iter()
            .map(|r| wit::Rescheduled {
                on: r.on.to_string(),
                kind: match r.kind {
                    ReliefKind::Restructure => wit::ReliefKind::Restructure,
                    ReliefKind::ReAge => wit::ReliefKind::ReAge,
                },
                moved: breakdown(&r.moved),
                capitalised: currency.format(r.capitalised),
                new_installments: r.new_seqs,
            })
            .collect(),
        forborne: a.forborne,
        installments: a
            .installments
            .iter()
            .map(|i| wit::InstallmentAssessment {
                seq: i.seq,
                due_date: i.due_date.to_string(),
                effective_due_date: i.effective_due_date.to_string(),
                status: status(i.status),
                paid: breakdown(&i.paid),
                unpaid: breakdown(&i.unpaid),
                paid_off_on: i.paid_off_on.map(|d| d.to_string()),
                days_late: i.days_late,
            })
            .collect(),
        explanation: a
            .explanation
            .into_iter()
            .map(|r| wit::Reason {
                rule: r.rule.to_owned(),
                detail: r.detail,
            })
            .collect(),
    }
}

fn status(status: Status) -> wit::InstallmentStatus {
    match status {
        Status::Paid => wit::InstallmentStatus::Paid,
        Status::PartiallyPaid => wit::InstallmentStatus::PartiallyPaid,
        Status::Overdue => wit::InstallmentStatus::Overdue,
        Status::DueToday => wit::InstallmentStatus::DueToday,
        Status::NotDue => wit::InstallmentStatus::NotDue,
        Status::Rescheduled => wit::InstallmentStatus::Rescheduled,
    }
}
