//! WIT records to domain types and back.

use postloan_domain::FieldError;
use postloan_domain::scoring::{Feature, Features, Score, Scorecard, Tier};
use rust_decimal::Decimal;

use crate::exports::postloan::scoring::scoring::{
    BehaviourScore, Error, ModelInfo, ReasonCode, ReasonMeaning,
};
use crate::postloan::core::types::{self as wit, BehaviourFeatures, RiskTier};

/// The features, with the share and ratio checked to lie from 0 to 1.
pub fn features(f: &BehaviourFeatures) -> Result<Features, Error> {
    let unit = |name: &str, text: &str| unit_interval(&format!("features.{name}"), text);
    Ok(Features {
        current_dpd: f.current_dpd,
        max_dpd_m3: f.max_dpd_m3,
        max_dpd_m6: f.max_dpd_m6,
        max_dpd_m12: f.max_dpd_m12,
        late_installments: f.late_installments,
        on_time_share: unit("on_time_share", &f.on_time_share)?,
        partial_payments: f.partial_payments,
        days_since_last_payment: f.days_since_last_payment,
        promises_made: f.promises_made,
        promises_broken: f.promises_broken,
        outstanding_ratio: unit("outstanding_ratio", &f.outstanding_ratio)?,
        months_on_book: f.months_on_book,
    })
}

fn unit_interval(field: &str, text: &str) -> Result<Decimal, Error> {
    let reason = format!("`{text}` is not a decimal from 0 to 1");
    Decimal::from_str_exact(text)
        .ok()
        .filter(|v| (Decimal::ZERO..=Decimal::ONE).contains(v))
        .ok_or_else(|| invalid_field(FieldError::new(field, reason)))
}

fn invalid_field(e: FieldError) -> Error {
    Error::InvalidField(wit::FieldError {
        field: e.field,
        reason: e.reason,
    })
}

/// A scorecard given to `configure` that was refused, naming its field.
pub fn settings_error(e: FieldError) -> Error {
    Error::InvalidSettings(wit::FieldError {
        field: e.field,
        reason: e.reason,
    })
}

/// The score as its WIT record.
pub fn score(score: Score) -> BehaviourScore {
    BehaviourScore {
        value: score.value,
        probability_of_default: score.probability_of_default.to_string(),
        tier: match score.tier {
            Tier::A => RiskTier::A,
            Tier::B => RiskTier::B,
            Tier::C => RiskTier::C,
            Tier::D => RiskTier::D,
            Tier::E => RiskTier::E,
        },
        reasons: score
            .reasons
            .into_iter()
            .map(|r| ReasonCode {
                code: r.code,
                feature: r.feature.name().to_owned(),
                points_lost: r.points_lost,
            })
            .collect(),
    }
}

/// The scorecard's description.
pub fn model_info(card: &Scorecard) -> ModelInfo {
    let lines = card.characteristics();
    ModelInfo {
        name: card.name().to_owned(),
        version: card.version().to_owned(),
        min_score: card.min_score(),
        max_score: card.max_score(),
        features: lines.iter().map(|c| feature_name(c.feature)).collect(),
        reason_codes: lines
            .iter()
            .map(|c| ReasonMeaning {
                code: c.reason_code.clone(),
                meaning: c.meaning.clone(),
            })
            .collect(),
    }
}

fn feature_name(feature: Feature) -> String {
    feature.name().to_owned()
}

/// What `describe` says when no scorecard can be read (never with the tested embedded one).
pub fn unusable_model(error: &Error) -> ModelInfo {
    ModelInfo {
        name: format!("postloan-default-bscore (unusable: {error:?})"),
        version: "0".to_owned(),
        min_score: 0,
        max_score: 0,
        features: Vec::new(),
        reason_codes: Vec::new(),
    }
}
