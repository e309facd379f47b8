//! The lender's rules for judging lateness: grace, tolerance, allocation order, penalty
//! interest, buckets, classification and the working-day calendar.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::FieldError;
use crate::calendar::Calendar;

/// One part of an amount owed, as an allocation order names it.
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

/// The common default: within an installment, penalty first, then fees, interest, principal.
pub const DEFAULT_ALLOCATION: [Part; 4] =
    [Part::Penalty, Part::Fees, Part::Interest, Part::Principal];

/// An unpaid remainder at or below the threshold does not make an installment overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tolerance {
    /// A flat amount in the loan's currency.
    pub amount: Option<Decimal>,
    /// A percentage (0–100) of the installment's scheduled total.
    pub percent: Option<Decimal>,
    /// The least the percentage threshold can be, in the loan's currency.
    pub floor: Option<Decimal>,
}

impl Tolerance {
    /// The largest remainder tolerated on an installment whose scheduled total is `due`:
    /// the greater of the flat amount and the percentage of `due` (raised to the floor).
    pub fn threshold(&self, due: Decimal) -> Decimal {
        let flat = self.amount.unwrap_or_default();
        let relative = self
            .percent
            .map(|percent| {
                (due * percent / Decimal::ONE_HUNDRED).max(self.floor.unwrap_or_default())
            })
            .unwrap_or_default();
        flat.max(relative)
    }
}

/// What penalty interest accrues on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PenaltyBasis {
    /// The installment's unpaid principal.
    #[default]
    OverduePrincipal,
    /// The installment's unpaid principal, interest and fees.
    OverdueTotal,
}

/// Penalty interest (罚息) on overdue installments: simple daily accrual, actual/365.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Penalty {
    /// Yearly rate as a fraction, such as `0.18`.
    pub annual_rate: Decimal,
    /// What it accrues on.
    pub basis: PenaltyBasis,
}

/// What a late fee is charged as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LateFeeCharge {
    /// A flat amount in the loan's currency.
    Amount(Decimal),
    /// A percentage (0–100) of the installment's scheduled total.
    Percent(Decimal),
}

/// A fixed late fee (滞纳金): charged once on an installment when it is `days_late` days
/// late, as a fee of that installment, within the caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateFee {
    /// The days past its due date at whose end an installment still overdue is charged: 1 or more.
    pub days_late: u32,
    /// What is charged.
    pub charge: LateFeeCharge,
    /// The most one installment is charged.
    pub cap_per_installment: Option<Decimal>,
    /// The most the loan is charged in late fees, over all its installments.
    pub cap_per_loan: Option<Decimal>,
}

impl LateFee {
    /// Checks a late fee whose fields sit under `path`: at least 1 day late, a charge above
    /// zero and a percentage within 0–100.
    pub fn new(
        path: &str,
        days_late: u32,
        charge: LateFeeCharge,
        cap_per_installment: Option<Decimal>,
        cap_per_loan: Option<Decimal>,
    ) -> Result<Self, FieldError> {
        if days_late == 0 {
            return Err(FieldError::new(
                format!("{path}.days_late"),
                "must be 1 or more: an installment is late from the day after its due date",
            ));
        }
        let (name, value) = match charge {
            LateFeeCharge::Amount(amount) => ("amount", amount),
            LateFeeCharge::Percent(share) => {
                ("percent", percent(&format!("{path}.percent"), share)?)
            }
        };
        if value <= Decimal::ZERO {
            return Err(FieldError::new(
                format!("{path}.{name}"),
                "must be above zero",
            ));
        }
        Ok(Self {
            days_late,
            charge,
            cap_per_installment,
            cap_per_loan,
        })
    }

    /// The day an installment due on `due_date` (after the calendar's shift) is charged, if
    /// still overdue at its end.
    pub fn day(&self, due_date: NaiveDate) -> Option<NaiveDate> {
        due_date.checked_add_days(chrono::Days::new(self.days_late.into()))
    }

    /// The fee for an installment whose scheduled total is `due`, to the minor unit (half
    /// away from zero), within the installment's cap and what `room` the loan's cap leaves
    /// (a cap finer than the minor unit rounding down).
    pub fn fee(&self, due: Decimal, room: Option<Decimal>, minor_unit: u32) -> Decimal {
        let fee = match self.charge {
            LateFeeCharge::Amount(amount) => amount,
            LateFeeCharge::Percent(share) => due * share / Decimal::ONE_HUNDRED,
        };
        let fee = fee.round_dp_with_strategy(
            minor_unit,
            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
        );
        // A cap finer than the minor unit rounds down, so no fee is ever beyond its cap nor
        // finer than the borrower can pay.
        [self.cap_per_installment, room]
            .into_iter()
            .flatten()
            .fold(fee, Decimal::min)
            .max(Decimal::ZERO)
            .round_dp_with_strategy(minor_unit, rust_decimal::RoundingStrategy::ToZero)
    }
}

