//! `POST /v1/contact-plan`: a loan, its borrower's contact profile and history, and `now` in;
//! the loan's standing, the reminders to send and the escalation decision out — every
//! contact already checked by the compliance guard.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spin_sdk::http::Response;

use crate::input::{LoanJson, PolicyJson};
use crate::postloan::core::contact as wit;
use crate::postloan::core::types;
use crate::postloan::core::types::RiskTier;
use crate::postloan::escalation::escalation::{self, Stage};
use crate::postloan::overdue::overdue;
use crate::postloan::reminders::reminders;
use crate::problem::Problem;
use crate::request::parse;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRequest {
    now: String,
    /// The business date; `now`'s UTC date when left out.
    as_of: Option<String>,
    loan: LoanJson,
    #[serde(default)]
    policy: PolicyJson,
    profile: ProfileJson,
    #[serde(default)]
    history: Vec<AttemptJson>,
    #[serde(default)]
    promises: Vec<PromiseJson>,
    #[serde(default)]
    previous_stage: StageJson,
    tier: Option<TierJson>,
    #[serde(default)]
    contact: ContactPolicyJson,
}

/// What the contact components need of one loan beside its assessment: the borrower, the
/// history of contacts and promises, the stage so far and the tier.
pub struct LoanContact {
    /// The instant contacts are planned from (RFC 3339).
    pub now: String,
    /// The borrower's contact profile.
    pub profile: wit::ContactProfile,
    /// Contacts made, reported or planned with the borrower.
    pub history: Vec<wit::ContactAttempt>,
    /// The loan's promises to pay.
    pub promises: Vec<wit::Promise>,
    /// The stage so far.
    pub previous: Stage,
    /// The behavioural tier, when scored.
    pub tier: Option<RiskTier>,
    /// When the loan is written off: what is still owed of the amount written off, which
    /// the recovery stage asks for in place of the assessment's overdue amount.
    pub still_owed: Option<String>,
}

/// The lender's contact settings as the components take them: read once per tenant and
/// used for each of its loans.
pub struct ContactPolicies {
    reminders: reminders::ReminderPolicy,
    escalation: escalation::EscalationPolicy,
}

impl ContactPolicies {
    /// Reads the lender's contact settings.
    pub fn new(contact: ContactPolicyJson) -> Result<Self, Problem> {
        let rules = rules(contact.rules, contact.custom_rules)?;
        let reminders = reminder_policy(contact.reminders, rules)?;
        let escalation = escalation_policy(contact.escalation, reminders.messages.clone(), rules);
        Ok(Self {
            reminders,
            escalation,
        })
    }
}

