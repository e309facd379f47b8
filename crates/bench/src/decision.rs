//! The whole per-loan decision the nightly close makes, step by step: the assessment and the
//! behavioural features from one replay, the score by the default scorecard, the reminders
//! plan and the escalation decision (which counts the reminders just planned), under the
//! default contact policies, for a borrower in Asia/Shanghai reachable by SMS, e-mail and push
//! with no contact history.
//!
//! Natively it calls the domain code the four components wrap, on domain values parsed before
//! the clock starts; through Wasm it calls the built components in wasmtime as the close does:
//! `assess-many`, `plan-many` and `decide-many` a page of loans at a time, `score` per loan.
//! So the Wasm/native ratio counts the components' WIT conversions as well as running as Wasm.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::assessment::Sandbox;
use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use wasmtime::Store;
use wasmtime::component::{Component, Linker};

use postloan_domain::contact::escalation::{self, EscalationPolicy, Ladder, Stage, Strategy};
use postloan_domain::contact::guard::ContactRules;
use postloan_domain::contact::messages::Messages;
use postloan_domain::contact::reminders::{self, ReminderPolicy};
use postloan_domain::contact::{Channel, ContactPoint, ContactProfile, Language, Standing, Tier};
use postloan_domain::date::parse_date;
use postloan_domain::loan::{Installment, Loan, Payment};
use postloan_domain::money::Currency;
use postloan_domain::overdue::Assessment;
use postloan_domain::policy::{Penalty, PenaltyBasis, Policy};
use postloan_domain::scoring::{self, History, Scorecard};
use postloan_tests::artifact;

use crate::book::{AS_OF, LoanRecord};

/// Loans per call of a batch function, as the close pages the book.
const PAGE: usize = 100;

/// Microseconds per loan of each step.
#[derive(Serialize, Default, Clone, Copy)]
pub struct Steps {
    pub assessment_features: f64,
    pub score: f64,
    pub reminders: f64,
    pub escalation: f64,
}

impl Steps {
    pub fn total(&self) -> f64 {
        self.assessment_features + self.score + self.reminders + self.escalation
    }
}

/// Runs `step` over `loans` loans, recording its microseconds per loan in `into`.
fn timed<T>(into: &mut f64, loans: usize, step: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = step();
    *into = started.elapsed().as_secs_f64() * 1e6 / loans.max(1) as f64;
    out
}

/// The business date's close plans contacts from the midnight (UTC) that ends it.
fn close_instant() -> Result<(NaiveDate, DateTime<Utc>)> {
    let as_of: NaiveDate = AS_OF.parse()?;
    let next = as_of.succ_opt().context("AS_OF is the last date")?;
    Ok((as_of, next.and_time(chrono::NaiveTime::MIN).and_utc()))
}

/// The decision over the whole book, natively.
pub fn native(book: &[LoanRecord]) -> Result<Steps> {
    let cases = book.iter().map(domain_case).collect::<Result<Vec<_>>>()?;
    let (as_of, now) = close_instant()?;
    let (policy, card) = (domain_policy(), scorecard()?);
    let (remind, escalate, profile) = (reminder_policy(), escalation_policy(), profile()?);
    let mut steps = Steps::default();
    let n = book.len();
    let assessed: Vec<_> = timed(&mut steps.assessment_features, n, || {
        let assess = |(loan, history): &(Loan, History)| {
            scoring::assess_with_features(loan, as_of, &policy, *history)
        };
        cases.iter().map(assess).collect()
    });
    let scores: Vec<_> = timed(&mut steps.score, n, || {
        assessed.iter().map(|(_, f)| card.score(f)).collect()
    });
    let planned: Vec<_> = timed(&mut steps.reminders, n, || {
        let plan = |s: Standing| {
            let plan = reminders::plan(&s, &profile, &[], now, &remind);
            (s, plan)
        };
        let tiers = scores.iter().map(|s| tier(s.tier));
        assessed
            .iter()
            .zip(tiers)
            .map(|((a, _), t)| plan(standing(a, t)))
            .collect()
    });
    let decisions: Vec<_> = timed(&mut steps.escalation, n, || {
        let decide = |(standing, plan): &(Standing, reminders::ReminderPlan)| {
            let history: Vec<_> = plan
                .to_send
                .iter()
                .map(|r| r.planned(&standing.loan_id))
                .collect();
            escalation::decide(
                standing,
                &profile,
                &history,
                &[],
                Stage::Current,
                now,
                &escalate,
            )
        };
        planned.iter().map(decide).collect()
    });
    std::hint::black_box(decisions);
    Ok(steps)
}

