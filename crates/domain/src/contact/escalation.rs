//! Collections escalation (催收升级): the stage of the ladder a loan is on, the transition that
//! brought it there and why, and what to do about it — each contact through the guard.

use std::collections::BTreeMap;
use std::hash::Hasher;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::guard::{self, ContactRules, Verdict, Window};
use super::messages::{self, Kind, Message, Messages};
use super::{
    Channel, ContactAttempt, ContactProfile, Promise, PromiseStatus, Ruling, Standing, Tier,
};
use crate::FieldError;

/// The stages of the collections ladder, mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Nothing due soon, nothing overdue.
    Current,
    /// An installment falls due within the pre-due days.
    PreDue,
    /// Early arrears: messages.
    Early,
    /// Mid arrears: calls.
    Mid,
    /// Late arrears: letters and field visits.
    Late,
    /// Legal referral and credit-bureau reporting.
    Legal,
    /// Review for write-off.
    WriteOffReview,
    /// After a write-off, when the lender's recovery strategy is on: letters and calls about
    /// what is still owed. Entered by the write-off alone, never by DPD or a step.
    Recovery,
}

/// The stages a loan climbs by DPD, risk and promises; recovery is not among them.
const STAGES: [Stage; 7] = [
    Stage::Current,
    Stage::PreDue,
    Stage::Early,
    Stage::Mid,
    Stage::Late,
    Stage::Legal,
    Stage::WriteOffReview,
];

impl Stage {
    /// The stage's name in the API, such as `write_off_review`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::PreDue => "pre_due",
            Self::Early => "early",
            Self::Mid => "mid",
            Self::Late => "late",
            Self::Legal => "legal",
            Self::WriteOffReview => "write_off_review",
            Self::Recovery => "recovery",
        }
    }

    fn step(self, by: isize) -> Self {
        let position = STAGES.iter().position(|s| *s == self).unwrap_or(0) as isize;
        STAGES[(position + by).clamp(0, STAGES.len() as isize - 1) as usize]
    }

    fn in_collection(self) -> bool {
        self >= Stage::Early
    }
}

/// A collection stage entered from a number of days past due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rung {
    /// The stage.
    pub stage: Stage,
    /// The DPD from which a loan enters it.
    pub min_dpd: u32,
}

/// The ladder: collection stages by DPD, mildest first, with rising thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder(Vec<Rung>);

impl Ladder {
    /// Early from 1 DPD, mid from 16, late from 61, legal from 91, write-off review from 180.
    pub fn default_ladder() -> Self {
        let rung = |stage, min_dpd| Rung { stage, min_dpd };
        Self(vec![
            rung(Stage::Early, 1),
            rung(Stage::Mid, 16),
            rung(Stage::Late, 61),
            rung(Stage::Legal, 91),
            rung(Stage::WriteOffReview, 180),
        ])
    }

    /// Checks the rungs are collection stages in order with rising thresholds from at least 1,
    /// recovery not among them (a write-off enters it).
    pub fn new(field: &str, rungs: Vec<Rung>) -> Result<Self, FieldError> {
        if let Some(i) = rungs.iter().position(|r| r.stage == Stage::Recovery) {
            return Err(FieldError::new(
                format!("{field}[{i}]"),
                "recovery is entered by a write-off, not by DPD",
            ));
        }
        for (i, pair) in rungs.windows(2).enumerate() {
            if pair[1].stage <= pair[0].stage || pair[1].min_dpd <= pair[0].min_dpd {
                return Err(FieldError::new(
                    format!("{field}[{}]", i + 1),
                    "stages must rise, each entered at a higher DPD than the one before",
                ));
            }
        }
        match rungs.first() {
            None => Err(FieldError::new(field, "must list at least one stage")),
            Some(first) if !first.stage.in_collection() || first.min_dpd == 0 => {
                Err(FieldError::new(
                    format!("{field}[0]"),
                    "the ladder holds collection stages (early and later) entered from 1 DPD or more",
                ))
            }
            Some(_) => Ok(Self(rungs)),
        }
    }

