//! The default behavioural scorer: a thin adapter between the `postloan:scoring/scoring` WIT
//! interface and the scorecard in [`postloan_domain::scoring`]. Its scorecard is
//! `scorecard.json`, embedded at build time; `configure` swaps in another for this instance
//! (the api component passes the `scorecard` Spin variable). It imports no host capability.

mod convert;
mod scorecard_json;

use std::sync::OnceLock;

use postloan_domain::scoring::Scorecard;

wit_bindgen::generate!({
    world: "postloan:scoring/scorer",
    path: "../../wit",
    generate_all,
});

use exports::postloan::scoring::scoring::{BehaviourScore, Error, Guest, ModelInfo, ScoringInput};

/// The scorecard built in, documented in the file itself and in docs/scoring.md.
const DEFAULT_SCORECARD: &str = include_str!("../scorecard.json");

/// The scorecard `configure` chose for this instance.
static CONFIGURED: OnceLock<Scorecard> = OnceLock::new();

/// The embedded scorecard, parsed once.
static EMBEDDED: OnceLock<Result<Scorecard, Error>> = OnceLock::new();

/// The scorecard in force: the configured one, else the embedded one.
fn scorecard() -> Result<&'static Scorecard, Error> {
    if let Some(card) = CONFIGURED.get() {
        return Ok(card);
    }
    let embedded = EMBEDDED.get_or_init(|| {
        scorecard_json::parse(DEFAULT_SCORECARD)
            .map_err(|e| Error::Other(format!("the embedded scorecard is invalid: {e}")))
    });
    embedded.as_ref().map_err(Clone::clone)
}

struct DefaultScorer;

impl Guest for DefaultScorer {
    fn configure(settings: String) -> Result<(), Error> {
        let card = scorecard_json::parse(&settings).map_err(convert::settings_error)?;
        CONFIGURED
            .set(card)
            .map_err(|_| Error::Other("this instance is already configured".to_owned()))
    }

    fn score(input: ScoringInput) -> Result<BehaviourScore, Error> {
        let card = scorecard()?;
        let features = convert::features(&input.features)?;
        Ok(convert::score(card.score(&features)))
    }

    fn describe() -> ModelInfo {
        match scorecard() {
            Ok(card) => convert::model_info(card),
            Err(error) => convert::unusable_model(&error),
        }
    }
}

export!(DefaultScorer);
