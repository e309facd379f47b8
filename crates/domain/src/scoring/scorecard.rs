//! A points scorecard: each characteristic reads one feature and gives the points of the bin
//! its value falls in; the score is their sum, read as odds through the [`Scaling`].

use rust_decimal::Decimal;

use super::features::{Feature, Features};
use super::scaling::Scaling;
use crate::FieldError;

/// Reason codes a score gives at most.
pub const MAX_REASONS: usize = 4;

/// Points one bin may give, either way; keeps every score within a WIT `s32`.
const MAX_BIN_POINTS: i32 = 1_000_000;

/// A range of a feature's values: from the previous bin's `below` (or the lowest value) up
/// to, not including, its own `below` (or without end, for the last bin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    /// The first value past the bin; none for the last bin.
    pub below: Option<Decimal>,
    /// The points a value in the bin earns.
    pub points: i32,
}

/// One line of the scorecard: a feature, its bins, and the reason code it gives when it
/// costs the borrower points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Characteristic {
    /// The feature read.
    pub feature: Feature,
    /// The reason code, such as `R01`.
    pub reason_code: String,
    /// What the reason code means, in plain words.
    pub meaning: String,
    /// The bins, lowest values first.
    pub bins: Vec<Bin>,
    /// Points when the feature has no value (only for features that can lack one).
    pub missing_points: Option<i32>,
}

impl Characteristic {
    /// The points `value` earns.
    fn points(&self, value: Option<Decimal>) -> i32 {
        let Some(value) = value else {
            return self.missing_points.unwrap_or_default();
        };
        let bin = self
            .bins
            .iter()
            .find(|bin| bin.below.is_none_or(|below| value < below));
        bin.map_or(0, |bin| bin.points)
    }

    /// The most points the characteristic gives.
    fn max_points(&self) -> i32 {
        self.all_points().max().unwrap_or_default()
    }

    /// The fewest points the characteristic gives.
    fn min_points(&self) -> i32 {
        self.all_points().min().unwrap_or_default()
    }

    fn all_points(&self) -> impl Iterator<Item = i32> {
        self.bins
            .iter()
            .map(|b| b.points)
            .chain(self.missing_points)
    }

    /// Checks the bins and the missing-value points; fields sit under `path`.
    fn check(&self, path: &str) -> Result<(), FieldError> {
        if self.reason_code.trim().is_empty() {
            return Err(FieldError::new(
                format!("{path}.reason_code"),
                "must not be empty",
            ));
        }
        match (self.feature.optional(), self.missing_points) {
            (true, None) => {
                return Err(FieldError::new(
                    format!("{path}.missing_points"),
                    format!("{} can have no value: give its points", self.feature.name()),
                ));
            }
            (false, Some(_)) => {
                return Err(FieldError::new(
                    format!("{path}.missing_points"),
                    format!("{} always has a value", self.feature.name()),
                ));
            }
            _ => {}
        }
        check_bins(&format!("{path}.bins"), &self.bins)?;
        match self.all_points().position(|p| p.abs() > MAX_BIN_POINTS) {
            Some(_) => Err(FieldError::new(
                format!("{path}.bins"),
                format!("points must lie within ±{MAX_BIN_POINTS}"),
            )),
            None => Ok(()),
        }
    }
}

/// Bins must be given lowest first, each `below` above the last, and only the last open.
fn check_bins(path: &str, bins: &[Bin]) -> Result<(), FieldError> {
    let Some((last, bounded)) = bins.split_last() else {
        return Err(FieldError::new(path, "must list at least one bin"));
    };
    if last.below.is_some() {
        return Err(FieldError::new(
            format!("{path}[{}].below", bins.len() - 1),
            "the last bin is open-ended: leave `below` out",
        ));
    }
    let mut previous: Option<Decimal> = None;
    for (i, bin) in bounded.iter().enumerate() {
        let field = format!("{path}[{i}].below");
        let Some(below) = bin.below else {
            return Err(FieldError::new(
                field,
                "only the last bin may leave `below` out",
            ));
        };
        if previous.is_some_and(|p| below <= p) {
            return Err(FieldError::new(
                field,
                "must be above the previous bin's `below`",
            ));
        }
        previous = Some(below);
    }
    Ok(())
}

/// Risk tiers, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Lowest risk.
    A,
    /// Low risk.
    B,
    /// Medium risk.
    C,
    /// High risk.
    D,
    /// Highest risk.
    E,
}

/// The lowest score of tiers A to D, highest first; every score below D's floor is E.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierFloor(pub [i32; 4]);

impl TierFloor {
    fn tier(self, score: i32) -> Tier {
        const TIERS: [Tier; 4] = [Tier::A, Tier::B, Tier::C, Tier::D];
        TIERS
            .into_iter()
            .zip(self.0)
            .find(|&(_, floor)| score >= floor)
            .map_or(Tier::E, |(tier, _)| tier)
    }
}

