//! The escalation component: a thin adapter between `postloan:escalation/escalation` and
//! [`postloan_domain::contact::escalation`]. It imports no host capability.

use postloan_contact_wit as contact;
use postloan_domain::FieldError;
use postloan_domain::contact::escalation::{self as domain, EscalationPolicy, Ladder, Rung, Stage};
use postloan_domain::money::parse_amount;

wit_bindgen::generate!({
    world: "postloan:escalation/engine",
    path: "../../wit",
    with: {
        "postloan:core/types@0.1.0": postloan_contact_wit::postloan::core::types,
        "postloan:core/contact@0.1.0": postloan_contact_wit::postloan::core::contact,
    },
});

use contact::wit::{ContactAttempt, ContactProfile, Promise, Standing};
use exports::postloan::escalation::escalation::{self as wit, Error, Guest};

struct Escalation;

impl Guest for Escalation {
    fn decide(
        standing: Standing,
        profile: ContactProfile,
        history: Vec<ContactAttempt>,
        promises: Vec<Promise>,
        previous: wit::Stage,
        now: String,
        policy: wit::EscalationPolicy,
    ) -> Result<wit::Decision, Error> {
        let policy = escalation_policy(policy).map_err(invalid)?;
        decide_case(
            wit::EscalationCase {
                standing,
                profile,
                history,
                promises,
                previous,
                now,
            },
            &policy,
        )
    }

    fn decide_many(
        cases: Vec<wit::EscalationCase>,
        policy: wit::EscalationPolicy,
    ) -> Result<Vec<Result<wit::Decision, Error>>, Error> {
        let policy = escalation_policy(policy).map_err(invalid)?;
        Ok(cases.into_iter().map(|c| decide_case(c, &policy)).collect())
    }
}

fn invalid(e: FieldError) -> Error {
    Error::InvalidField(contact::field_error(e))
}

/// Decides one case under a policy already read.
fn decide_case(
    case: wit::EscalationCase,
    policy: &EscalationPolicy,
) -> Result<wit::Decision, Error> {
    let standing = contact::standing(case.standing).map_err(invalid)?;
    let profile = contact::profile(case.profile).map_err(invalid)?;
    let history = contact::history(case.history).map_err(invalid)?;
    let promises = contact::promises(case.promises).map_err(invalid)?;
    let now = contact::instant("now", &case.now).map_err(invalid)?;
    let d = domain::decide(
        &standing,
        &profile,
        &history,
        &promises,
        stage(case.previous),
        now,
        policy,
    );
    Ok(wit::Decision {
        previous: wit_stage(d.previous),
        stage: wit_stage(d.stage),
        transition: match d.transition {
            domain::Transition::Unchanged => wit::Transition::Unchanged,
            domain::Transition::Escalated => wit::Transition::Escalated,
            domain::Transition::DeEscalated => wit::Transition::DeEscalated,
            domain::Transition::Cured => wit::Transition::Cured,
            domain::Transition::Held => wit::Transition::Held,
        },
        strategy: d.strategy,
        broken_promises: d.broken_promises,
        close_open_tasks: d.close_open_tasks,
        actions: d
            .actions
            .into_iter()
            .map(|a| wit::Action {
                kind: a.kind.to_owned(),
                queue: a.queue,
                assignee: a.assignee,
                window: a.window.as_ref().map(contact::window),
                message: a.message.map(contact::message),
                strategy: a.strategy,
                rule: a.rule,
                explanation: a.explanation,
            })
            .collect(),
        suppressed: d
            .suppressed
            .into_iter()
            .map(|s| contact::held_back(s.kind, s.ruling))
            .collect(),
        explanation: d.explanation.into_iter().map(contact::reason).collect(),
    })
}

const STAGES: [(wit::Stage, Stage); 8] = [
    (wit::Stage::Current, Stage::Current),
    (wit::Stage::PreDue, Stage::PreDue),
    (wit::Stage::Early, Stage::Early),
    (wit::Stage::Mid, Stage::Mid),
    (wit::Stage::Late, Stage::Late),
    (wit::Stage::Legal, Stage::Legal),
    (wit::Stage::WriteOffReview, Stage::WriteOffReview),
    (wit::Stage::Recovery, Stage::Recovery),
];

fn stage(stage: wit::Stage) -> Stage {
    STAGES
        .iter()
        .find(|(w, _)| *w == stage)
        .map_or(Stage::Current, |(_, d)| *d)
}

fn wit_stage(stage: Stage) -> wit::Stage {
    STAGES
        .iter()
        .find(|(_, d)| *d == stage)
        .map_or(wit::Stage::Current, |(w, _)| *w)
}

fn escalation_policy(p: wit::EscalationPolicy) -> Result<EscalationPolicy, FieldError> {
    let strategies = match p.strategies {
        Some(list) => list
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(domain::Strategy {
                    name: s.name,
                    share_percent: s.share_percent,
                    ladder: match s.ladder {
                        Some(rungs) => Ladder::new(
                            &format!("policy.escalation.strategies[{i}].ladder"),
                            rungs
                                .into_iter()
                                .map(|r| Rung {
                                    stage: stage(r.stage),
                                    min_dpd: r.min_dpd,
                                })
                                .collect(),
                        )?,
                        None => Ladder::default_ladder(),
                    },
                })
            })
            .collect::<Result<_, FieldError>>()?,
        None => vec![domain::Strategy {
            name: "champion".into(),
            share_percent: 100,
            ladder: Ladder::default_ladder(),
        }],
    };
    let policy = EscalationPolicy {
        strategies,
        pre_due_days: p.pre_due_days,
        promise_grace_days: p.promise_grace_days,
        high_risk_tiers: p.high_risk_tiers.into_iter().map(contact::tier).collect(),
        small_balance: p
            .small_balance
            .map(|s| parse_amount("policy.escalation.small_balance", &s))
            .transpose()?,
        queues: p
            .queues
            .into_iter()
            .map(|q| (q.name, q.collectors))
            .collect(),
        messages: contact::messages(p.messages),
        rules: contact::rules("policy.escalation.rules", p.rules)?,
    };
    policy.check()?;
    Ok(policy)
}

export!(Escalation);
