//! Scorecard scaling: `score = offset + factor·ln(odds)`, with `factor = PDO / ln 2` and
//! `offset = base − factor·ln(base_odds)`, so the base score sits at the base odds and every
//! PDO points double the good:bad odds.

use rust_decimal::prelude::*;

use crate::FieldError;

/// How points map to good:bad odds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaling {
    base_score: Decimal,
    base_odds: Decimal,
    pdo: Decimal,
    /// `ln(base_odds)` and `ln 2`, taken once: a decimal logarithm costs more than the
    /// rest of a score.
    ln_base_odds: Decimal,
    ln_2: Decimal,
}

/// Decimals a probability of default is given to.
const PD_DECIMALS: u32 = 6;

impl Default for Scaling {
    /// The common default: 600 points at 50:1 odds, 20 points to double the odds.
    fn default() -> Self {
        Self::checked(Decimal::from(600), Decimal::from(50), Decimal::from(20))
    }
}

impl Scaling {
    /// Checks a scaling whose fields sit under `path`: odds and PDO must be above zero.
    pub fn new(
        path: &str,
        base_score: Decimal,
        base_odds: Decimal,
        pdo: Decimal,
    ) -> Result<Self, FieldError> {
        if base_odds <= Decimal::ZERO {
            return Err(FieldError::new(
                format!("{path}.base_odds"),
                "must be above zero",
            ));
        }
        if pdo <= Decimal::ZERO {
            return Err(FieldError::new(format!("{path}.pdo"), "must be above zero"));
        }
        Ok(Self::checked(base_score, base_odds, pdo))
    }

    /// A scaling whose odds and PDO are known to be above zero.
    fn checked(base_score: Decimal, base_odds: Decimal, pdo: Decimal) -> Self {
        Self {
            base_score,
            base_odds,
            pdo,
            ln_base_odds: base_odds.ln(),
            ln_2: Decimal::TWO.ln(),
        }
    }

    /// The score at the base odds.
    pub fn base_score(&self) -> Decimal {
        self.base_score
    }

    /// The good:bad odds at the base score.
    pub fn base_odds(&self) -> Decimal {
        self.base_odds
    }

    /// The points that double the odds.
    pub fn pdo(&self) -> Decimal {
        self.pdo
    }

    /// `factor = PDO / ln 2`: points per unit of log-odds.
    pub fn factor(&self) -> Decimal {
        self.pdo / self.ln_2
    }

    /// `offset = base − factor·ln(base_odds)`.
    pub fn offset(&self) -> Decimal {
        self.base_score - self.factor() * self.ln_base_odds
    }

    /// The score for good:bad `odds` (above zero), to the nearest point. Computed as
    /// `base + factor·ln(odds / base_odds)`, which is `offset + factor·ln(odds)` without the
    /// rounding of two logarithms that cancel.
    pub fn score_for_odds(&self, odds: Decimal) -> Option<i64> {
        let log_ratio = (odds / self.base_odds).checked_ln()?;
        (self.base_score + self.factor() * log_ratio)
            .round()
            .to_i64()
    }

    /// Natural log of the good:bad odds a score implies: `(score − offset) / factor`, written
    /// `ln(base_odds) + (score − base)·ln 2 / PDO`.
    pub fn log_odds(&self, score: i64) -> Decimal {
        self.ln_base_odds + (Decimal::from(score) - self.base_score) * self.ln_2 / self.pdo
    }

    /// The probability of default a score implies, `1 / (1 + odds)`, to 6 decimals.
    /// Odds too large or too small for a decimal give 0 or 1.
    pub fn probability_of_default(&self, score: i64) -> Decimal {
        let log_odds = self.log_odds(score);
        // e^−|x| never overflows; beyond what a decimal holds it is 0.
        let small = (-log_odds.abs()).checked_exp().unwrap_or(Decimal::ZERO);
        let pd = if log_odds >= Decimal::ZERO {
            small / (Decimal::ONE + small)
        } else {
            Decimal::ONE / (Decimal::ONE + small)
        };
        let mut pd = pd.round_dp_with_strategy(PD_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
        pd.rescale(PD_DECIMALS);
        pd
    }
}
