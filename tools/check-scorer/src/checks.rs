//! The checks, each a line of the report.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;
use rust_decimal::Decimal;

use crate::inputs::{Case, cases};
use crate::sandbox::{BehaviourScore, Error, ModelInfo, Sandbox};

/// The one export a scorer has.
const SCORING_EXPORT: &str = "postloan:scoring/scoring@0.1.0";

/// Reason codes a score may give at most.
const MAX_REASONS: usize = 4;

/// Every `behaviour-features` field, by WIT name.
const FEATURES: [&str; 12] = [
    "current-dpd",
    "max-dpd-m3",
    "max-dpd-m6",
    "max-dpd-m12",
    "late-installments",
    "on-time-share",
    "partial-payments",
    "days-since-last-payment",
    "promises-made",
    "promises-broken",
    "outstanding-ratio",
    "months-on-book",
];

/// What passed and what failed.
#[derive(Default)]
pub struct Report {
    lines: Vec<(bool, String)>,
}

impl Report {
    fn check(&mut self, ok: bool, line: String) {
        self.lines.push((ok, line));
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.lines.iter().all(|(ok, _)| *ok)
    }

    /// Prints the report, failures marked `FAIL`.
    pub fn print(&self, path: &str) {
        for (ok, line) in &self.lines {
            let mark = if *ok { "ok  " } else { "FAIL" };
            println!("{mark} {line}");
        }
        let verdict = if self.passed() {
            "conforms"
        } else {
            "does NOT conform"
        };
        println!("check-scorer: {path} {verdict}");
    }
}

/// Runs every check on the component at `path`.
pub fn run(path: &Path) -> Result<Report> {
    let sandbox = Sandbox::load(path)?;
    let mut report = Report::default();
    check_world(&sandbox, &mut report);
    let model = match sandbox.call(|s, store| s.postloan_scoring_scoring().call_describe(store)) {
        Ok(model) => model,
        Err(e) => {
            report.check(false, format!("describe() {e}"));
            return Ok(report);
        }
    };
    check_model(&model, &mut report);
    for case in cases() {
        check_case(&sandbox, &model, &case, &mut report);
    }
    check_settings(&sandbox, &mut report);
    Ok(report)
}

/// Exports exactly `scoring`; imports only the shared types and WASI.
fn check_world(sandbox: &Sandbox, report: &mut Report) {
    let ty = sandbox.component().component_type();
    let exports: Vec<String> = ty
        .exports(sandbox.engine())
        .map(|(n, _)| n.to_owned())
        .collect();
    report.check(
        exports == [SCORING_EXPORT],
        format!(
            "exports exactly {SCORING_EXPORT} (exports: {})",
            exports.join(", ")
        ),
    );
    let foreign: Vec<String> = ty
        .imports(sandbox.engine())
        .map(|(n, _)| n.to_owned())
        .filter(|n| !n.starts_with("postloan:core/types@") && !n.starts_with("wasi:"))
        .collect();
    report.check(
        foreign.is_empty(),
        format!(
            "imports nothing but postloan:core/types and WASI (others: {})",
            if foreign.is_empty() {
                "none".to_owned()
            } else {
                foreign.join(", ")
            }
        ),
    );
}

/// `describe()` names the model, gives a range, and declares features and reason codes.
fn check_model(model: &ModelInfo, report: &mut Report) {
    let named = !model.name.trim().is_empty() && !model.version.trim().is_empty();
    report.check(
        named,
        format!(
            "describe() names the model: `{}` `{}`",
            model.name, model.version
        ),
    );
    report.check(
        model.min_score < model.max_score,
        format!(
            "describe() gives a range: {} to {}",
            model.min_score, model.max_score
        ),
    );
    let unknown: Vec<&String> = model
        .features
        .iter()
        .filter(|f| !FEATURES.contains(&f.as_str()))
        .collect();
    let distinct: BTreeSet<&String> = model.features.iter().collect();
    report.check(
        !model.features.is_empty() && unknown.is_empty() && distinct.len() == model.features.len(),
        format!(
            "describe() declares behaviour-features fields, each once: {:?} (unknown: {unknown:?})",
            model.features
        ),
    );
    let codes: BTreeSet<&String> = model.reason_codes.iter().map(|r| &r.code).collect();
    let explained = model
        .reason_codes
        .iter()
        .all(|r| !r.code.trim().is_empty() && !r.meaning.trim().is_empty());
    report.check(
        !codes.is_empty() && codes.len() == model.reason_codes.len() && explained,
        format!(
            "describe() declares {} distinct reason codes, each with a meaning",
            model.reason_codes.len()
        ),
    );
}