    fn stage_for(&self, dpd: u32) -> Option<&Rung> {
        self.0.iter().rev().find(|r| dpd >= r.min_dpd)
    }
}

/// A collection strategy for champion/challenger testing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strategy {
    /// Its name, recorded on every action.
    pub name: String,
    /// Its share of loans, in percent; the shares add up to 100.
    pub share_percent: u32,
    /// Its ladder.
    pub ladder: Ladder,
}

/// The lender's escalation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationPolicy {
    /// Strategies and their shares; one `champion` with the default ladder by default.
    pub strategies: Vec<Strategy>,
    /// Days before a due date in which a current loan is `pre_due`.
    pub pre_due_days: u32,
    /// Days after a promise's date before it counts as broken.
    pub promise_grace_days: u32,
    /// Tiers that enter each collection stage one step early.
    pub high_risk_tiers: Vec<Tier>,
    /// Below this amount overdue, collection goes no further than `mid`.
    pub small_balance: Option<Decimal>,
    /// Collectors of each queue, by queue name.
    pub queues: BTreeMap<String, Vec<String>>,
    /// How the early stage's messages are written.
    pub messages: Messages,
    /// Contact rules.
    pub rules: ContactRules,
}

impl EscalationPolicy {
    /// Checks the strategies' shares add up to 100 and the message templates.
    pub fn check(&self) -> Result<(), FieldError> {
        let total: u32 = self.strategies.iter().map(|s| s.share_percent).sum();
        if self.strategies.is_empty() || total != 100 {
            return Err(FieldError::new(
                "policy.escalation.strategies",
                format!("shares add up to {total}; they must add up to 100"),
            ));
        }
        self.messages.check("policy.escalation.messages.templates")
    }
}

/// How the stage changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Same stage as before.
    Unchanged,
    /// A harsher stage.
    Escalated,
    /// A milder stage, still in collection.
    DeEscalated,
    /// Back to current from collection: open tasks close.
    Cured,
    /// Kept where it was by a hold (dispute, hardship, open promise).
    Held,
}

/// Something to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// What: `sms`, `push`, `email`, `voice_call`, `letter`, `field_visit`, `legal_referral`,
    /// `credit_bureau_report` or `write_off_review`.
    pub kind: &'static str,
    /// The queue that owns it, when a person must act.
    pub queue: Option<String>,
    /// The collector it is assigned to, when the queue has any.
    pub assignee: Option<String>,
    /// When a contact may happen, in the borrower's local time; none for tasks.
    pub window: Option<Window>,
    /// The rendered message, for the electronic channels.
    pub message: Option<Message>,
    /// The strategy the loan is in.
    pub strategy: String,
    /// The rule that called for it, and any that moved it.
    pub rule: String,
    /// Why, in plain words.
    pub explanation: String,
}

/// An action the contact rules held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressedAction {
    /// What it would have been.
    pub kind: &'static str,
    /// The rule that held it back.
    pub ruling: Ruling,
}

/// The escalation decision for one loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The stage before.
    pub previous: Stage,
    /// The stage now.
    pub stage: Stage,
    /// How it changed.
    pub transition: Transition,
    /// The champion/challenger strategy the loan is in.
    pub strategy: String,
    /// Promises to pay broken so far.
    pub broken_promises: u32,
    /// Whether open collection tasks close (the loan cured).
    pub close_open_tasks: bool,
    /// What to do.
    pub actions: Vec<Action>,
    /// What the contact rules held back.
    pub suppressed: Vec<SuppressedAction>,
    /// Why the stage is what it is.
    pub explanation: Vec<Ruling>,
}