/// The scoring component's default scorecard, read by its own parser.
fn scorecard() -> Result<Scorecard> {
    crate::scorecard_json::parse(crate::DEFAULT_SCORECARD)
        .map_err(|e| anyhow!("the default scorecard: {e}"))
}

/// A book loan parsed as the overdue component parses it, with what the close stores beside it.
fn domain_case(r: &LoanRecord) -> Result<(Loan, History)> {
    let currency = Currency::parse("currency", &r.currency)?;
    let installments = r
        .installments
        .iter()
        .map(|i| {
            Ok(Installment {
                seq: i.seq,
                due_date: parse_date("due_date", &i.due_date)?,
                principal: currency.parse_amount("principal", &i.principal)?,
                interest: currency.parse_amount("interest", &i.interest)?,
                fees: currency.parse_amount("fees", &i.fees)?,
            })
        })
        .collect::<Result<_>>()?;
    let payments = r
        .payments
        .iter()
        .map(|p| {
            Ok(Payment {
                id: p.id.clone(),
                value_date: parse_date("value_date", &p.value_date)?,
                amount: currency.parse_amount("amount", &p.amount)?,
            })
        })
        .collect::<Result<_>>()?;
    let reversed = r.reversals.iter().map(|v| v.payment_id.clone()).collect();
    let loan =
        Loan::new(r.id.clone(), currency, installments, payments)?.with_reversals(reversed)?;
    let history = History {
        disbursed_on: Some(parse_date("disbursed_on", &r.disbursed_on)?),
        ..History::default()
    };
    Ok((loan, history))
}

/// The assessment section's policy: 18% penalty on overdue principal, 3 grace days.
fn domain_policy() -> Policy {
    Policy {
        grace_days: 3,
        penalty: Some(Penalty {
            annual_rate: Decimal::new(18, 2),
            basis: PenaltyBasis::OverduePrincipal,
        }),
        ..Policy::default()
    }
}

/// Built-in templates, no payment link, at most 3 SMS segments: the service's default.
fn messages() -> Messages {
    Messages {
        templates: BTreeMap::new(),
        payment_link: String::new(),
        max_sms_segments: 3,
    }
}

/// The default cadence under China's 2025 rules.
fn reminder_policy() -> ReminderPolicy {
    ReminderPolicy {
        cadence: ReminderPolicy::default_cadence(),
        messages: messages(),
        rules: ContactRules::cn_2025(),
    }
}

/// One champion on the default ladder, as the escalation component reads an empty policy.
fn escalation_policy() -> EscalationPolicy {
    EscalationPolicy {
        strategies: vec![Strategy {
            name: "champion".into(),
            share_percent: 100,
            ladder: Ladder::default_ladder(),
        }],
        pre_due_days: 3,
        promise_grace_days: 3,
        high_risk_tiers: vec![Tier::D, Tier::E],
        small_balance: None,
        queues: BTreeMap::new(),
        messages: messages(),
        rules: ContactRules::cn_2025(),
    }
}

/// The bench's borrower: every channel a reminder uses, nothing opted out, no hold.
const ADDRESSES: [(Channel, &str); 3] = [
    (Channel::Sms, "+8613800138000"),
    (Channel::Email, "borrower@example.com"),
    (Channel::Push, "device-token-1"),
];

fn profile() -> Result<ContactProfile> {
    Ok(ContactProfile {
        name: "王芳".into(),
        language: Language::ZhCn,
        time_zone: "Asia/Shanghai".parse().map_err(|e| anyhow!("{e}"))?,
        contact_points: ADDRESSES
            .iter()
            .map(|&(channel, address)| ContactPoint {
                channel,
                address: address.into(),
            })
            .collect(),
        opted_out: vec![],
        do_not_contact: false,
        cease_communication: false,
        dispute_open: false,
        hardship: false,
    })
}

