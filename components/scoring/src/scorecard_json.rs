//! The scorecard's JSON form (see `scorecard.json`), parsed into the domain's checked
//! [`Scorecard`]. Every error names its field by its path in the JSON.

use postloan_domain::FieldError;
use postloan_domain::scoring::{Bin, Characteristic, Feature, Scaling, Scorecard, TierFloor};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScorecardJson {
    /// Documentation inside the file; not read.
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    name: String,
    version: String,
    scaling: ScalingJson,
    tiers: TiersJson,
    characteristics: Vec<CharacteristicJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScalingJson {
    base_score: i32,
    base_odds: String,
    pdo: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TiersJson {
    a: i32,
    b: i32,
    c: i32,
    d: i32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CharacteristicJson {
    feature: String,
    reason_code: String,
    meaning: String,
    bins: Vec<BinJson>,
    missing_points: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BinJson {
    below: Option<String>,
    points: i32,
}

/// Parses and checks a scorecard.
pub fn parse(text: &str) -> Result<Scorecard, FieldError> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let json: ScorecardJson = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "scorecard".to_owned()
        } else {
            path
        };
        FieldError::new(field, e.into_inner().to_string())
    })?;
    let scaling = Scaling::new(
        "scaling",
        Decimal::from(json.scaling.base_score),
        decimal("scaling.base_odds", &json.scaling.base_odds)?,
        decimal("scaling.pdo", &json.scaling.pdo)?,
    )?;
    let characteristics = json
        .characteristics
        .into_iter()
        .enumerate()
        .map(|(i, c)| characteristic(&format!("characteristics[{i}]"), c))
        .collect::<Result<_, _>>()?;
    let tiers = TierFloor([json.tiers.a, json.tiers.b, json.tiers.c, json.tiers.d]);
    Scorecard::new(json.name, json.version, scaling, characteristics, tiers)
}

fn characteristic(path: &str, c: CharacteristicJson) -> Result<Characteristic, FieldError> {
    let feature = Feature::from_name(&c.feature).ok_or_else(|| {
        FieldError::new(
            format!("{path}.feature"),
            format!("`{}` is not a behaviour-features field", c.feature),
        )
    })?;
    let bins = c
        .bins
        .into_iter()
        .enumerate()
        .map(|(i, bin)| {
            let below = bin
                .below
                .map(|text| decimal(&format!("{path}.bins[{i}].below"), &text));
            Ok(Bin {
                below: below.transpose()?,
                points: bin.points,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    Ok(Characteristic {
        feature,
        reason_code: c.reason_code,
        meaning: c.meaning,
        bins,
        missing_points: c.missing_points,
    })
}

/// A plain decimal string such as `"0.95"` or `"-3"`.
fn decimal(field: &str, text: &str) -> Result<Decimal, FieldError> {
    Decimal::from_str_exact(text)
        .map_err(|_| FieldError::new(field, format!("`{text}` is not a decimal number")))
}

#[cfg(test)]
mod tests {
    use postloan_domain::scoring::{Features, Tier};

    use super::*;

    fn embedded() -> Scorecard {
        parse(crate::DEFAULT_SCORECARD).expect("the embedded scorecard is valid")
    }

    #[test]
    fn the_embedded_scorecard_ranges_from_243_to_635() {
        let card = embedded();
        // Worst bins: 15 + 25 + 28 + 20 + 25 + 25 + 20 + 5 + 40 + 40 = 243.
        // Best bins: 110 + 75 + 60 + 60 + 60 + 50 + 55 + 55 + 55 + 55 = 635.
        assert_eq!((card.min_score(), card.max_score()), (243, 635));
        assert_eq!(card.characteristics().len(), 10);
    }

    #[test]
    fn the_readme_loan_scores_522_in_tier_d() {
        // The README's loan on 2026-03-10 (features worked out in the domain's tests).
        let features = Features {
            current_dpd: 23,
            max_dpd_m3: 23,
            max_dpd_m6: 23,
            max_dpd_m12: 23,
            late_installments: 1,
            on_time_share: Decimal::new(5000, 4),
            partial_payments: 1,
            days_since_last_payment: Some(18),
            promises_made: 0,
            promises_broken: 0,
            outstanding_ratio: Decimal::new(5167, 4),
            months_on_book: 2,
        };
        let score = embedded().score(&features);
        // Lost: DPD 23 → 80 of 110 (30), 3-month max → 60 of 75 (15), 12-month → 52 of 60
        // (8), 1 late → 50 of 60 (10), share 0.5 → 45 of 60 (15), 1 partial → 40 of 50 (10),
        // ratio 0.5167 → 45 of 55 (10), 2 months → 40 of 55 (15): 635 − 113 = 522.
        assert_eq!(score.value, 522);
        assert_eq!(score.tier, Tier::D);
        // Odds 50 · 2^(−78/20) = 3.349292…; 1 / 4.349292… = 0.229922.
        assert_eq!(score.probability_of_default.to_string(), "0.229922");
        let codes: Vec<&str> = score.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["R01", "R02", "R05", "R10"]);
    }

    #[test]
    fn errors_name_the_field_in_the_json() {
        let bad_bin =
            crate::DEFAULT_SCORECARD.replacen("\"below\": \"8\"", "\"below\": \"eight\"", 1);
        assert_eq!(
            parse(&bad_bin).unwrap_err().field,
            "characteristics[0].bins[1].below"
        );
        let bad_feature = crate::DEFAULT_SCORECARD.replacen("current-dpd", "current_dpd", 1);
        assert_eq!(
            parse(&bad_feature).unwrap_err().field,
            "characteristics[0].feature"
        );
        let missing = crate::DEFAULT_SCORECARD.replacen("\"name\"", "\"title\"", 1);
        assert_eq!(parse(&missing).unwrap_err().field, "title");
        assert_eq!(parse("not json").unwrap_err().field, "scorecard");
    }
}
