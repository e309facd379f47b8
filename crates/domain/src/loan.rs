//! A disbursed loan: its schedule of installments and the payments received.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::FieldError;
use crate::money::Currency;

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

/// A loan whose schedule and payments have been checked to hang together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loan {
    id: String,
    currency: Currency,
    installments: Vec<Installment>,
    payments: Vec<Payment>,
}

impl Loan {
    /// Builds a loan, rejecting an empty id or schedule, installments out of order or with a
    /// repeated `seq`, payments of zero and repeated payment ids.
    pub fn new(
        id: String,
        currency: Currency,
        installments: Vec<Installment>,
        payments: Vec<Payment>,
    ) -> Result<Self, FieldError> {
        if id.trim().is_empty() {
            return Err(FieldError::new("loan.id", "must not be empty"));
        }
        check_schedule(&installments)?;
        check_payments(&payments)?;
        Ok(Self {
            id,
            currency,
            installments,
            payments,
        })
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

    /// The payments, as given.
    pub fn payments(&self) -> &[Payment] {
        &self.payments
    }
}

fn check_schedule(installments: &[Installment]) -> Result<(), FieldError> {
    if installments.is_empty() {
        return Err(FieldError::new(
            "loan.installments",
            "must list at least one installment",
        ));
    }
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
    let mut seen = std::collections::HashMap::with_capacity(payments.len());
    for (i, payment) in payments.iter().enumerate() {
        if payment.amount.is_zero() {
            return Err(FieldError::new(
                format!("loan.payments[{i}].amount"),
                "must be greater than zero",
            ));
        }
        if payment.id.trim().is_empty() {
            return Err(FieldError::new(
                format!("loan.payments[{i}].id"),
                "must not be empty",
            ));
        }
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