/// A characteristic that cost the borrower points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCode {
    /// The characteristic's reason code.
    pub code: String,
    /// The feature it reads.
    pub feature: Feature,
    /// Points below its best bin.
    pub points_lost: u32,
}

/// A loan's behavioural score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    /// The sum of the characteristics' points.
    pub value: i32,
    /// `1 / (1 + odds)`, the odds read from the score through the scaling.
    pub probability_of_default: Decimal,
    /// The tier the score falls in.
    pub tier: Tier,
    /// Up to [`MAX_REASONS`] characteristics that cost points, the most lost first.
    pub reasons: Vec<ReasonCode>,
}

/// A checked points scorecard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scorecard {
    name: String,
    version: String,
    scaling: Scaling,
    characteristics: Vec<Characteristic>,
    tiers: TierFloor,
}

impl Scorecard {
    /// Checks a scorecard: a name and version, at least one characteristic, each feature
    /// and reason code once, well-ordered bins, and tier floors falling from A to D.
    /// Field paths are the scorecard JSON's.
    pub fn new(
        name: String,
        version: String,
        scaling: Scaling,
        characteristics: Vec<Characteristic>,
        tiers: TierFloor,
    ) -> Result<Self, FieldError> {
        for (field, text) in [("name", &name), ("version", &version)] {
            if text.trim().is_empty() {
                return Err(FieldError::new(field, "must not be empty"));
            }
        }
        check_characteristics(&characteristics)?;
        if let Some(i) = (1..4).find(|&i| tiers.0[i] >= tiers.0[i - 1]) {
            let names = ["a", "b", "c", "d"];
            return Err(FieldError::new(
                format!("tiers.{}", names[i]),
                format!("must be below tier {}'s floor", names[i - 1]),
            ));
        }
        Ok(Self {
            name,
            version,
            scaling,
            characteristics,
            tiers,
        })
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// How its points map to odds.
    pub fn scaling(&self) -> &Scaling {
        &self.scaling
    }

    /// The lowest score of tiers A to D.
    pub fn tiers(&self) -> TierFloor {
        self.tiers
    }

    /// The characteristics, in scorecard order.
    pub fn characteristics(&self) -> &[Characteristic] {
        &self.characteristics
    }

    /// The lowest score the scorecard can give.
    pub fn min_score(&self) -> i32 {
        self.characteristics
            .iter()
            .map(Characteristic::min_points)
            .sum()
    }

    /// The highest score the scorecard can give.
    pub fn max_score(&self) -> i32 {
        self.characteristics
            .iter()
            .map(Characteristic::max_points)
            .sum()
    }

    /// Scores `features`.
    pub fn score(&self, features: &Features) -> Score {
        let earned: Vec<(&Characteristic, i32)> = self
            .characteristics
            .iter()
            .map(|c| (c, c.points(features.value(c.feature))))
            .collect();
        let value = earned.iter().map(|(_, points)| points).sum();
        Score {
            value,
            probability_of_default: self.scaling.probability_of_default(i64::from(value)),
            tier: self.tiers.tier(value),
            reasons: reasons(&earned),
        }
    }
}

/// The characteristics that cost points, the most lost first; ties keep scorecard order.
fn reasons(earned: &[(&Characteristic, i32)]) -> Vec<ReasonCode> {
    let mut lost: Vec<ReasonCode> = earned
        .iter()
        .filter_map(|&(c, points)| {
            let points_lost = u32::try_from(c.max_points() - points).ok()?;
            (points_lost > 0).then(|| ReasonCode {
                code: c.reason_code.clone(),
                feature: c.feature,
                points_lost,
            })
        })
        .collect();
    lost.sort_by_key(|r| std::cmp::Reverse(r.points_lost));
    lost.truncate(MAX_REASONS);
    lost
}

fn check_characteristics(characteristics: &[Characteristic]) -> Result<(), FieldError> {
    if characteristics.is_empty() {
        return Err(FieldError::new(
            "characteristics",
            "must list at least one characteristic",
        ));
    }
    for (i, c) in characteristics.iter().enumerate() {
        let path = format!("characteristics[{i}]");
        let earlier = &characteristics[..i];
        if earlier.iter().any(|e| e.feature == c.feature) {
            return Err(FieldError::new(
                format!("{path}.feature"),
                format!("{} is already scored", c.feature.name()),
            ));
        }
        if earlier.iter().any(|e| e.reason_code == c.reason_code) {
            return Err(FieldError::new(
                format!("{path}.reason_code"),
                format!("`{}` is already used", c.reason_code),
            ));
        }
        c.check(&path)?;
    }
    Ok(())
}
