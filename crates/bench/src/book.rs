//! A deterministic synthetic loan book: the same `--seed` always gives the same loans.
//!
//! The mix: monthly loans of 12–36 installments and some weekly ones of 26–52, principal
//! 1,000–50,000 CNY at 6–36% a year; about 70% current, the rest spread over M1–M6+; a fifth
//! of the late ones with a partial payment, and one loan in twenty with a reversed payment.

use chrono::{Days, Months, NaiveDate};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rust_decimal::Decimal;

use postloan_domain::money::Currency;
use postloan_domain::schedule::{self, DayCount, Frequency, Method, Rounding, Terms};

/// The business date every loan is assessed as of.
pub const AS_OF: &str = "2026-06-30";

/// A loan as it crosses a boundary: strings, as in WIT and JSON.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoanRecord {
    pub id: String,
    pub currency: String,
    /// What the book stores beside the schedule; not part of an assessment request.
    #[serde(skip)]
    pub principal: String,
    #[serde(skip)]
    pub disbursed_on: String,
    pub installments: Vec<InstallmentRecord>,
    pub payments: Vec<PaymentRecord>,
    pub reversals: Vec<ReversalRecord>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct InstallmentRecord {
    pub seq: u32,
    pub due_date: String,
    pub principal: String,
    pub interest: String,
    pub fees: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PaymentRecord {
    pub id: String,
    pub value_date: String,
    pub amount: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ReversalRecord {
    pub payment_id: String,
}

/// `count` loans from `seed`.
pub fn generate(count: usize, seed: u64) -> Vec<LoanRecord> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count).map(|n| loan(n, &mut rng)).collect()
}

fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    rng.next_u64() % n
}

fn loan(n: usize, rng: &mut ChaCha8Rng) -> LoanRecord {
    let as_of: NaiveDate = AS_OF.parse().unwrap_or_default();
    let weekly = below(rng, 10) == 0;
    let (frequency, term) = if weekly {
        (Frequency::Weekly, 26 + below(rng, 27) as u32)
    } else {
        (Frequency::Monthly, 12 + below(rng, 25) as u32)
    };
    // Disbursed so that between 2 and `term` installments have fallen due by AS_OF.
    let elapsed = 2 + below(rng, u64::from(term) - 1) as u32;
    let disbursed_on = if weekly {
        as_of - Days::new(u64::from(elapsed) * 7 + below(rng, 7))
    } else {
        as_of - Months::new(elapsed) - Days::new(below(rng, 28))
    };
    let terms = Terms {
        principal: Decimal::new(1000 + below(rng, 49_000) as i64, 0),
        currency: Currency::parse("currency", "CNY")
            .unwrap_or_else(|_| unreachable!("CNY is ISO 4217")),
        annual_rate: Decimal::new(600 + below(rng, 3000) as i64, 4),
        term,
        frequency,
        method: Method::Annuity,
        disbursed_on,
        first_due_date: None,
        day_count: DayCount::Actual365,
        rounding: Rounding::HalfUp,
        calendar: Default::default(),
    };
    let schedule = schedule::schedule(&terms)
        .unwrap_or_else(|e| unreachable!("generated terms are valid: {e}"));
    let due: Vec<_> = schedule
        .installments
        .iter()
        .filter(|i| i.due_date <= as_of)
        .collect();
    // 70% current; the rest stop paying 1 to 8 installments before AS_OF (M1..M6+).
    let missed = if below(rng, 10) < 7 {
        0
    } else {
        (1 + below(rng, 8) as usize).min(due.len())
    };
    let mut payments: Vec<PaymentRecord> = due[..due.len() - missed]
        .iter()
        .enumerate()
        .map(|(k, i)| PaymentRecord {
            id: format!("P{k}"),
            value_date: (i.due_date - Days::new(below(rng, 3))).to_string(),
            amount: i.total().to_string(),
        })
        .collect();
    if missed > 0 && below(rng, 5) == 0 {
        let first_missed = due[due.len() - missed];
        payments.push(PaymentRecord {
            id: "partial".into(),
            value_date: (first_missed.due_date + Days::new(5)).to_string(),
            amount: (first_missed.total() / Decimal::TWO)
                .round_dp(2)
                .to_string(),
        });
    }
    let mut reversals = Vec::new();
    if below(rng, 20) == 0 {
        payments.push(PaymentRecord {
            id: "bounced".into(),
            value_date: as_of.to_string(),
            amount: "100.00".into(),
        });
        reversals.push(ReversalRecord {
            payment_id: "bounced".into(),
        });
    }
    LoanRecord {
        id: format!("L-{n:07}"),
        currency: "CNY".into(),
        principal: terms.principal.to_string(),
        disbursed_on: disbursed_on.to_string(),
        installments: schedule
            .installments
            .iter()
            .map(|i| InstallmentRecord {
                seq: i.seq,
                due_date: i.due_date.to_string(),
                principal: i.principal.to_string(),
                interest: i.interest.to_string(),
                fees: i.fees.to_string(),
            })
            .collect(),
        payments,
        reversals,
    }
}
