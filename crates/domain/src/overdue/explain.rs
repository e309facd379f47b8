//! The plain-words reasons an assessment gives for each figure.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{InstallmentAssessment, Reason, Rescheduled};
use crate::loan::Payment;
use crate::money::Currency;
use crate::policy::{LateFee, LateFeeCharge, Materiality, Part, PenaltyBasis, Policy, Range};
use crate::reschedule::ReliefKind;

pub(super) fn allocation(
    received: usize,
    counted: &[&Payment],
    as_of: NaiveDate,
    policy: &Policy,
    currency: Currency,
) -> Reason {
    let total: Decimal = counted.iter().map(|p| p.amount).sum();
    let order: Vec<&str> = policy
        .allocation
        .iter()
        .map(|part| part_name(*part))
        .collect();
    let mut detail = format!(
        "{} payment(s) totalling {} {} applied in value-date order to the oldest installment first, \
         within each: {}",
        counted.len(),
        currency.format(total),
        currency.code(),
        order.join(", "),
    );
    let left_out = received - counted.len();
    if left_out > 0 {
        detail.push_str(&format!(
            "; {left_out} payment(s) reversed or valued after {as_of} left out"
        ));
    }
    if let Some(penalty) = &policy.penalty {
        let basis = match penalty.basis {
            PenaltyBasis::OverduePrincipal => "overdue principal",
            PenaltyBasis::OverdueTotal => "overdue principal, interest and fees",
        };
        detail.push_str(&format!(
            "; penalty interest at {} a year on {basis}, daily, actual/365, rounded once per installment",
            penalty.annual_rate
        ));
    }
    Reason {
        rule: "allocation.oldest-first",
        detail,
    }
}

/// One late fee charged: the installment's position, the day, the amount.
pub(super) type LateFeeCharged = (u32, NaiveDate, Decimal);

pub(super) fn late_fees(
    late_fee: &LateFee,
    charged: &[LateFeeCharged],
    currency: Currency,
) -> Reason {
    let code = currency.code();
    let mut terms = match late_fee.charge {
        LateFeeCharge::Amount(amount) => format!("{} {code}", currency.format(amount)),
        LateFeeCharge::Percent(share) => format!("{share}% of the installment"),
    };
    if let Some(cap) = late_fee.cap_per_installment {
        terms.push_str(&format!(
            ", at most {} {code} an installment",
            currency.format(cap)
        ));
    }
    if let Some(cap) = late_fee.cap_per_loan {
        terms.push_str(&format!(", at most {} {code} a loan", currency.format(cap)));
    }
    let days = late_fee.days_late;
    let detail = if charged.is_empty() {
        format!("a late fee of {terms} once an installment is {days} days late: none charged")
    } else {
        let each: Vec<String> = charged
            .iter()
            .map(|(seq, on, fee)| {
                format!(
                    "{} {code} on installment {seq} on {on}",
                    currency.format(*fee)
                )
            })
            .collect();
        let total: Decimal = charged.iter().map(|(_, _, fee)| fee).sum();
        format!(
            "a late fee of {terms} once an installment is {days} days late, charged as fees: {}; {} {code} in all",
            each.join(", "),
            currency.format(total),
        )
    };
    Reason {
        rule: "late-fee.fixed",
        detail,
    }
}

fn part_name(part: Part) -> &'static str {
    match part {
        Part::Penalty => "penalty",
        Part::Fees => "fees",
        Part::Interest => "interest",
        Part::Principal => "principal",
    }
}

pub(super) fn dpd(
    oldest_overdue: Option<&InstallmentAssessment>,
    as_of: NaiveDate,
    currency: Currency,
) -> Reason {
    match oldest_overdue {
        Some(i) => {
            let shifted = if i.effective_due_date == i.due_date {
                String::new()
            } else {
                format!(" (moved by the calendar to {})", i.effective_due_date)
            };
            Reason {
                rule: "dpd.oldest-unpaid-installment",
                detail: format!(
                    "installment {} due {}{shifted} still had {} {} unpaid on {as_of}, more than tolerance allows: \
                     {} days past due",
                    i.seq,
                    i.due_date,
                    currency.format(i.unpaid.total()),
                    currency.code(),
                    i.days_late,
                ),
            }
        }
        None => Reason {
            rule: "dpd.nothing-overdue",
            detail: format!(
                "no installment due before {as_of} has more unpaid than tolerance allows: 0 days past due"
            ),
        },
    }
}

