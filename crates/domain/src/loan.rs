//! A disbursed loan: its schedule of installments and the payments received.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::FieldError;
use crate::money::Currency;
use crate::reschedule::{self, Reschedule};

/// One scheduled installment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installment {
    /// Position in the schedule.
    pub seq: u32,
    /// The date it falls due.
    pub due_date: NaiveDate,
    /// Principal due.
    pub principal: Decimal,
    /// Interest due.
    pub interest: Decimal,
    /// Fees due.
    pub fees: Decimal,
}

/// Money received, effective on its value date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The lender's identifier, unique within the loan.
    pub id: String,
    /// The date the money counts from.
    pub value_date: NaiveDate,
    /// The amount received, greater than zero.
    pub amount: Decimal,
}

/// A span in which days do not count toward days in arrears (hardship, dispute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    /// The first paused day.
    pub from: NaiveDate,
    /// The first day no longer paused.
    pub to: NaiveDate,
    /// Why the loan was paused.
    pub reason: String,
}

impl Pause {
    /// Paused days from `start` up to, not including, `end`.
    pub fn days_within(&self, start: NaiveDate, end: NaiveDate) -> u32 {
        let (from, to) = (self.from.max(start), self.to.min(end));
        u32::try_from((to - from).num_days()).unwrap_or(0)
    }
}

/// A loan whose schedule and payments have been checked to hang together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loan {
    id: String,
    currency: Currency,
    installments: Vec<Installment>,
    payments: Vec<Payment>,
    reversed: Vec<String>,
    pauses: Vec<Pause>,
    reschedules: Vec<Reschedule>,
}

/// The most installments a loan may have: a monthly schedule of 100 years.
pub const MAX_INSTALLMENTS: usize = crate::schedule::MAX_TERM as usize;

/// The most payments a loan may have: a daily payment for more than 13 years, a monthly one
/// for 400; with the longest ids and amounts such a loan still fits in a 1 MiB body.
pub const MAX_PAYMENTS: usize = 5_000;

/// The most pauses a loan may have.
pub const MAX_PAUSES: usize = 1_000;

/// The longest loan or payment id, in characters.
pub const MAX_ID_CHARS: usize = 64;

/// The longest pause reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

impl Loan {
    /// Builds a loan, rejecting an empty or long id, an empty or long schedule, installments
    /// out of order or with a repeated `seq`, too many payments, payments of zero and
    /// repeated or long payment ids.
    pub fn new(
        id: String,
        currency: Currency,
        installments: Vec<Installment>,
        payments: Vec<Payment>,
    ) -> Result<Self, FieldError> {
        check_id("loan.id", &id)?;
        check_schedule(&installments)?;
        check_payments(&payments)?;
        Ok(Self {
            id,
            currency,
            installments,
            payments,
            reversed: Vec::new(),
            pauses: Vec::new(),
            reschedules: Vec::new(),
        })
    }

    /// Marks payments as reversed (a bounced debit, a chargeback): they count as never made.
    /// Each id must name a payment of the loan, once.
    pub fn with_reversals(mut self, payment_ids: Vec<String>) -> Result<Self, FieldError> {
        for (i, id) in payment_ids.iter().enumerate() {
            let field = || format!("loan.reversals[{i}].payment_id");
            if !self.payments.iter().any(|p| &p.id == id) {
                return Err(FieldError::new(
                    field(),
                    format!("no payment `{id}` in loan.payments"),
                ));
            }
            if payment_ids[..i].contains(id) {
                return Err(FieldError::new(
                    field(),
                    format!("payment `{id}` is already reversed"),
                ));
            }
        }
        self.reversed = payment_ids;
        Ok(self)
    }

    /// Adds pauses, at most [`MAX_PAUSES`], which may not overlap one another nor end before
    /// they start.
    pub fn with_pauses(mut self, pauses: Vec<Pause>) -> Result<Self, FieldError> {
        check_count("loan.pauses", pauses.len(), MAX_PAUSES)?;
        for (i, pause) in pauses.iter().enumerate() {
            if pause.reason.chars().count() > MAX_REASON_CHARS {
                return Err(FieldError::new(
                    format!("loan.pauses[{i}].reason"),
                    format!("is longer than {MAX_REASON_CHARS} characters"),
                ));
            }
            if pause.to < pause.from {
                return Err(FieldError::new(
                    format!("loan.pauses[{i}].to"),
                    format!("{} is before the pause starts on {}", pause.to, pause.from),
                ));
            }
            if let Some(j) = pauses[..i]
                .iter()
                .position(|p| p.from < pause.to && pause.from < p.to)
            {
                return Err(FieldError::new(
                    format!("loan.pauses[{i}].from"),
                    format!("overlaps loan.pauses[{j}]; pauses may not overlap"),
                ));
            }
        }
        self.pauses = pauses;
        Ok(self)
    }