fn tier(tier: scoring::Tier) -> Tier {
    match tier {
        scoring::Tier::A => Tier::A,
        scoring::Tier::B => Tier::B,
        scoring::Tier::C => Tier::C,
        scoring::Tier::D => Tier::D,
        scoring::Tier::E => Tier::E,
    }
}

/// What reminders and escalation read of an assessment, as the service builds it.
fn standing(a: &Assessment, tier: Tier) -> Standing {
    Standing {
        loan_id: a.loan_id.clone(),
        as_of: a.as_of,
        currency: a.currency,
        dpd: a.dpd,
        days_in_arrears: a.days_in_arrears,
        bucket: a.bucket.clone(),
        overdue: a.overdue.total(),
        next_due: a.next_due,
        tier: Some(tier),
        written_off: false,
    }
}

mod wit {
    pub mod overdue {
        wasmtime::component::bindgen!({ world: "postloan:overdue/engine", path: "../../wit" });
    }
    pub mod scoring {
        wasmtime::component::bindgen!({
            world: "postloan:scoring/scorer",
            path: "../../wit",
            with: { "postloan:core/types@0.1.0": super::overdue::postloan::core::types },
        });
    }
    pub mod reminders {
        wasmtime::component::bindgen!({
            world: "postloan:reminders/engine",
            path: "../../wit",
            with: { "postloan:core/types@0.1.0": super::overdue::postloan::core::types },
        });
    }
    pub mod escalation {
        wasmtime::component::bindgen!({
            world: "postloan:escalation/engine",
            path: "../../wit",
            with: {
                "postloan:core/types@0.1.0": super::overdue::postloan::core::types,
                "postloan:core/contact@0.1.0": super::reminders::postloan::core::contact,
            },
        });
    }
}

use wit::escalation::exports::postloan::escalation::escalation as esc;
use wit::overdue::exports::postloan::overdue::overdue as ovd;
use wit::overdue::postloan::core::types as core;
use wit::reminders::exports::postloan::reminders::reminders as rem;
use wit::reminders::postloan::core::contact;
use wit::scoring::exports::postloan::scoring::scoring as sco;

/// The four components, each instantiated once in one store.
struct Components {
    store: Store<Sandbox>,
    overdue: wit::overdue::Engine,
    scorer: wit::scoring::Scorer,
    reminders: wit::reminders::Engine,
    escalation: wit::escalation::Engine,
}

impl Components {
    fn load() -> Result<Self> {
        let engine = crate::assessment::engine()?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
        let mut store = Store::new(&engine, Sandbox::default());
        let component = |name: &str| {
            let path = artifact(&format!("target/wasm32-wasip2/release/{name}.wasm"));
            Component::from_file(&engine, &path)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot load {}", path.display()))
        };
        let overdue = component("postloan_overdue")?;
        let scoring = component("postloan_scoring")?;
        let reminders = component("postloan_reminders")?;
        let escalation = component("postloan_escalation")?;
        Ok(Self {
            overdue: wit::overdue::Engine::instantiate(&mut store, &overdue, &linker)?,
            scorer: wit::scoring::Scorer::instantiate(&mut store, &scoring, &linker)?,
            reminders: wit::reminders::Engine::instantiate(&mut store, &reminders, &linker)?,
            escalation: wit::escalation::Engine::instantiate(&mut store, &escalation, &linker)?,
            store,
        })
    }

    fn assess(
        &mut self,
        page: &[ovd::LoanCase],
        p: &core::Policy,
    ) -> Result<Vec<ovd::AssessedLoan>> {
        let overdue = self.overdue.postloan_overdue_overdue();
        let answers = overdue.call_assess_many(&mut self.store, page, p)?;
        every(answers.map_err(|e| anyhow!("assess-many: {e:?}"))?)
    }