/// A named range of days, such as bucket M1 from 1 to 30 days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// The range's name, such as `M1` or `substandard`.
    pub name: String,
    /// The first day in the range.
    pub min_days: u32,
    /// The last day in the range; none for the open-ended last range.
    pub max_days: Option<u32>,
}

/// Ranges that cover every day count from 0 up, with no gap and no overlap, mildest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranges(Vec<Range>);

impl Ranges {
    /// Checks that `ranges` start at 0, follow on without gaps or overlaps, and that only the
    /// last is open-ended. `field` names the list in errors.
    pub fn new(field: &str, ranges: Vec<Range>) -> Result<Self, FieldError> {
        let mut expected_min = 0u32;
        for (i, range) in ranges.iter().enumerate() {
            let at = |name: &str| format!("{field}[{i}].{name}");
            if range.name.trim().is_empty() {
                return Err(FieldError::new(at("name"), "must not be empty"));
            }
            if range.min_days != expected_min {
                let what = if range.min_days > expected_min {
                    "a gap"
                } else {
                    "an overlap"
                };
                return Err(FieldError::new(
                    at("min_days"),
                    format!(
                        "is {}, leaving {what}: the range must start at {expected_min}",
                        range.min_days
                    ),
                ));
            }
            match (range.max_days, i + 1 == ranges.len()) {
                (Some(max), false) if max >= range.min_days => expected_min = max + 1,
                (Some(max), false) => {
                    return Err(FieldError::new(
                        at("max_days"),
                        format!("{max} is below min_days"),
                    ));
                }
                (Some(_), true) => {
                    return Err(FieldError::new(
                        at("max_days"),
                        "the last range must be open-ended",
                    ));
                }
                (None, false) => {
                    return Err(FieldError::new(
                        at("max_days"),
                        "only the last range may be open-ended",
                    ));
                }
                (None, true) => {}
            }
        }
        if ranges.is_empty() {
            return Err(FieldError::new(field, "must list at least one range"));
        }
        Ok(Self(ranges))
    }

    /// The range `days` falls in, and its position (0 = mildest).
    pub fn find(&self, days: u32) -> (usize, &Range) {
        // The ranges cover 0.. with no gap, so the last one starting at or below `days` holds it.
        let position = self.0.iter().rposition(|r| r.min_days <= days).unwrap_or(0);
        (position, &self.0[position])
    }

    /// The range at `position`.
    pub fn get(&self, position: usize) -> Option<&Range> {
        self.0.get(position)
    }

    /// The ranges' names, from the fewest days to the most.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|r| r.name.as_str())
    }

    fn preset(bounds: &[(&str, u32, Option<u32>)]) -> Self {
        Self(
            bounds
                .iter()
                .map(|&(name, min_days, max_days)| Range {
                    name: name.to_owned(),
                    min_days,
                    max_days,
                })
                .collect(),
        )
    }

    /// M0 (0), M1 1–30, M2 31–60, M3 61–90, M4 91–120, M5 121–150, M6 151–180, M6+ over 180.
    pub fn default_buckets() -> Self {
        Self::preset(&[
            ("M0", 0, Some(0)),
            ("M1", 1, Some(30)),
            ("M2", 31, Some(60)),
            ("M3", 61, Some(90)),
            ("M4", 91, Some(120)),
            ("M5", 121, Some(150)),
            ("M6", 151, Some(180)),
            ("M6+", 181, None),
        ])
    }

    /// China's five-category loan classification (五级分类) by days overdue.
    pub fn cn_five_category() -> Self {
        Self::preset(&[
            (class::NORMAL, 0, Some(0)),
            (class::SPECIAL_MENTION, 1, Some(90)),
            (class::SUBSTANDARD, 91, Some(270)),
            (class::DOUBTFUL, 271, Some(360)),
            (class::LOSS, 361, None),
        ])
    }

    /// FFIEC's uniform retail classification for closed-end loans: substandard from 90 days,
    /// loss (charge-off) from 120.
    pub fn ffiec_retail() -> Self {
        Self::preset(&[
            (class::PASS, 0, Some(89)),
            (class::SUBSTANDARD, 90, Some(119)),
            (class::LOSS, 120, None),
        ])
    }
}

