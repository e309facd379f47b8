//! `POST /v1/score` and the score inside `/v1/assess`: the overdue component reads the loan's
//! behavioural features, and the scorer plugged in as a dependency scores them.

use std::sync::OnceLock;

use serde::Serialize;
use spin_sdk::http::Response;

use crate::assess::{AssessRequest, AssessmentJson};
use crate::postloan::core::types::{self as wit, RiskTier};
use crate::postloan::overdue::overdue;
use crate::postloan::scoring::scoring::{self, ModelInfo, ScoringInput};
use crate::problem::Problem;
use crate::request::parse;

/// The Spin variable holding a scorecard (or other scorer settings) to use instead of the
/// scorer's built-in one; empty or undefined means none.
#[cfg(feature = "spin")]
const SETTINGS_VARIABLE: &str = "scorecard";

/// A loan, its features and its score.
#[derive(Serialize)]
struct ScoredJson {
    loan_id: String,
    as_of: String,
    features: FeaturesJson,
    score: ScoreJson,
}

/// Scores one loan: the body is `/v1/assess`'s.
pub fn handle(body: &[u8]) -> Result<Response, Problem> {
    let scored = assess_and_score(parse(body)?)?;
    Ok(crate::json(
        200,
        &ScoredJson {
            loan_id: scored.assessment.loan_id.clone(),
            as_of: scored.assessment.as_of.clone(),
            features: scored.features.into(),
            score: scored.score,
        },
    ))
}

/// Assesses the request's loan, reads its features and scores them.
pub fn assess_and_score(request: AssessRequest) -> Result<Scored, Problem> {
    let policy = request.policy.into_wit()?;
    let loan: wit::Loan = request.loan.into();
    let assessment = overdue::assess(&loan, &request.as_of, &policy).map_err(Problem::from)?;
    score(
        &loan,
        assessment,
        &request.as_of,
        &policy,
        request.history.into(),
    )
}

/// An assessment with the features read from it and their score.
pub struct Scored {
    /// The loan's assessment.
    pub assessment: wit::Assessment,
    /// Its behavioural features.
    pub features: wit::BehaviourFeatures,
    /// The scorer's answer.
    pub score: ScoreJson,
}

/// Reads `loan`'s features and scores them with `assessment` through the plugged-in scorer.
pub fn score(
    loan: &wit::Loan,
    assessment: wit::Assessment,
    as_of: &str,
    policy: &wit::Policy,
    history: overdue::LoanHistory,
) -> Result<Scored, Problem> {
    let features = overdue::behaviour(loan, as_of, policy, &history).map_err(Problem::from)?;
    score_assessed(overdue::AssessedLoan {
        assessment,
        features,
    })
}

/// Scores an assessment and its features through the plugged-in scorer.
pub fn score_assessed(assessed: overdue::AssessedLoan) -> Result<Scored, Problem> {
    let model = scorer()?;
    let input = ScoringInput {
        features: assessed.features,
        assessment: assessed.assessment,
    };
    let score = scoring::score(&input).map_err(|e| Problem::scorer(e, model))?;
    Ok(Scored {
        assessment: input.assessment,
        features: input.features,
        score: ScoreJson::new(score, model),
    })
}

/// The plugged-in scorer's model, configured and described once per instance: an instance
/// serves one request or one nightly invocation, within which neither changes, and the
/// nightly scores thousands of loans.
fn scorer() -> Result<&'static ModelInfo, Problem> {
    static MODEL: OnceLock<ModelInfo> = OnceLock::new();
    if let Some(model) = MODEL.get() {
        return Ok(model);
    }
    configure_scorer()?;
    Ok(MODEL.get_or_init(scoring::describe))
}

/// Passes the `scorecard` variable to the scorer when it is set.
fn configure_scorer() -> Result<(), Problem> {
    let settings = scorecard_variable();
    if settings.trim().is_empty() {
        return Ok(());
    }
    scoring::configure(&settings).map_err(|e| Problem::scorer(e, &scoring::describe()))
}

/// The `scorecard` Spin variable, empty when unset.
#[cfg(feature = "spin")]
fn scorecard_variable() -> String {
    spin_sdk::variables::get(SETTINGS_VARIABLE).unwrap_or_default()
}

/// Built without Spin variables: no override, the scorer's own scorecard.
#[cfg(not(feature = "spin"))]
fn scorecard_variable() -> String {
    String::new()
}

/// The model that scored, as the response names it.
#[derive(Serialize)]
struct ModelJson {
    name: String,
    version: String,
}

/// A score under the HTTP API's JSON names.
#[derive(Serialize)]
pub struct ScoreJson {
    model: ModelJson,
    /// The score in points.
    pub value: i32,
    probability_of_default: String,
    /// The risk tier, `A` to `E`.
    pub tier: &'static str,
    reasons: Vec<ReasonCodeJson>,
    /// The tier as the book's reminders and escalation take it.
    #[cfg(feature = "spin")]
    #[serde(skip)]
    pub risk_tier: RiskTier,
}

#[derive(Serialize)]
struct ReasonCodeJson {
    code: String,
    feature: String,
    points_lost: u32,
}

impl ScoreJson {
    fn new(score: scoring::BehaviourScore, model: &ModelInfo) -> Self {
        Self {
            model: ModelJson {
                name: model.name.clone(),
                version: model.version.clone(),
            },
            value: score.value,
            probability_of_default: score.probability_of_default,
            #[cfg(feature = "spin")]
            risk_tier: score.tier,
            tier: match score.tier {
                RiskTier::A => "A",
                RiskTier::B => "B",
                RiskTier::C => "C",
                RiskTier::D => "D",
                RiskTier::E => "E",
            },
            reasons: score
                .reasons
                .into_iter()
                .map(|r| ReasonCodeJson {
                    code: r.code,
                    feature: r.feature,
                    points_lost: r.points_lost,
                })
                .collect(),
        }
    }
}

/// The features under the HTTP API's JSON names.
#[derive(Serialize)]
pub struct FeaturesJson {
    current_dpd: u32,
    max_dpd_m3: u32,
    max_dpd_m6: u32,
    max_dpd_m12: u32,
    late_installments: u32,
    on_time_share: String,
    partial_payments: u32,
    days_since_last_payment: Option<u32>,
    promises_made: u32,
    promises_broken: u32,
    outstanding_ratio: String,
    months_on_book: u32,
}

impl From<wit::BehaviourFeatures> for FeaturesJson {
    fn from(f: wit::BehaviourFeatures) -> Self {
        Self {
            current_dpd: f.current_dpd,
            max_dpd_m3: f.max_dpd_m3,
            max_dpd_m6: f.max_dpd_m6,
            max_dpd_m12: f.max_dpd_m12,
            late_installments: f.late_installments,
            on_time_share: f.on_time_share,
            partial_payments: f.partial_payments,
            days_since_last_payment: f.days_since_last_payment,
            promises_made: f.promises_made,
            promises_broken: f.promises_broken,
            outstanding_ratio: f.outstanding_ratio,
            months_on_book: f.months_on_book,
        }
    }
}

/// The assessment with its score, as `/v1/assess` answers.
#[derive(Serialize)]
pub struct AssessedJson {
    #[serde(flatten)]
    assessment: AssessmentJson,
    score: ScoreJson,
}

impl From<Scored> for AssessedJson {
    fn from(scored: Scored) -> Self {
        Self {
            assessment: scored.assessment.into(),
            score: scored.score,
        }
    }
}