pub(super) fn arrears(dpd: u32, grace_days: u32, paused_days: u32, days_in_arrears: u32) -> Reason {
    Reason {
        rule: "arrears.grace-and-pauses",
        detail: format!(
            "{dpd} days past due less {grace_days} grace days and {paused_days} paused days: \
             {days_in_arrears} days in arrears"
        ),
    }
}

pub(super) fn bucket(bucket: &Range, days_in_arrears: u32) -> Reason {
    Reason {
        rule: "bucket.days-in-arrears",
        detail: format!(
            "{days_in_arrears} days in arrears fall in bucket {}",
            describe(bucket)
        ),
    }
}

pub(super) fn classification_range(range: &Range, days_in_arrears: u32) -> Reason {
    Reason {
        rule: "classification.days-in-arrears",
        detail: format!(
            "{days_in_arrears} days in arrears classify as {}",
            describe(range)
        ),
    }
}

pub(super) fn classification_eba(
    materiality: &Materiality,
    breached_since: Option<NaiveDate>,
    days: u32,
    currency: Currency,
) -> Reason {
    let thresholds = format!(
        "more than {} {} overdue and more than {} of the exposure",
        materiality.absolute,
        currency.code(),
        materiality.relative
    );
    let detail = match breached_since {
        Some(since) if days > super::EBA_DEFAULT_DAYS => {
            format!("{thresholds} since {since}: {days} consecutive days, more than 90: default")
        }
        Some(since) => format!(
            "{thresholds} since {since}: {days} consecutive days, not more than 90: performing"
        ),
        None => format!("not {thresholds} on the assessment date: performing"),
    };
    Reason {
        rule: "classification.eba-materiality",
        detail,
    }
}

pub(super) fn rescheduled(r: &Rescheduled, currency: Currency) -> Reason {
    let code = currency.code();
    let m = &r.moved;
    let moved = format!(
        "{} {code} unpaid (principal {}, interest {}, fees {}, penalty {})",
        currency.format(m.total()),
        currency.format(m.principal),
        currency.format(m.interest),
        currency.format(m.fees),
        currency.format(m.penalty),
    );
    let made = match r.new_seqs {
        Some((first, last)) if first == last => format!("moved to new installment {first}"),
        Some((first, last)) => format!("moved to new installments {first} to {last}"),
        None => "nothing to move".to_owned(),
    };
    let capitalised = if r.capitalised.is_zero() {
        String::new()
    } else {
        format!(
            "; {} {code} of interest, fees and penalty capitalised into principal",
            currency.format(r.capitalised)
        )
    };
    let what = match r.kind {
        ReliefKind::Restructure => "restructured: a new schedule on new terms",
        ReliefKind::ReAge => "re-aged: what was owed re-spread in equal shares",
    };
    Reason {
        rule: match r.kind {
            ReliefKind::Restructure => "reschedule.restructure",
            ReliefKind::ReAge => "reschedule.re-age",
        },
        detail: format!("{what} at the end of {}: {moved} {made}{capitalised}", r.on),
    }
}

pub(super) fn observation(
    latest: &Rescheduled,
    starts: NaiveDate,
    ends: NaiveDate,
    relapse: Option<String>,
    floor_name: &str,
) -> Reason {
    let kept = match relapse {
        Some(why) => format!("{why}, so it is classified at least {floor_name}"),
        None => format!("it is classified at least {floor_name}"),
    };
    Reason {
        rule: "classification.reschedule-observation",
        detail: format!(
            "{} on {}: under observation from the first new due date {starts} to {ends} \
             (at least a year and two repayment periods); {kept}",
            latest.kind.name(),
            latest.on,
        ),
    }
}

pub(super) fn forborne(rescheduled_on: NaiveDate, dpd: u32) -> Reason {
    let detail = if dpd > 30 {
        format!("rescheduled on {rescheduled_on} and {dpd} days past due, more than 30: forborne")
    } else {
        format!("rescheduled on {rescheduled_on}: forborne through two years' probation")
    };
    Reason {
        rule: "forbearance.forborne",
        detail,
    }
}

pub(super) fn contagion(own: &str, worst: &str, worst_loan: &str) -> Reason {
    Reason {
        rule: "classification.contagion",
        detail: format!(
            "classified {own} on its own; raised to {worst}, the borrower's worst, from loan {worst_loan}"
        ),
    }
}

fn describe(range: &Range) -> String {
    match range.max_days {
        Some(max) if max == range.min_days => format!("{} ({max} days)", range.name),
        Some(max) => format!("{} ({} to {max} days)", range.name, range.min_days),
        None => format!("{} ({} days and more)", range.name, range.min_days),
    }
}