    /// Adds restructures and re-ages, checked by [`reschedule::check`]: in date order, one a
    /// day, each with usable terms.
    pub fn with_reschedules(mut self, reschedules: Vec<Reschedule>) -> Result<Self, FieldError> {
        reschedule::check(&reschedules)?;
        self.reschedules = reschedules;
        Ok(self)
    }

    /// The lender's identifier for the loan.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The currency of every amount in the loan.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The schedule, in order.
    pub fn installments(&self) -> &[Installment] {
        &self.installments
    }

    /// The payments, as given, reversed ones included.
    pub fn payments(&self) -> &[Payment] {
        &self.payments
    }

    /// The payments that stand: those not reversed.
    pub fn standing_payments(&self) -> impl Iterator<Item = &Payment> {
        self.payments
            .iter()
            .filter(|p| !self.reversed.contains(&p.id))
    }

    /// The pauses.
    pub fn pauses(&self) -> &[Pause] {
        &self.pauses
    }

    /// The restructures and re-ages, in date order.
    pub fn reschedules(&self) -> &[Reschedule] {
        &self.reschedules
    }
}

/// An id: not blank, at most [`MAX_ID_CHARS`] characters.
fn check_id(field: &str, id: &str) -> Result<(), FieldError> {
    if id.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if id.chars().count() > MAX_ID_CHARS {
        return Err(FieldError::new(
            field,
            format!("is longer than {MAX_ID_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A list of at most `max` items.
fn check_count(field: &str, count: usize, max: usize) -> Result<(), FieldError> {
    if count > max {
        return Err(FieldError::new(
            field,
            format!("lists {count} items; a loan has at most {max}"),
        ));
    }
    Ok(())
}

fn check_schedule(installments: &[Installment]) -> Result<(), FieldError> {
    if installments.is_empty() {
        return Err(FieldError::new(
            "loan.installments",
            "must list at least one installment",
        ));
    }
    check_count("loan.installments", installments.len(), MAX_INSTALLMENTS)?;
    for (i, pair) in installments.windows(2).enumerate() {
        let (earlier, later) = (&pair[0], &pair[1]);
        let at = |name: &str| format!("loan.installments[{}].{name}", i + 1);
        if later.seq == earlier.seq {
            return Err(FieldError::new(
                at("seq"),
                format!(
                    "seq {} is already used by loan.installments[{i}]",
                    later.seq
                ),
            ));
        }
        if later.seq < earlier.seq {
            return Err(FieldError::new(
                at("seq"),
                format!(
                    "seq {} comes after seq {}; installments must be in schedule order",
                    later.seq, earlier.seq
                ),
            ));
        }
        if later.due_date < earlier.due_date {
            return Err(FieldError::new(
                at("due_date"),
                format!(
                    "{} is before the previous installment's due date {}",
                    later.due_date, earlier.due_date
                ),
            ));
        }
    }
    Ok(())
}

fn check_payments(payments: &[Payment]) -> Result<(), FieldError> {
    check_count("loan.payments", payments.len(), MAX_PAYMENTS)?;
    let mut seen = std::collections::HashMap::with_capacity(payments.len());
    for (i, payment) in payments.iter().enumerate() {
        if payment.amount.is_zero() {
            return Err(FieldError::new(
                format!("loan.payments[{i}].amount"),
                "must be greater than zero",
            ));
        }
        check_id(&format!("loan.payments[{i}].id"), &payment.id)?;
        if let Some(first) = seen.insert(payment.id.as_str(), i) {
            return Err(FieldError::new(
                format!("loan.payments[{i}].id"),
                format!("`{}` is already used by loan.payments[{first}]", payment.id),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn installment(seq: u32, due: &str) -> Installment {
        Installment {
            seq,
            due_date: date(due),
            principal: Decimal::ONE_HUNDRED,
            interest: Decimal::ZERO,
            fees: Decimal::ZERO,
        }
    }

    fn payment(id: &str, amount: Decimal) -> Payment {
        Payment {
            id: id.into(),
            value_date: date("2026-01-01"),
            amount,
        }
    }

    fn loan(installments: Vec<Installment>, payments: Vec<Payment>) -> Result<Loan, FieldError> {
        let cny = Currency::parse("loan.currency", "CNY").unwrap();
        Loan::new("L1".into(), cny, installments, payments)
    }

    #[test]
    fn accepts_an_ordered_schedule() {
        let ok = loan(
            vec![installment(1, "2026-01-31"), installment(2, "2026-02-28")],
            vec![payment("P1", Decimal::ONE)],
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn rejects_a_repeated_seq() {
        let err = loan(
            vec![installment(1, "2026-01-31"), installment(1, "2026-02-28")],
            vec![],
        )
        .unwrap_err();
        assert_eq!(err.field, "loan.installments[1].seq");
        assert!(err.reason.contains("already used"), "{}", err.reason);
    }

    #[test]
    fn rejects_installments_out_of_order() {
        let err = loan(
            vec![installment(2, "2026-01-31"), installment(1, "2026-02-28")],
            vec![],
        )
        .unwrap_err();
        assert_eq!(err.field, "loan.installments[1].seq");
        let err = loan(
            vec![installment(1, "2026-02-28"), installment(2, "2026-01-31")],
            vec![],
        )
        .unwrap_err();
        assert_eq!(err.field, "loan.installments[1].due_date");
    }

    #[test]
    fn rejects_an_empty_schedule() {
        assert_eq!(loan(vec![], vec![]).unwrap_err().field, "loan.installments");
    }

    #[test]
    fn reversals_must_name_a_payment_once() {
        let schedule = vec![installment(1, "2026-01-31")];
        let base = || loan(schedule.clone(), vec![payment("P1", Decimal::ONE)]).unwrap();
        let reversed = base().with_reversals(vec!["P1".into()]).unwrap();
        assert_eq!(reversed.standing_payments().count(), 0);
        let unknown = base().with_reversals(vec!["P9".into()]).unwrap_err();
        assert_eq!(unknown.field, "loan.reversals[0].payment_id");
        let twice = base()
            .with_reversals(vec!["P1".into(), "P1".into()])
            .unwrap_err();
        assert_eq!(twice.field, "loan.reversals[1].payment_id");
    }

    #[test]
    fn pauses_may_not_overlap_or_run_backwards() {
        let pause = |from: &str, to: &str| Pause {
            from: date(from),
            to: date(to),
            reason: "hardship".into(),
        };
        let base = || loan(vec![installment(1, "2026-01-31")], vec![]).unwrap();
        let touching = vec![
            pause("2026-02-01", "2026-02-10"),
            pause("2026-02-10", "2026-02-20"),
        ];
        assert!(base().with_pauses(touching).is_ok());
        let overlapping = vec![
            pause("2026-02-01", "2026-02-10"),
            pause("2026-02-09", "2026-02-20"),
        ];
        assert_eq!(
            base().with_pauses(overlapping).unwrap_err().field,
            "loan.pauses[1].from"
        );
        let backwards = vec![pause("2026-02-10", "2026-02-01")];
        assert_eq!(
            base().with_pauses(backwards).unwrap_err().field,
            "loan.pauses[0].to"
        );
    }

    #[test]
    fn a_pause_counts_days_up_to_not_including_its_end() {
        let pause = Pause {
            from: date("2026-02-01"),
            to: date("2026-02-11"),
            reason: "dispute".into(),
        };
        // 2026-02-01 ..= 2026-02-10: 10 days; cut at 2026-02-05: 4 days (1st to 4th).
        assert_eq!(
            pause.days_within(date("2026-01-01"), date("2026-03-01")),
            10
        );
        assert_eq!(pause.days_within(date("2026-01-01"), date("2026-02-05")), 4);
        assert_eq!(pause.days_within(date("2026-03-01"), date("2026-04-01")), 0);
    }

    #[test]
    fn rejects_repeated_payment_ids_and_zero_payments() {
        let schedule = vec![installment(1, "2026-01-31")];
        let err = loan(
            schedule.clone(),
            vec![payment("P1", Decimal::ONE), payment("P1", Decimal::TWO)],
        )
        .unwrap_err();
        assert_eq!(err.field, "loan.payments[1].id");
        let err = loan(schedule, vec![payment("P1", Decimal::ZERO)]).unwrap_err();
        assert_eq!(err.field, "loan.payments[0].amount");
    }
}