    fn score(&mut self, input: &sco::ScoringInput) -> Result<sco::BehaviourScore> {
        let scoring = self.scorer.postloan_scoring_scoring();
        let score = scoring.call_score(&mut self.store, input)?;
        score.map_err(|e| anyhow!("score: {e:?}"))
    }

    fn plan(
        &mut self,
        page: &[rem::ReminderCase],
        p: &rem::ReminderPolicy,
    ) -> Result<Vec<rem::ReminderPlan>> {
        let reminders = self.reminders.postloan_reminders_reminders();
        let answers = reminders.call_plan_many(&mut self.store, page, p)?;
        every(answers.map_err(|e| anyhow!("plan-many: {e:?}"))?)
    }

    fn decide(
        &mut self,
        page: &[esc::EscalationCase],
        p: &esc::EscalationPolicy,
    ) -> Result<Vec<esc::Decision>> {
        let escalation = self.escalation.postloan_escalation_escalation();
        let answers = escalation.call_decide_many(&mut self.store, page, p)?;
        every(answers.map_err(|e| anyhow!("decide-many: {e:?}"))?)
    }
}

/// A page's answers, or the first loan's error.
fn every<T, E: std::fmt::Debug>(answers: Vec<Result<T, E>>) -> Result<Vec<T>> {
    answers
        .into_iter()
        .map(|a| a.map_err(|e| anyhow!("a loan failed: {e:?}")))
        .collect()
}

/// The decision over the whole book, through the four components.
pub fn wasm(book: &[LoanRecord]) -> Result<Steps> {
    let mut wasm = Components::load()?;
    let cases: Vec<ovd::LoanCase> = book.iter().map(host_case).collect();
    let (_, now) = close_instant()?;
    let now = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let policy = host_policy();
    let (remind, escalate) = (host_reminder_policy(), host_escalation_policy());
    let mut steps = Steps::default();
    let n = book.len();
    let assessed = timed(&mut steps.assessment_features, n, || {
        let pages = cases.chunks(PAGE).map(|page| wasm.assess(page, &policy));
        pages.collect::<Result<Vec<_>>>()
    })?;
    let scored = timed(&mut steps.score, n, || {
        let score = |a: ovd::AssessedLoan| {
            let input = sco::ScoringInput {
                features: a.features,
                assessment: a.assessment,
            };
            let score = wasm.score(&input)?;
            Ok((input.assessment, score.tier))
        };
        assessed
            .into_iter()
            .flatten()
            .map(score)
            .collect::<Result<Vec<_>>>()
    })?;
    let planned = timed(&mut steps.reminders, n, || {
        let case = |(a, tier): &(core::Assessment, core::RiskTier)| rem::ReminderCase {
            standing: host_standing(a, *tier),
            profile: host_profile(),
            history: vec![],
            now: now.clone(),
        };
        let cases: Vec<_> = scored.iter().map(case).collect();
        let plans = cases.chunks(PAGE).map(|page| wasm.plan(page, &remind));
        let plans = plans.collect::<Result<Vec<_>>>()?;
        Ok::<_, anyhow::Error>((cases, plans))
    })?;
    let decisions = timed(&mut steps.escalation, n, || {
        let (cases, plans) = planned;
        let cases: Vec<_> = cases
            .into_iter()
            .zip(plans.into_iter().flatten())
            .map(escalation_case)
            .collect();
        let decisions = cases.chunks(PAGE).map(|page| wasm.decide(page, &escalate));
        decisions.collect::<Result<Vec<_>>>()
    })?;
    std::hint::black_box(decisions);
    Ok(steps)
}

/// What escalation decides from: it counts the reminders just planned, as the close does.
fn escalation_case((case, plan): (rem::ReminderCase, rem::ReminderPlan)) -> esc::EscalationCase {
    let mut history = case.history;
    history.extend(plan.to_send.iter().map(|r| contact::ContactAttempt {
        loan_id: case.standing.loan_id.clone(),
        channel: r.channel,
        at: r.window.not_before.clone(),
        outcome: contact::Outcome::Planned,
    }));
    esc::EscalationCase {
        standing: case.standing,
        profile: case.profile,
        history,
        promises: vec![],
        previous: esc::Stage::Current,
        now: case.now,
    }
}