/// The names of the classes the presets produce: one definition for the presets, the
/// explanations and the portfolio's NPL ratio.
pub mod class {
    /// China's five categories (五级分类): 正常, 关注, 次级, 可疑, 损失.
    pub const NORMAL: &str = "normal";
    /// 关注.
    pub const SPECIAL_MENTION: &str = "special_mention";
    /// 次级, and FFIEC's substandard.
    pub const SUBSTANDARD: &str = "substandard";
    /// 可疑.
    pub const DOUBTFUL: &str = "doubtful";
    /// 损失, and FFIEC's loss.
    pub const LOSS: &str = "loss";
    /// FFIEC's pass.
    pub const PASS: &str = "pass";
    /// EBA: not in default.
    pub const PERFORMING: &str = "performing";
    /// EBA: in default.
    pub const DEFAULT: &str = "default";
    /// The classes counted as non-performing: the bottom three of the five categories,
    /// FFIEC's substandard and loss, and EBA's default (a defaulted exposure is
    /// non-performing under the EBA's definition).
    pub const NON_PERFORMING: [&str; 4] = [SUBSTANDARD, DOUBTFUL, LOSS, DEFAULT];
}

/// The EBA definition of default's materiality thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Materiality {
    /// The overdue amount must exceed this, in the loan's currency.
    pub absolute: Decimal,
    /// The overdue amount over the exposure must exceed this fraction.
    pub relative: Decimal,
}

/// How a loan is classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// Ranges of days in arrears, mildest first.
    Ranges(Ranges),
    /// EBA: in default once more than 90 consecutive days have passed with both materiality
    /// thresholds breached; performing otherwise.
    EbaDefault(Materiality),
}

impl Classification {
    /// Position 0 is the mildest class; a higher position is worse.
    pub fn name(&self, position: usize) -> &str {
        match self {
            Self::Ranges(ranges) => ranges.get(position).map_or("", |r| r.name.as_str()),
            Self::EbaDefault(_) if position == 0 => class::PERFORMING,
            Self::EbaDefault(_) => class::DEFAULT,
        }
    }

    /// The rank of the worst class.
    pub fn worst(&self) -> usize {
        match self {
            Self::Ranges(ranges) => ranges.names().count().saturating_sub(1),
            Self::EbaDefault(_) => 1,
        }
    }
}

/// How a restructured or re-aged loan is classified while it is watched: at least
/// substandard, and at least doubtful once it falls late again or is restructured again,
/// through an observation period that starts on the first due date of the new schedule,
/// covers at least two repayment periods and lasts at least a year (docs/overdue.md says
/// which Chinese rules these readings come from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// The mildest class (its rank in the scheme) from the reschedule to the period's end.
    pub floor: usize,
    /// The mildest class when it relapses within the period.
    pub relapse: usize,
    /// The least months the period lasts from the first new due date.
    pub months: u32,
    /// The least repayment periods of the new schedule it covers.
    pub periods: u32,
}

impl Observation {
    /// The China five-category rules, ranked as [`Ranges::cn_five_category`] ranks them.
    pub fn cn_five_category() -> Self {
        Self {
            floor: 2,
            relapse: 3,
            months: 12,
            periods: 2,
        }
    }
}

/// The lender's rules for judging a loan's lateness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Days after a due date that do not count toward days in arrears.
    pub grace_days: u32,
    /// Remainders too small to make an installment overdue.
    pub tolerance: Option<Tolerance>,
    /// Order in which a payment covers an installment's parts.
    pub allocation: [Part; 4],
    /// Penalty interest on overdue installments.
    pub penalty: Option<Penalty>,
    /// A fixed fee on each installment that becomes so many days late.
    pub late_fee: Option<LateFee>,
    /// Delinquency buckets by days in arrears.
    pub buckets: Ranges,
    /// Regulatory classification.
    pub classification: Classification,
    /// How the classification treats a loan after a restructure or re-age; none leaves it to
    /// days in arrears alone.
    pub observation: Option<Observation>,
    /// Working days and the due-date shift.
    pub calendar: Calendar,
    /// Whether a borrower's worst classification applies to all their loans.
    pub contagion: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            grace_days: 0,
            tolerance: None,
            allocation: DEFAULT_ALLOCATION,
            penalty: None,
            late_fee: None,
            buckets: Ranges::default_buckets(),
            classification: Classification::Ranges(Ranges::cn_five_category()),
            observation: Some(Observation::cn_five_category()),
            calendar: Calendar::default(),
            contagion: false,
        }
    }
}