/// Decides the stage and actions for a loan on `previous` stage: the stage and its promises
/// are judged on the standing's business date, the contacts planned from `now`.
pub fn decide(
    standing: &Standing,
    profile: &ContactProfile,
    history: &[ContactAttempt],
    promises: &[Promise],
    previous: Stage,
    now: DateTime<Utc>,
    policy: &EscalationPolicy,
) -> Decision {
    let today = standing.as_of;
    let strategy = choose_strategy(&standing.loan_id, &policy.strategies);
    let mut explanation = vec![Ruling::new(
        "strategy.stable-hash",
        format!(
            "loan {} falls in strategy {} by a stable hash of its id",
            standing.loan_id, strategy.name
        ),
    )];
    if standing.written_off {
        return recover(
            standing,
            profile,
            history,
            previous,
            now,
            policy,
            strategy,
            explanation,
        );
    }
    let (mut stage, why) = by_dpd(standing, &strategy.ladder, policy.pre_due_days, today);
    explanation.push(why);
    if stage.in_collection() {
        stage = adjust_for_risk(stage, standing, policy, &mut explanation);
    }
    let broken = promises
        .iter()
        .filter(|p| is_broken(p, policy, today))
        .count() as u32;
    let latest = promises.iter().max_by_key(|p| p.date);
    if stage.in_collection() {
        stage = adjust_for_promise(stage, previous, latest, policy, today, &mut explanation);
    }
    let (stage, held) = hold(
        stage,
        previous,
        profile,
        latest,
        policy,
        today,
        &mut explanation,
    );
    let transition = transition(previous, stage, held);
    let (actions, suppressed) = if held && profile.dispute_open {
        (vec![], vec![])
    } else {
        act(stage, standing, profile, history, now, policy, strategy)
    };
    Decision {
        previous,
        stage,
        transition,
        strategy: strategy.name.clone(),
        broken_promises: broken,
        close_open_tasks: transition == Transition::Cured,
        actions,
        suppressed,
        explanation,
    }
}

/// The recovery stage of a loan written off: its contacts through the guard, none while a
/// dispute is open.
#[allow(clippy::too_many_arguments)]
fn recover(
    standing: &Standing,
    profile: &ContactProfile,
    history: &[ContactAttempt],
    previous: Stage,
    now: DateTime<Utc>,
    policy: &EscalationPolicy,
    strategy: &Strategy,
    mut explanation: Vec<Ruling>,
) -> Decision {
    explanation.push(Ruling::new(
        "stage.recovery",
        format!(
            "written off: the recovery strategy asks for the {} still owed",
            standing.overdue
        ),
    ));
    let (actions, suppressed) = if profile.dispute_open {
        explanation.push(dispute_hold());
        (vec![], vec![])
    } else {
        act(
            Stage::Recovery,
            standing,
            profile,
            history,
            now,
            policy,
            strategy,
        )
    };
    Decision {
        previous,
        stage: Stage::Recovery,
        transition: transition(previous, Stage::Recovery, false),
        strategy: strategy.name.clone(),
        broken_promises: 0,
        close_open_tasks: false,
        actions,
        suppressed,
        explanation,
    }
}

/// The strategy a loan falls in: the id's stable hash, mod 100, against the cumulative shares.
fn choose_strategy<'a>(loan_id: &str, strategies: &'a [Strategy]) -> &'a Strategy {
    let point = (stable_hash(loan_id) % 100) as u32;
    let mut upto = 0;
    strategies
        .iter()
        .find(|s| {
            upto += s.share_percent;
            point < upto
        })
        .unwrap_or(&strategies[strategies.len() - 1])
}

fn by_dpd(
    standing: &Standing,
    ladder: &Ladder,
    pre_due_days: u32,
    today: chrono::NaiveDate,
) -> (Stage, Ruling) {
    if let Some(rung) = ladder.stage_for(standing.dpd) {
        let why = format!(
            "{} days past due: {} from {} DPD",
            standing.dpd,
            rung.stage.name(),
            rung.min_dpd
        );
        return (rung.stage, Ruling::new("stage.dpd", why));
    }
    match standing.next_due {
        Some((due, _))
            if due >= today && due - today <= Duration::days(i64::from(pre_due_days)) =>
        {
            (
                Stage::PreDue,
                Ruling::new(
                    "stage.pre-due",
                    format!("nothing overdue; next due {due}, within {pre_due_days} days"),
                ),
            )
        }
        _ => (
            Stage::Current,
            Ruling::new("stage.current", "nothing overdue and nothing due soon"),
        ),
    }
}