fn host_standing(a: &core::Assessment, tier: core::RiskTier) -> contact::Standing {
    contact::Standing {
        loan_id: a.loan_id.clone(),
        as_of: a.as_of.clone(),
        currency: a.currency.clone(),
        dpd: a.dpd,
        days_in_arrears: a.days_in_arrears,
        bucket: a.bucket.clone(),
        overdue: a.overdue.total.clone(),
        next_due_date: a.next_due.as_ref().map(|n| n.date.clone()),
        next_due_amount: a.next_due.as_ref().map(|n| n.amount.clone()),
        tier: Some(tier),
        written_off: false,
    }
}

fn host_channel(channel: Channel) -> contact::Channel {
    match channel {
        Channel::Sms => contact::Channel::Sms,
        Channel::Email => contact::Channel::Email,
        Channel::Push => contact::Channel::Push,
        Channel::Im => contact::Channel::Im,
        Channel::VoiceCall => contact::Channel::VoiceCall,
        Channel::Letter => contact::Channel::Letter,
        Channel::FieldVisit => contact::Channel::FieldVisit,
    }
}

/// [`profile`] as WIT.
fn host_profile() -> contact::ContactProfile {
    contact::ContactProfile {
        name: "王芳".into(),
        language: "zh-CN".into(),
        time_zone: "Asia/Shanghai".into(),
        contact_points: ADDRESSES
            .iter()
            .map(|&(c, address)| contact::ContactPoint {
                channel: host_channel(c),
                address: address.into(),
            })
            .collect(),
        opted_out: vec![],
        do_not_contact: false,
        cease_communication: false,
        dispute_open: false,
        hardship: false,
    }
}

fn host_messages() -> contact::MessageSettings {
    contact::MessageSettings {
        templates: vec![],
        payment_link: String::new(),
        max_sms_segments: 3,
    }
}

fn host_reminder_policy() -> rem::ReminderPolicy {
    rem::ReminderPolicy {
        cadence: None,
        messages: host_messages(),
        rules: contact::ContactRules::Cn2025,
    }
}

fn host_escalation_policy() -> esc::EscalationPolicy {
    esc::EscalationPolicy {
        strategies: None,
        pre_due_days: 3,
        promise_grace_days: 3,
        high_risk_tiers: vec![core::RiskTier::D, core::RiskTier::E],
        small_balance: None,
        queues: vec![],
        messages: host_messages(),
        rules: contact::ContactRules::Cn2025,
    }
}

/// [`domain_policy`] as WIT.
fn host_policy() -> core::Policy {
    core::Policy {
        grace_days: 3,
        tolerance: None,
        allocation: None,
        penalty: Some(core::Penalty {
            annual_rate: "0.18".into(),
            basis: core::PenaltyBasis::OverduePrincipal,
        }),
        late_fee: None,
        buckets: None,
        classification: None,
        calendar: None,
        contagion: false,
    }
}

fn host_case(r: &LoanRecord) -> ovd::LoanCase {
    let installments = r.installments.iter().map(|i| core::Installment {
        seq: i.seq,
        due_date: i.due_date.clone(),
        principal: i.principal.clone(),
        interest: i.interest.clone(),
        fees: i.fees.clone(),
    });
    let payments = r.payments.iter().map(|p| core::Payment {
        id: p.id.clone(),
        value_date: p.value_date.clone(),
        amount: p.amount.clone(),
    });
    let reversals = r.reversals.iter().map(|v| core::Reversal {
        payment_id: v.payment_id.clone(),
    });
    ovd::LoanCase {
        loan: core::Loan {
            id: r.id.clone(),
            currency: r.currency.clone(),
            installments: installments.collect(),
            payments: payments.collect(),
            reversals: reversals.collect(),
            pauses: vec![],
            reschedules: vec![],
        },
        as_of: AS_OF.into(),
        history: ovd::LoanHistory {
            disbursed_on: Some(r.disbursed_on.clone()),
            promises_made: 0,
            promises_broken: 0,
        },
    }
}