/// Checks an allocation order names each of the four parts exactly once.
pub fn allocation_order(field: &str, parts: &[Part]) -> Result<[Part; 4], FieldError> {
    let order: [Part; 4] = parts.try_into().map_err(|_| {
        FieldError::new(
            field,
            format!("lists {} parts; it must list all 4 once each", parts.len()),
        )
    })?;
    for part in DEFAULT_ALLOCATION {
        if !order.contains(&part) {
            return Err(FieldError::new(
                field,
                format!("does not list {part:?}; it must list all 4 once each"),
            ));
        }
    }
    Ok(order)
}

/// Checks a yearly rate lies within 0 and 10 (1000%).
pub fn annual_rate(field: &str, rate: Decimal) -> Result<Decimal, FieldError> {
    if rate.is_sign_negative() && !rate.is_zero() || rate > Decimal::TEN {
        return Err(FieldError::new(
            field,
            format!("{rate} is outside 0 to 10 (1000%)"),
        ));
    }
    Ok(rate)
}

/// Checks a fraction lies within 0 and 1.
pub fn fraction(field: &str, value: Decimal) -> Result<Decimal, FieldError> {
    if value.is_sign_negative() && !value.is_zero() || value > Decimal::ONE {
        return Err(FieldError::new(field, format!("{value} is outside 0 to 1")));
    }
    Ok(value)
}

/// Checks a percentage lies within 0 and 100.
pub fn percent(field: &str, value: Decimal) -> Result<Decimal, FieldError> {
    if value.is_sign_negative() && !value.is_zero() || value > Decimal::ONE_HUNDRED {
        return Err(FieldError::new(
            field,
            format!("{value} is outside 0 to 100"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(name: &str, min_days: u32, max_days: Option<u32>) -> Range {
        Range {
            name: name.into(),
            min_days,
            max_days,
        }
    }

    #[test]
    fn default_buckets_read_days_in_arrears() {
        let buckets = Ranges::default_buckets();
        let name = |days| buckets.find(days).1.name.clone();
        assert_eq!(
            [name(0), name(1), name(30), name(31), name(90), name(91)],
            ["M0", "M1", "M1", "M2", "M3", "M4"]
        );
        assert_eq!([name(180), name(181), name(5000)], ["M6", "M6+", "M6+"]);
    }

    #[test]
    fn ranges_with_gaps_or_overlaps_are_refused() {
        let gap =
            Ranges::new("b", vec![range("a", 0, Some(10)), range("c", 12, None)]).unwrap_err();
        assert_eq!(gap.field, "b[1].min_days");
        assert!(gap.reason.contains("gap"), "{}", gap.reason);
        let overlap =
            Ranges::new("b", vec![range("a", 0, Some(10)), range("c", 10, None)]).unwrap_err();
        assert!(overlap.reason.contains("overlap"), "{}", overlap.reason);
        let late_start = Ranges::new("b", vec![range("a", 1, None)]).unwrap_err();
        assert_eq!(late_start.field, "b[0].min_days");
        let closed = Ranges::new("b", vec![range("a", 0, Some(10))]).unwrap_err();
        assert_eq!(closed.field, "b[0].max_days");
        let open_middle =
            Ranges::new("b", vec![range("a", 0, None), range("c", 1, None)]).unwrap_err();
        assert_eq!(open_middle.field, "b[0].max_days");
        assert!(Ranges::new("b", vec![]).is_err());
    }

    #[test]
    fn tolerance_takes_the_larger_of_flat_and_floored_percentage() {
        let tolerance = Tolerance {
            amount: Some(Decimal::new(5, 0)),
            percent: Some(Decimal::ONE),
            floor: Some(Decimal::new(2, 0)),
        };
        // 1% of 1060.00 = 10.60, above the 2.00 floor and the 5.00 flat amount.
        assert_eq!(
            tolerance.threshold(Decimal::new(106000, 2)),
            Decimal::new(1060, 2)
        );
        // 1% of 100.00 = 1.00, raised to the 2.00 floor, below the 5.00 flat amount.
        assert_eq!(
            tolerance.threshold(Decimal::new(10000, 2)),
            Decimal::new(5, 0)
        );
    }

    #[test]
    fn allocation_orders_must_name_every_part_once() {
        use Part::*;
        assert!(allocation_order("a", &[Principal, Interest, Fees, Penalty]).is_ok());
        assert!(allocation_order("a", &[Principal, Interest, Fees]).is_err());
        assert!(allocation_order("a", &[Principal, Principal, Fees, Penalty]).is_err());
    }

    #[test]
    fn rates_stay_within_zero_and_ten() {
        assert!(annual_rate("r", Decimal::TEN).is_ok());
        assert!(annual_rate("r", Decimal::new(1001, 2)).is_err());
        assert!(annual_rate("r", Decimal::new(-1, 2)).is_err());
    }
}