fn adjust_for_risk(
    stage: Stage,
    standing: &Standing,
    policy: &EscalationPolicy,
    why: &mut Vec<Ruling>,
) -> Stage {
    let mut stage = stage;
    if let Some(tier) = standing.tier.filter(|t| policy.high_risk_tiers.contains(t)) {
        stage = stage.step(1).min(Stage::Legal).max(stage);
        why.push(Ruling::new(
            "stage.high-risk-tier",
            format!(
                "tier {tier:?} enters each stage one step early: {}",
                stage.name()
            ),
        ));
    }
    if let Some(limit) = policy
        .small_balance
        .filter(|limit| standing.overdue < *limit && stage > Stage::Mid)
    {
        stage = Stage::Mid;
        why.push(Ruling::new(
            "stage.small-balance",
            format!(
                "{} overdue is below the small-balance limit {limit}: no further than mid",
                standing.overdue
            ),
        ));
    }
    stage
}

fn is_broken(promise: &Promise, policy: &EscalationPolicy, today: chrono::NaiveDate) -> bool {
    match promise.status {
        PromiseStatus::Broken => true,
        PromiseStatus::Kept => false,
        PromiseStatus::Open => {
            today > promise.date + Duration::days(i64::from(policy.promise_grace_days))
        }
    }
}

fn adjust_for_promise(
    stage: Stage,
    previous: Stage,
    latest: Option<&Promise>,
    policy: &EscalationPolicy,
    today: chrono::NaiveDate,
    why: &mut Vec<Ruling>,
) -> Stage {
    let Some(promise) = latest else { return stage };
    if is_broken(promise, policy, today) {
        let escalated = stage.step(1);
        why.push(Ruling::new(
            "promise.broken",
            format!(
                "the promise for {} was broken: one stage up, {}",
                promise.date,
                escalated.name()
            ),
        ));
        return escalated;
    }
    if promise.status == PromiseStatus::Kept {
        let eased = stage.min(previous).step(-1).max(Stage::Early);
        why.push(Ruling::new(
            "promise.kept",
            format!(
                "the promise for {} was kept: one stage down, {}",
                promise.date,
                eased.name()
            ),
        ));
        return eased;
    }
    stage
}

/// Holds that keep the stage from rising: an open dispute, a hardship pause, a promise
/// still within its date plus grace. A cure still goes through.
#[allow(clippy::too_many_arguments)]
fn hold(
    stage: Stage,
    previous: Stage,
    profile: &ContactProfile,
    latest: Option<&Promise>,
    policy: &EscalationPolicy,
    today: chrono::NaiveDate,
    why: &mut Vec<Ruling>,
) -> (Stage, bool) {
    if stage <= previous || !stage.in_collection() {
        return (stage, false);
    }
    let pending =
        latest.filter(|p| p.status == PromiseStatus::Open && !is_broken(p, policy, today));
    let reason = if profile.dispute_open {
        Some(dispute_hold())
    } else if profile.hardship {
        Some(Ruling::new(
            "hold.hardship",
            "a hardship pause holds escalation",
        ))
    } else {
        pending.map(|p| {
            let until = p.date + Duration::days(i64::from(policy.promise_grace_days));
            Ruling::new(
                "hold.promise-to-pay",
                format!(
                    "a promise to pay for {} holds escalation until {until}",
                    p.date
                ),
            )
        })
    };
    match reason {
        Some(reason) => {
            why.push(reason);
            (previous, true)
        }
        None => (stage, false),
    }
}

fn dispute_hold() -> Ruling {
    Ruling::new("hold.dispute", "an open dispute holds collection")
}

fn transition(previous: Stage, stage: Stage, held: bool) -> Transition {
    if held {
        Transition::Held
    } else if stage == previous {
        Transition::Unchanged
    } else if previous.in_collection() && !stage.in_collection() {
        Transition::Cured
    } else if stage > previous {
        Transition::Escalated
    } else {
        Transition::DeEscalated
    }
}

