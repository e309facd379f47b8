//! Behavioural scoring (B-score): the features postloan reads from a loan's history, and the
//! points scorecard that turns them into a score, a probability of default, a risk tier and
//! reason codes.
//!
//! [`features`] replays the loan with [`crate::overdue::assess`] at past dates; a
//! [`Scorecard`] is plain data (bins and points, with the scaling that ties points to odds),
//! so a deployment can bring its own without code.

mod features;
mod scaling;
mod scorecard;

pub use features::{Feature, FeatureValue, Features, History, assess_with_features, features};
pub use scaling::Scaling;
pub use scorecard::{
    Bin, Characteristic, MAX_REASONS, ReasonCode, Score, Scorecard, Tier, TierFloor,
};

#[cfg(test)]
mod tests;