/// One input: no trap, the same answer three times, and a score that keeps the contract.
fn check_case(sandbox: &Sandbox, model: &ModelInfo, case: &Case, report: &mut Report) {
    let score = |sandbox: &Sandbox| {
        sandbox.call(|s, store| {
            let first = s
                .postloan_scoring_scoring()
                .call_score(&mut *store, &case.input)?;
            let again = s
                .postloan_scoring_scoring()
                .call_score(&mut *store, &case.input)?;
            Ok((first, again))
        })
    };
    let (first, again) = match score(sandbox) {
        Ok(answers) => answers,
        Err(e) => return report.check(false, format!("score({}) {e}", case.name)),
    };
    let fresh = score(sandbox).map(|(answer, _)| answer);
    let same = fresh.as_ref().is_ok_and(|f| same_answer(&first, f)) && same_answer(&first, &again);
    report.check(
        same,
        format!("score({}) gives the same answer every time", case.name),
    );
    match first {
        Ok(score) => check_score(model, case.name, &score, report),
        Err(error) => report.check(
            true,
            format!(
                "score({}) answers an error: {}",
                case.name,
                describe_error(&error)
            ),
        ),
    }
}

fn same_answer(a: &Result<BehaviourScore, Error>, b: &Result<BehaviourScore, Error>) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// A score within range, a probability from 0 to 1, and at most 4 declared reasons, worst first.
fn check_score(model: &ModelInfo, case: &str, score: &BehaviourScore, report: &mut Report) {
    let value = score.value;
    report.check(
        (model.min_score..=model.max_score).contains(&value),
        format!(
            "score({case}) = {value}, within {}..={}",
            model.min_score, model.max_score
        ),
    );
    let pd = Decimal::from_str_exact(&score.probability_of_default).ok();
    report.check(
        pd.is_some_and(|p| (Decimal::ZERO..=Decimal::ONE).contains(&p)),
        format!(
            "score({case}) probability of default `{}` is a decimal from 0 to 1",
            score.probability_of_default
        ),
    );
    let codes: Vec<&str> = score.reasons.iter().map(|r| r.code.as_str()).collect();
    report.check(
        score.reasons.len() <= MAX_REASONS,
        format!(
            "score({case}) gives at most {MAX_REASONS} reason codes (gave {}: {codes:?})",
            codes.len()
        ),
    );
    let undeclared: Vec<String> = score
        .reasons
        .iter()
        .filter(|r| {
            !model.reason_codes.iter().any(|m| m.code == r.code)
                || !model.features.contains(&r.feature)
        })
        .map(|r| format!("{} ({})", r.code, r.feature))
        .collect();
    report.check(
        undeclared.is_empty(),
        format!("score({case}) reason codes and features are declared by describe() (undeclared: {undeclared:?})"),
    );
    let worst_first = score
        .reasons
        .windows(2)
        .all(|w| w[0].points_lost >= w[1].points_lost);
    report.check(
        worst_first,
        format!("score({case}) reasons come worst first"),
    );
}

/// Settings the scorer cannot use are refused with an error, not a trap.
fn check_settings(sandbox: &Sandbox, report: &mut Report) {
    let answer = sandbox.call(|s, store| {
        s.postloan_scoring_scoring()
            .call_configure(store, "{ not settings")
    });
    match answer {
        Ok(Ok(())) => report.check(
            true,
            "configure(garbage) accepted: the scorer ignores settings".into(),
        ),
        Ok(Err(e)) => report.check(
            true,
            format!(
                "configure(garbage) answers an error: {}",
                describe_error(&e)
            ),
        ),
        Err(e) => report.check(false, format!("configure(garbage) {e}")),
    }
}

fn describe_error(error: &Error) -> String {
    match error {
        Error::InvalidField(f) | Error::InvalidSettings(f) => format!("{}: {}", f.field, f.reason),
        Error::Unscorable(why) | Error::Other(why) => why.clone(),
    }
}