/// What each stage does: contacts go through the guard, tasks go to queues.
fn act(
    stage: Stage,
    standing: &Standing,
    profile: &ContactProfile,
    history: &[ContactAttempt],
    now: DateTime<Utc>,
    policy: &EscalationPolicy,
    strategy: &Strategy,
) -> (Vec<Action>, Vec<SuppressedAction>) {
    use Channel::*;
    let (contacts, tasks): (Vec<Channel>, Vec<&'static str>) = match stage {
        Stage::Current | Stage::PreDue => (vec![], vec![]),
        Stage::Early => (vec![Sms, Push, Email], vec![]),
        Stage::Mid => (vec![VoiceCall], vec![]),
        Stage::Late => (vec![Letter, FieldVisit], vec![]),
        Stage::Legal => (vec![], vec!["legal_referral", "credit_bureau_report"]),
        Stage::WriteOffReview => (vec![], vec!["write_off_review"]),
        Stage::Recovery => (vec![Letter, VoiceCall], vec![]),
    };
    let rule = format!("stage.{}", stage.name());
    let mut actions = Vec::new();
    let mut suppressed = Vec::new();
    for channel in contacts {
        match guard::judge(
            &policy.rules,
            profile,
            history,
            channel,
            &standing.loan_id,
            now,
        ) {
            Verdict::Allowed { window, moved } => {
                let message = if channel.is_message() {
                    match messages::compose(
                        Kind::Collection,
                        channel,
                        standing,
                        profile,
                        &policy.messages,
                    ) {
                        Ok(message) => Some(message),
                        Err(ruling) => {
                            suppressed.push(SuppressedAction {
                                kind: channel.name(),
                                ruling,
                            });
                            continue;
                        }
                    }
                } else {
                    None
                };
                let needs_person = matches!(channel, VoiceCall | FieldVisit);
                let (queue, assignee) = if needs_person {
                    assign(stage, standing, policy)
                } else {
                    (None, None)
                };
                actions.push(Action {
                    kind: channel.name(),
                    queue,
                    assignee,
                    window: Some(window),
                    message,
                    strategy: strategy.name.clone(),
                    rule: rule.clone(),
                    explanation: format!(
                        "{} stage contacts by {}{}",
                        stage.name(),
                        channel.name(),
                        guard::moved_note(&moved)
                    ),
                });
            }
            Verdict::Suppressed(ruling) => suppressed.push(SuppressedAction {
                kind: channel.name(),
                ruling,
            }),
        }
    }
    for kind in tasks {
        let (queue, assignee) = assign(stage, standing, policy);
        actions.push(Action {
            kind,
            queue,
            assignee,
            window: None,
            message: None,
            strategy: strategy.name.clone(),
            rule: rule.clone(),
            explanation: format!("{} stage calls for {kind}", stage.name()),
        });
    }
    (actions, suppressed)
}

/// The queue for a stage and tier (`mid`, or `mid-high-risk` for tiers D and E), and the
/// collector in it picked by the loan id's hash: the same inputs always give the same one.
fn assign(
    stage: Stage,
    standing: &Standing,
    policy: &EscalationPolicy,
) -> (Option<String>, Option<String>) {
    let high_risk = standing
        .tier
        .is_some_and(|t| policy.high_risk_tiers.contains(&t));
    let queue = if high_risk {
        format!("{}-high-risk", stage.name())
    } else {
        stage.name().to_owned()
    };
    let assignee = policy
        .queues
        .get(&queue)
        .filter(|c| !c.is_empty())
        .map(|collectors| {
            collectors[(stable_hash(&standing.loan_id) % collectors.len() as u64) as usize].clone()
        });
    (Some(queue), assignee)
}

/// FNV-1a (64-bit) of a loan id: fixed by its definition, so the same id gives the same
/// strategy and assignee on every host and in every version.
fn stable_hash(loan_id: &str) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(loan_id.as_bytes());
    hasher.finish()
}

#[cfg(test)]
mod tests;