/// A borrower's contact profile as posted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileJson {
    name: String,
    language: String,
    time_zone: String,
    #[serde(default)]
    contact_points: Vec<ContactPointJson>,
    #[serde(default)]
    opted_out: Vec<ChannelJson>,
    #[serde(default)]
    do_not_contact: bool,
    #[serde(default)]
    cease_communication: bool,
    #[serde(default)]
    dispute_open: bool,
    #[serde(default)]
    hardship: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactPointJson {
    channel: ChannelJson,
    address: String,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum ChannelJson {
    Sms,
    Email,
    Push,
    Im,
    VoiceCall,
    Letter,
    FieldVisit,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttemptJson {
    loan_id: String,
    channel: ChannelJson,
    at: String,
    outcome: OutcomeJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum OutcomeJson {
    Delivered,
    NoAnswer,
    Connected,
    RightPartyContact,
    PromiseToPay,
    WrongNumber,
    Refused,
    DisputeRaised,
    Planned,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromiseJson {
    amount: String,
    date: String,
    #[serde(default)]
    status: PromiseStatusJson,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case")]
enum PromiseStatusJson {
    #[default]
    Open,
    Kept,
    Broken,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum StageJson {
    #[default]
    Current,
    PreDue,
    Early,
    Mid,
    Late,
    Legal,
    WriteOffReview,
    Recovery,
}

#[derive(Deserialize, Clone, Copy)]
enum TierJson {
    A,
    B,
    C,
    D,
    E,
}

/// The lender's contact settings; all optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ContactPolicyJson {
    rules: RulesJson,
    custom_rules: Option<CustomRulesJson>,
    reminders: RemindersJson,
    escalation: EscalationJson,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case")]
enum RulesJson {
    #[default]
    #[serde(rename = "cn_2025")]
    Cn2025,
    UsRegF,
    Custom,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomRulesJson {
    window_start_hour: u8,
    window_end_hour: u8,
    max_connected_calls_per_day: Option<u32>,
    max_call_attempts_per_seven_days: Option<u32>,
    call_pause_after_conversation_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RemindersJson {
    cadence: Option<Vec<CadenceRuleJson>>,
    templates: BTreeMap<String, String>,
    payment_link: String,
    max_sms_segments: u32,
}

impl Default for RemindersJson {
    fn default() -> Self {
        Self {
            cadence: None,
            templates: BTreeMap::new(),
            payment_link: String::new(),
            max_sms_segments: 3,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CadenceRuleJson {
    id: String,
    days_before_due: Option<u32>,
    #[serde(default)]
    due_day: bool,
    bucket: Option<String>,
    every_days: Option<u32>,
    channels: Vec<ChannelJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct EscalationJson {
    strategies: Option<Vec<StrategyJson>>,
    pre_due_days: u32,
    promise_grace_days: u32,
    high_risk_tiers: Vec<TierJson>,
    small_balance: Option<String>,
    queues: BTreeMap<String, Vec<String>>,
}

impl Default for EscalationJson {
    fn default() -> Self {
        Self {
            strategies: None,
            pre_due_days: 3,
            promise_grace_days: 3,
            high_risk_tiers: vec![TierJson::D, TierJson::E],
            small_balance: None,
            queues: BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrategyJson {
    name: String,
    share_percent: u32,
    ladder: Option<Vec<RungJson>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RungJson {
    stage: StageJson,
    min_dpd: u32,
}

/// Plans the contacts for one loan.
pub fn handle(body: &[u8]) -> Result<Response, Problem> {
    let request: PlanRequest = parse(body)?;
    let as_of = match &request.as_of {
        Some(date) => date.clone(),
        None => request.now.get(..10).unwrap_or_default().to_owned(),
    };
    let policy = request.policy.into_wit()?;
    let assessment =
        overdue::assess(&request.loan.into(), &as_of, &policy).map_err(Problem::from)?;
    let policies = ContactPolicies::new(request.contact)?;
    let inputs = LoanContact {
        now: request.now,
        profile: request.profile.into_wit(),
        history: request.history.into_iter().map(attempt).collect(),
        promises: request.promises.into_iter().map(promise).collect(),
        previous: stage(request.previous_stage),
        tier: request.tier.map(tier),
        still_owed: None,
    };
    Ok(crate::json(200, &plan(&assessment, &policies, inputs)?))
}

#[cfg(feature = "spin")]
impl ProfileJson {
    /// The borrower's IANA time zone, as posted.
    pub fn time_zone(&self) -> &str {
        &self.time_zone
    }
}

/// Checks a lender's contact settings as `plan` would read them.
#[cfg(feature = "spin")]
pub fn check_contact_policy(contact: ContactPolicyJson) -> Result<(), Problem> {
    let rules = rules(contact.rules, contact.custom_rules)?;
    let messages = reminder_policy(contact.reminders, rules)?.messages;
    // The templates, as the components will read them: one stored that does not render
    // would fail every later plan of the tenant.
    postloan_domain::contact::messages::Messages {
        templates: messages
            .templates
            .into_iter()
            .map(|t| (t.key, t.text))
            .collect(),
        payment_link: messages.payment_link,
        max_sms_segments: messages.max_sms_segments,
    }
    .check("contact.reminders.templates")
    .map_err(|e| Problem::invalid_field(e.field, &e.reason))
}

/// Plans reminders and decides escalation for an assessed loan.
pub fn plan(
    assessment: &types::Assessment,
    policies: &ContactPolicies,
    inputs: LoanContact,
) -> Result<PlanJson, Problem> {
    let (case, rest) = reminder_case(assessment, inputs);
    let plan = reminders::plan(
        &case.standing,
        &case.profile,
        &case.history,
        &case.now,
        &policies.reminders,
    )
    .map_err(reminders_problem)?;
    let case = escalation_case(case, rest, &plan);
    let decision = escalation::decide(
        &case.standing,
        &case.profile,
        &case.history,
        &case.promises,
        case.previous,
        &case.now,
        &policies.escalation,
    )
    .map_err(escalation_problem)?;
    Ok(PlanJson::new(assessment, plan, decision))
}

/// [`plan`] for a page of loans: one call of the reminders component and one of escalation
/// for them all. One answer per loan, in order; a settings error fails them all.
#[cfg(feature = "spin")]
pub fn plan_many(
    loans: Vec<(&types::Assessment, LoanContact)>,
    policies: &ContactPolicies,
) -> Result<Vec<Result<PlanJson, Problem>>, Problem> {
    let (assessments, (cases, rests)): (Vec<_>, (Vec<_>, Vec<_>)) = loans
        .into_iter()
        .map(|(assessment, inputs)| (assessment, reminder_case(assessment, inputs)))
        .unzip();
    let plans = reminders::plan_many(&cases, &policies.reminders).map_err(reminders_problem)?;
    let mut planned = Vec::with_capacity(plans.len());
    let mut escalating = Vec::with_capacity(plans.len());
    for ((case, rest), plan) in cases.into_iter().zip(rests).zip(plans) {
        let plan = plan.map_err(reminders_problem);
        if let Ok(plan) = &plan {
            escalating.push(escalation_case(case, rest, plan));
        }
        planned.push(plan);
    }
    let mut decisions = escalation::decide_many(&escalating, &policies.escalation)
        .map_err(escalation_problem)?
        .into_iter();
    Ok(assessments
        .into_iter()
        .zip(planned)
        .map(|(assessment, plan)| {
            let plan = plan?;
            let decision = decisions
                .next()
                .ok_or_else(|| Problem::internal("escalation answered too few loans".into()))?
                .map_err(escalation_problem)?;
            Ok(PlanJson::new(assessment, plan, decision))
        })
        .collect())
}

/// What only escalation reads of a loan's contact inputs.
struct EscalationOnly {
    promises: Vec<wit::Promise>,
    previous: Stage,
}

/// What the reminders component plans a loan from, and what escalation reads beside it.
fn reminder_case(
    assessment: &types::Assessment,
    inputs: LoanContact,
) -> (reminders::ReminderCase, EscalationOnly) {
    let case = reminders::ReminderCase {
        standing: standing(assessment, inputs.tier, inputs.still_owed),
        profile: inputs.profile,
        history: inputs.history,
        now: inputs.now,
    };
    let rest = EscalationOnly {
        promises: inputs.promises,
        previous: inputs.previous,
    };
    (case, rest)
}

/// What escalation decides a loan from: it counts the reminders just planned, so the two
/// never send one channel twice on a day.
fn escalation_case(
    case: reminders::ReminderCase,
    rest: EscalationOnly,
    plan: &reminders::ReminderPlan,
) -> escalation::EscalationCase {
    let mut history = case.history;
    history.extend(
        plan.to_send
            .iter()
            .map(|r| planned(&case.standing.loan_id, r)),
    );
    escalation::EscalationCase {
        standing: case.standing,
        profile: case.profile,
        history,
        promises: rest.promises,
        previous: rest.previous,
        now: case.now,
    }
}

fn reminders_problem(e: reminders::Error) -> Problem {
    match e {
        reminders::Error::InvalidField(f) => Problem::invalid_field(f.field, &f.reason),
        reminders::Error::Other(detail) => {
            Problem::internal(format!("the reminders component failed: {detail}"))
        }
    }
}

fn escalation_problem(e: escalation::Error) -> Problem {
    match e {
        escalation::Error::InvalidField(f) => Problem::invalid_field(f.field, &f.reason),
        escalation::Error::Other(detail) => {
            Problem::internal(format!("the escalation component failed: {detail}"))
        }
    }
}

/// A reminder as a contact planned about `loan_id`.
fn planned(loan_id: &str, reminder: &reminders::Reminder) -> wit::ContactAttempt {
    wit::ContactAttempt {
        loan_id: loan_id.to_owned(),
        channel: reminder.channel,
        at: reminder.window.not_before.clone(),
        outcome: wit::Outcome::Planned,
    }
}

fn standing(
    a: &types::Assessment,
    tier: Option<RiskTier>,
    still_owed: Option<String>,
) -> wit::Standing {
    wit::Standing {
        written_off: still_owed.is_some(),
        overdue: still_owed.unwrap_or_else(|| a.overdue.total.clone()),
        loan_id: a.loan_id.clone(),
        as_of: a.as_of.clone(),
        currency: a.currency.clone(),
        dpd: a.dpd,
        days_in_arrears: a.days_in_arrears,
        bucket: a.bucket.clone(),
        next_due_date: a.next_due.as_ref().map(|n| n.date.clone()),
        next_due_amount: a.next_due.as_ref().map(|n| n.amount.clone()),
        tier,
    }
}

fn tier(tier: TierJson) -> RiskTier {
    match tier {
        TierJson::A => RiskTier::A,
        TierJson::B => RiskTier::B,
        TierJson::C => RiskTier::C,
        TierJson::D => RiskTier::D,
        TierJson::E => RiskTier::E,
    }
}

fn channel(channel: ChannelJson) -> wit::Channel {
    match channel {
        ChannelJson::Sms => wit::Channel::Sms,
        ChannelJson::Email => wit::Channel::Email,
        ChannelJson::Push => wit::Channel::Push,
        ChannelJson::Im => wit::Channel::Im,
        ChannelJson::VoiceCall => wit::Channel::VoiceCall,
        ChannelJson::Letter => wit::Channel::Letter,
        ChannelJson::FieldVisit => wit::Channel::FieldVisit,
    }
}

fn channel_name(channel: wit::Channel) -> &'static str {
    match channel {
        wit::Channel::Sms => "sms",
        wit::Channel::Email => "email",
        wit::Channel::Push => "push",
        wit::Channel::Im => "im",
        wit::Channel::VoiceCall => "voice_call",
        wit::Channel::Letter => "letter",
        wit::Channel::FieldVisit => "field_visit",
    }
}

impl ProfileJson {
    /// The profile as the contact components take it.
    pub fn into_wit(self) -> wit::ContactProfile {
        wit::ContactProfile {
            name: self.name,
            language: self.language,
            time_zone: self.time_zone,
            contact_points: self
                .contact_points
                .into_iter()
                .map(|c| wit::ContactPoint {
                    channel: channel(c.channel),
                    address: c.address,
                })
                .collect(),
            opted_out: self.opted_out.into_iter().map(channel).collect(),
            do_not_contact: self.do_not_contact,
            cease_communication: self.cease_communication,
            dispute_open: self.dispute_open,
            hardship: self.hardship,
        }
    }
}

fn attempt(a: AttemptJson) -> wit::ContactAttempt {
    wit::ContactAttempt {
        loan_id: a.loan_id,
        channel: channel(a.channel),
        at: a.at,
        outcome: match a.outcome {
            OutcomeJson::Delivered => wit::Outcome::Delivered,
            OutcomeJson::NoAnswer => wit::Outcome::NoAnswer,
            OutcomeJson::Connected => wit::Outcome::Connected,
            OutcomeJson::RightPartyContact => wit::Outcome::RightPartyContact,
            OutcomeJson::PromiseToPay => wit::Outcome::PromiseToPay,
            OutcomeJson::WrongNumber => wit::Outcome::WrongNumber,
            OutcomeJson::Refused => wit::Outcome::Refused,
            OutcomeJson::DisputeRaised => wit::Outcome::DisputeRaised,
            OutcomeJson::Planned => wit::Outcome::Planned,
        },
    }
}

fn promise(p: PromiseJson) -> wit::Promise {
    wit::Promise {
        amount: p.amount,
        date: p.date,
        status: match p.status {
            PromiseStatusJson::Open => wit::PromiseStatus::Open,
            PromiseStatusJson::Kept => wit::PromiseStatus::Kept,
            PromiseStatusJson::Broken => wit::PromiseStatus::Broken,
        },
    }
}

const STAGES: [(StageJson, Stage, &str); 8] = [
    (StageJson::Current, Stage::Current, "current"),
    (StageJson::PreDue, Stage::PreDue, "pre_due"),
    (StageJson::Early, Stage::Early, "early"),
    (StageJson::Mid, Stage::Mid, "mid"),
    (StageJson::Late, Stage::Late, "late"),
    (StageJson::Legal, Stage::Legal, "legal"),
    (
        StageJson::WriteOffReview,
        Stage::WriteOffReview,
        "write_off_review",
    ),
    (StageJson::Recovery, Stage::Recovery, "recovery"),
];

fn stage(json: StageJson) -> Stage {
    STAGES
        .iter()
        .find(|(j, _, _)| *j == json)
        .map_or(Stage::Current, |(_, s, _)| *s)
}

/// Whether `name` is a stage's name, as the book stores and filters it.
#[cfg(feature = "spin")]
pub fn is_stage_name(name: &str) -> bool {
    STAGES.iter().any(|(_, _, n)| *n == name)
}

/// The name of the stage a stored name stands for, as the book stores it.
#[cfg(feature = "spin")]
pub fn stored_stage_name(name: &str) -> &'static str {
    stage_name(stage_named(name))
}

/// The stage a stored name stands for; current for a name that is none.
#[cfg(feature = "spin")]
pub fn stage_named(name: &str) -> Stage {
    STAGES
        .iter()
        .find(|(_, _, n)| *n == name)
        .map_or(Stage::Current, |(_, s, _)| *s)
}

/// A contact attempt as the book stores it (channel and outcome by name); none for a name
/// the contact components do not know.
#[cfg(feature = "spin")]
pub fn stored_attempt(
    loan_id: String,
    channel_name: &str,
    at: String,
    outcome_name: &str,
) -> Option<wit::ContactAttempt> {
    fn named(name: &str) -> serde::de::value::StrDeserializer<'_, serde::de::value::Error> {
        serde::de::IntoDeserializer::into_deserializer(name)
    }
    Some(attempt(AttemptJson {
        loan_id,
        channel: ChannelJson::deserialize(named(channel_name)).ok()?,
        at,
        outcome: OutcomeJson::deserialize(named(outcome_name)).ok()?,
    }))
}

/// A promise as the book stores it (status by name: `open`, `kept` or `broken`).
#[cfg(feature = "spin")]
pub fn stored_promise(amount: String, date: String, status: &str) -> wit::Promise {
    promise(PromiseJson {
        amount,
        date,
        status: match status {
            "kept" => PromiseStatusJson::Kept,
            "broken" => PromiseStatusJson::Broken,
            _ => PromiseStatusJson::Open,
        },
    })
}

fn stage_name(stage: Stage) -> &'static str {
    STAGES
        .iter()
        .find(|(_, s, _)| *s == stage)
        .map_or("current", |(_, _, n)| n)
}

fn rules(preset: RulesJson, custom: Option<CustomRulesJson>) -> Result<wit::ContactRules, Problem> {
    Ok(match (preset, custom) {
        (RulesJson::Cn2025, None) => wit::ContactRules::Cn2025,
        (RulesJson::UsRegF, None) => wit::ContactRules::UsRegF,
        (RulesJson::Custom, Some(c)) => wit::ContactRules::Custom(wit::CustomRules {
            window_start_hour: c.window_start_hour,
            window_end_hour: c.window_end_hour,
            max_connected_calls_per_day: c.max_connected_calls_per_day,
            max_call_attempts_per_seven_days: c.max_call_attempts_per_seven_days,
            call_pause_after_conversation_days: c.call_pause_after_conversation_days,
        }),
        (RulesJson::Custom, None) => {
            return Err(Problem::invalid_field(
                "contact.custom_rules".into(),
                "is required when rules is custom",
            ));
        }
        (_, Some(_)) => {
            return Err(Problem::invalid_field(
                "contact.custom_rules".into(),
                "is only for rules custom",
            ));
        }
    })
}

fn reminder_policy(
    r: RemindersJson,
    rules: wit::ContactRules,
) -> Result<reminders::ReminderPolicy, Problem> {
    let cadence = r
        .cadence
        .map(|list| {
            list.into_iter()
                .enumerate()
                .map(|(i, c)| cadence_rule(i, c))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(reminders::ReminderPolicy {
        cadence,
        messages: wit::MessageSettings {
            templates: r
                .templates
                .into_iter()
                .map(|(key, text)| wit::Template { key, text })
                .collect(),
            payment_link: r.payment_link,
            max_sms_segments: r.max_sms_segments,
        },
        rules,
    })
}

/// A cadence rule names exactly one trigger: days before due, the due day, or a bucket.
fn cadence_rule(i: usize, c: CadenceRuleJson) -> Result<reminders::CadenceRule, Problem> {
    let trigger = match (c.days_before_due, c.due_day, c.bucket) {
        (Some(days), false, None) => reminders::Trigger::BeforeDue(days),
        (None, true, None) => reminders::Trigger::DueDay,
        (None, false, Some(bucket)) => reminders::Trigger::InBucket(reminders::BucketCadence {
            bucket,
            every_days: c.every_days.unwrap_or(1),
        }),
        _ => {
            return Err(Problem::invalid_field(
                format!("contact.reminders.cadence[{i}]"),
                "names exactly one of days_before_due, due_day or bucket",
            ));
        }
    };
    Ok(reminders::CadenceRule {
        id: c.id,
        trigger,
        channels: c.channels.into_iter().map(channel).collect(),
    })
}

/// The escalation settings; its messages are written as the reminders are
/// (`contact.reminders`: templates, payment link, SMS segments).
fn escalation_policy(
    e: EscalationJson,
    messages: wit::MessageSettings,
    rules: wit::ContactRules,
) -> escalation::EscalationPolicy {
    escalation::EscalationPolicy {
        strategies: e.strategies.map(|list| {
            list.into_iter()
                .map(|s| escalation::Strategy {
                    name: s.name,
                    share_percent: s.share_percent,
                    ladder: s.ladder.map(|rungs| {
                        rungs
                            .into_iter()
                            .map(|r| escalation::Rung {
                                stage: stage(r.stage),
                                min_dpd: r.min_dpd,
                            })
                            .collect()
                    }),
                })
                .collect()
        }),
        pre_due_days: e.pre_due_days,
        promise_grace_days: e.promise_grace_days,
        high_risk_tiers: e.high_risk_tiers.into_iter().map(tier).collect(),
        small_balance: e.small_balance,
        queues: e
            .queues
            .into_iter()
            .map(|(name, collectors)| escalation::Queue { name, collectors })
            .collect(),
        messages,
        rules,
    }
}

/// The contacts planned for one loan.
#[derive(Serialize)]
pub struct PlanJson {
    loan_id: String,
    as_of: String,
    dpd: u32,
    bucket: String,
    /// The reminders to send.
    pub reminders: Vec<ReminderJson>,
    reminders_suppressed: Vec<HeldBackJson>,
    /// The escalation decision.
    pub escalation: DecisionJson,
}

/// One reminder to send.
#[derive(Serialize)]
pub struct ReminderJson {
    /// The channel's name.
    pub channel: &'static str,
    address: String,
    text: String,
    sms_segments: Option<u32>,
    not_before: String,
    not_after: String,
    /// The cadence rule that fired.
    pub rule: String,
    explanation: String,
}

#[derive(Serialize)]
struct HeldBackJson {
    kind: String,
    rule: String,
    detail: String,
}

/// The escalation decision.
#[derive(Serialize)]
pub struct DecisionJson {
    previous_stage: &'static str,
    /// The stage the loan is in now.
    pub stage: &'static str,
    /// How the stage changed.
    pub transition: &'static str,
    strategy: String,
    broken_promises: u32,
    close_open_tasks: bool,
    /// The collection tasks to open.
    pub actions: Vec<ActionJson>,
    suppressed: Vec<HeldBackJson>,
    explanation: Vec<HeldBackJson>,
}

/// One collection task.
#[derive(Serialize)]
pub struct ActionJson {
    /// What to do: `call`, `letter`, `field_visit`, ...
    pub kind: String,
    /// The collector queue it goes to.
    pub queue: Option<String>,
    assignee: Option<String>,
    not_before: Option<String>,
    not_after: Option<String>,
    /// The message of an electronic contact, as a reminder carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sms_segments: Option<u32>,
    strategy: String,
    /// The rule that produced it.
    pub rule: String,
    explanation: String,
}

fn held_back(h: wit::HeldBack) -> HeldBackJson {
    HeldBackJson {
        kind: h.kind,
        rule: h.reason.rule,
        detail: h.reason.detail,
    }
}

impl PlanJson {
    fn new(a: &types::Assessment, plan: reminders::ReminderPlan, d: escalation::Decision) -> Self {
        Self {
            loan_id: a.loan_id.clone(),
            as_of: a.as_of.clone(),
            dpd: a.dpd,
            bucket: a.bucket.clone(),
            reminders: plan
                .to_send
                .into_iter()
                .map(|r| ReminderJson {
                    channel: channel_name(r.channel),
                    address: r.address,
                    text: r.text,
                    sms_segments: r.sms_segments,
                    not_before: r.window.not_before,
                    not_after: r.window.not_after,
                    rule: r.rule,
                    explanation: r.explanation,
                })
                .collect(),
            reminders_suppressed: plan.suppressed.into_iter().map(held_back).collect(),
            escalation: DecisionJson {
                previous_stage: stage_name(d.previous),
                stage: stage_name(d.stage),
                transition: match d.transition {
                    escalation::Transition::Unchanged => "unchanged",
                    escalation::Transition::Escalated => "escalated",
                    escalation::Transition::DeEscalated => "de_escalated",
                    escalation::Transition::Cured => "cured",
                    escalation::Transition::Held => "held",
                },
                strategy: d.strategy,
                broken_promises: d.broken_promises,
                close_open_tasks: d.close_open_tasks,
                actions: d
                    .actions
                    .into_iter()
                    .map(|a| ActionJson {
                        kind: a.kind,
                        queue: a.queue,
                        assignee: a.assignee,
                        not_before: a.window.as_ref().map(|w| w.not_before.clone()),
                        not_after: a.window.map(|w| w.not_after),
                        address: a.message.as_ref().map(|m| m.address.clone()),
                        sms_segments: a.message.as_ref().and_then(|m| m.sms_segments),
                        text: a.message.map(|m| m.text),
                        strategy: a.strategy,
                        rule: a.rule,
                        explanation: a.explanation,
                    })
                    .collect(),
                suppressed: d.suppressed.into_iter().map(held_back).collect(),
                explanation: d
                    .explanation
                    .into_iter()
                    .map(|r| HeldBackJson {
                        kind: "stage".into(),
                        rule: r.rule,
                        detail: r.detail,
                    })
                    .collect(),
            },
        }
    }

    /// The contacts the contact rules held back, the reminders' then escalation's: the
    /// channel or task, the rule that held it and why.
    #[cfg(feature = "spin")]
    pub fn held_back(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.reminders_suppressed
            .iter()
            .chain(&self.escalation.suppressed)
            .map(|h| (h.kind.as_str(), h.rule.as_str(), h.detail.as_str()))
    }
}
