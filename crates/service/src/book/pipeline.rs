//! The post-loan pipeline, for one business date: the store reads the facts of a set of
//! loans (one loan for a change, a page for the close), each loan is decided on its own
//! (settle promises → assess → score → plan reminders → decide escalation, through the
//! components), and the store writes the decisions back together: standings, snapshots,
//! the new actions (the outbox) and stage changes in the audit log. Deciding reads and
//! writes nothing, so a loan that fails leaves nothing behind.

use chrono::{DateTime, Days, NaiveDate, Utc};
use postloan_domain::contact::promises;
use postloan_domain::contact::{Promise, PromiseStatus};
use postloan_domain::portfolio::{Recovery, WriteOff};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::db::Db;
use super::store::{self, Candidate, Decision, Facts, Held, PromiseRow, Standing, Stored};
use super::tenants::Settings;
use super::{instant, parse_date};
use crate::assess::BreakdownJson;
use crate::contact_plan::{
    self, ContactPolicies, ContactPolicyJson, LoanContact, PlanJson, ProfileJson,
};
use crate::input::PolicyJson;
use crate::postloan::core::types as wit;
use crate::postloan::overdue::overdue;
use crate::problem::Problem;
use crate::request::from_value;
use crate::score::{self, AssessedJson, Scored};

/// Why a loan is run through the pipeline.
#[derive(Clone, Copy)]
pub enum Origin {
    /// Something happened to it at this instant (an API call or an event): it is assessed
    /// as of that date, or the date it was last assessed for if that is later, so events
    /// arriving out of order never move it back in time.
    Change(DateTime<Utc>),
    /// The close of this business date: it is assessed as of the date, its snapshot is
    /// stored, and contacts are planned from the midnight (UTC) that ends the date.
    Close(NaiveDate),
}

impl Origin {
    /// The instant contacts are planned from.
    fn now(self) -> DateTime<Utc> {
        match self {
            Origin::Change(at) => at,
            Origin::Close(date) => midnight_after(date),
        }
    }
}

/// What every loan of one tenant is decided under, read from its settings once.
pub struct Context {
    policy: wit::Policy,
    /// The contact settings, or why they cannot be read: only planning needs them.
    contact: Result<ContactPolicies, Problem>,
    promise_grace_days: u64,
    /// The days in arrears at which the close writes a loan off, if the tenant says so.
    charge_off_at: Option<u32>,
    /// Every how many days after its write-off the close contacts a written-off loan, when
    /// the tenant's recovery strategy is on.
    recovery_every_days: Option<u32>,
}

impl Context {
    /// Reads the tenant's policy and contact settings.
    pub fn new(settings: &Settings) -> Result<Self, Problem> {
        let policy: PolicyJson = from_value(&or_empty(&settings.policy), "policy")?;
        let contact = from_value::<ContactPolicyJson>(&or_empty(&settings.contact), "contact")
            .and_then(ContactPolicies::new);
        Ok(Self {
            policy: policy.into_wit()?,
            contact,
            promise_grace_days: promise_grace_days(settings),
            charge_off_at: settings.charge_off.map(|c| c.days_in_arrears),
            recovery_every_days: settings.recovery.map(|r| r.every_days),
        })
    }
}

fn or_empty(value: &Value) -> Value {
    if value.is_null() {
        json!({})
    } else {
        value.clone()
    }
}

/// Checks a new loan by assessing it on its disbursement date.
pub fn check_loan(
    loan: &wit::Loan,
    disbursed_on: &str,
    settings: &Settings,
) -> Result<(), Problem> {
    let context = Context::new(settings)?;
    overdue::assess(loan, disbursed_on, &context.policy)
        .map(|_| ())
        .map_err(|e| Problem::from(e).unprefixed("loan."))
}

/// A live assessment and score of a stored loan, as `/v1/assess` answers, counting the
/// promises made and broken as the book holds them.
pub fn live(
    stored: &Stored,
    as_of: &str,
    settings: &Settings,
    promises: &[Value],
) -> Result<Value, Problem> {
    let scored = score::score_assessed(assessed(stored, as_of, settings, promises)?)?;
    serde_json::to_value(AssessedJson::from(scored))
        .map_err(|e| Problem::internal(format!("could not write the assessment: {e}")))
}

/// What each payment of a stored loan counted on `as_of` paid, installment by installment.
pub fn allocations(stored: &Stored, as_of: &str, settings: &Settings) -> Result<Value, Problem> {
    let context = Context::new(settings)?;
    let applied = overdue::allocate(&stored.loan, as_of, &context.policy).map_err(Problem::from)?;
    let applied: Vec<AllocationJson> = applied.into_iter().map(AllocationJson::from).collect();
    serde_json::to_value(applied)
        .map_err(|e| Problem::internal(format!("could not write the allocations: {e}")))
}

/// One payment as the allocation applied it (`overdue.allocate`).
#[derive(Serialize)]
struct AllocationJson {
    payment_id: String,
    value_date: String,
    amount: String,
    applied: Vec<PaidJson>,
    unapplied: String,
}

/// What a payment paid of one installment.
#[derive(Serialize)]
struct PaidJson {
    seq: u32,
    paid: BreakdownJson,
}

impl From<overdue::PaymentAllocation> for AllocationJson {
    fn from(a: overdue::PaymentAllocation) -> Self {
        Self {
            payment_id: a.payment_id,
            value_date: a.value_date,
            amount: a.amount,
            applied: a
                .applied
                .into_iter()
                .map(|p| PaidJson {
                    seq: p.seq,
                    paid: p.paid.into(),
                })
                .collect(),
            unapplied: a.unapplied,
        }
    }
}

/// A stored loan assessed, with its features, on `as_of`, counting the promises made and
/// broken as the book holds them.
pub fn assessed(
    stored: &Stored,
    as_of: &str,
    settings: &Settings,
    promises: &[Value],
) -> Result<overdue::AssessedLoan, Problem> {
    let context = Context::new(settings)?;
    let broken = promises.iter().filter(|p| p["status"] == "broken").count();
    let case = loan_case(stored, as_of.to_owned(), promises.len(), broken);
    assess_many(&context, &[case])?
        .pop()
        .ok_or_else(|| Problem::internal("the overdue component answered no loan".into()))?
        .map_err(Problem::from)
}

/// The case the overdue component assesses for `stored` on `as_of`, with the promises made
/// and broken.
fn loan_case(stored: &Stored, as_of: String, made: usize, broken: usize) -> overdue::LoanCase {
    overdue::LoanCase {
        loan: stored.loan.clone(),
        as_of,
        history: overdue::LoanHistory {
            disbursed_on: Some(stored.disbursed_on.clone()),
            promises_made: made as u32,
            promises_broken: broken as u32,
        },
    }
}

/// Assesses `cases` and reads their features in one call of the overdue component.
fn assess_many(
    context: &Context,
    cases: &[overdue::LoanCase],
) -> Result<Vec<Result<overdue::AssessedLoan, overdue::Error>>, Problem> {
    overdue::assess_many(cases, &context.policy).map_err(Problem::from)
}

/// What one run of the pipeline changed.
#[derive(Default)]
pub struct Refreshed {
    /// The actions it added to the outbox (none that were there already).
    pub new_actions: Vec<Value>,
}

/// Runs loan `loan_id` of `tenant` through the pipeline. Call it inside the transaction of
/// the change that prompted it.
pub fn refresh(
    db: &Db,
    tenant: &str,
    settings: &Settings,
    loan_id: &str,
    origin: Origin,
) -> Result<Refreshed, Problem> {
    let context = Context::new(settings)?;
    let ids = [loan_id.to_owned()];
    let Some(facts) = store::facts(db, tenant, &ids, &attempts_since(origin.now()))?.pop() else {
        return Err(Problem::no_such("loan", loan_id));
    };
    let (_, decided) = decide_all(&context, vec![facts], origin, || true)?
        .pop()
        .ok_or_else(|| Problem::internal(format!("loan {loan_id} was not decided")))?;
    let decision = decided?;
    Ok(Refreshed {
        new_actions: store::write(db, tenant, &[decision], context.policy.contagion)?,
    })
}

/// One page of the close, decided and not yet written.
pub struct Closed {
    /// The loans decided (or failed), in order: the page's progress.
    pub done: Vec<String>,
    /// What to store for the loans decided.
    decisions: Vec<Decision>,
    /// The loans the pipeline failed on, with why; nothing of them is written.
    pub failures: Vec<(String, String)>,
    /// Whether the tenant's policy raises a borrower's loans to their worst classification.
    contagion: bool,
}

impl Closed {
    /// Writes the page's decisions; the actions it added to the outbox.
    pub fn write(&self, db: &Db, tenant: &str) -> Result<Vec<Value>, Problem> {
        store::write(db, tenant, &self.decisions, self.contagion)
    }
}

/// Decides business date `date` for the loans `ids` of `tenant`: reads their facts at once
/// and decides each, writing nothing ([`Closed::write`] does, in the caller's transaction).
/// A loan the pipeline fails on is left out and reported, so one bad loan does not stop the
/// book. Loans are decided while `keep_going` says so (the first always), so a slow page
/// cannot outlast its budget.
pub fn close(
    db: &Db,
    tenant: &str,
    context: &Result<Context, Problem>,
    ids: &[String],
    date: NaiveDate,
    keep_going: impl Fn() -> bool,
) -> Result<Closed, Problem> {
    let origin = Origin::Close(date);
    let facts = store::facts(db, tenant, ids, &attempts_since(origin.now()))?;
    let outcomes = match context {
        Ok(context) => decide_all(context, facts, origin, keep_going)?,
        // Settings that cannot be read fail every loan, counted, as any failing loan.
        Err(problem) => facts
            .into_iter()
            .map(|f| (f.stored.loan.id.clone(), Err(problem.clone())))
            .collect(),
    };
    let mut closed = Closed {
        done: Vec::with_capacity(outcomes.len()),
        decisions: Vec::with_capacity(outcomes.len()),
        failures: Vec::new(),
        contagion: context.as_ref().is_ok_and(|c| c.policy.contagion),
    };
    for (loan_id, decided) in outcomes {
        match decided {
            Ok(decision) => closed.decisions.push(decision),
            Err(problem) => closed
                .failures
                .push((loan_id.clone(), problem.detail().to_string())),
        }
        closed.done.push(loan_id);
    }
    Ok(closed)
}

/// The earliest contact attempt the contact rules look at, planning from `now`: 30 days
/// back covers every window they count in.
fn attempts_since(now: DateTime<Utc>) -> String {
    instant(now - chrono::Duration::days(30))
}

/// A loan decided: its id, and its decision or why it has none.
type Decided = (String, Result<Decision, Problem>);

/// A loan on its way through the steps: its facts with its promises settled, the business
/// date it is decided for and the one it was last assessed for.
struct Pending {
    facts: Facts,
    date: NaiveDate,
    last: Option<NaiveDate>,
    settled: Vec<(String, &'static str)>,
}

impl Pending {
    /// Whether the decision is the loan's standing now: not for a date before the last one
    /// assessed (the standing never moves back).
    fn moves(&self) -> bool {
        self.last.is_none_or(|last| self.date >= last)
    }

    /// The loan's write-off and recoveries, when it is written off by the pending date (a
    /// close catching up a date before its write-off decides it as it was then).
    fn written_off(&self) -> Option<&(WriteOff, Vec<Recovery>)> {
        written_off_by(&self.facts, self.date)
    }
}

fn written_off_by(facts: &Facts, date: NaiveDate) -> Option<&(WriteOff, Vec<Recovery>)> {
    facts.written_off.as_ref().filter(|(w, _)| date >= w.on)
}

/// Decides loans: settles each one's promises, assesses them all and reads their features
/// in one call of the overdue component, scores each while `keep_going` says so (the first
/// always), then plans the contacts of those scored in one call of the reminders component
/// and one of escalation. Each loan decided, with its decision or why it has none, in order;
/// reads and writes nothing.
fn decide_all(
    context: &Context,
    facts: Vec<Facts>,
    origin: Origin,
    keep_going: impl Fn() -> bool,
) -> Result<Vec<Decided>, Problem> {
    let pending: Vec<(String, Result<Pending, Problem>)> = facts
        .into_iter()
        .map(|f| (f.stored.loan.id.clone(), settle(context, f, origin)))
        .collect();
    let cases: Vec<overdue::LoanCase> = pending
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok())
        .map(|p| {
            let promises = &p.facts.promises;
            let broken = promises.iter().filter(|p| p.status == "broken").count();
            loan_case(&p.facts.stored, p.date.to_string(), promises.len(), broken)
        })
        .collect();
    // One answer per case, in order: the loans whose promises could be settled.
    let mut assessed = assess_many(context, &cases)?.into_iter();
    let mut scored = Vec::with_capacity(pending.len());
    for (loan_id, pending) in pending {
        if !scored.is_empty() && !keep_going() {
            break;
        }
        let outcome = pending.and_then(|pending| {
            let assessment = assessed
                .next()
                .ok_or_else(|| Problem::internal(format!("no assessment of loan {loan_id}")))?
                .map_err(Problem::from)?;
            Ok((score::score_assessed(assessment)?, pending))
        });
        scored.push((loan_id, outcome));
    }
    let mut plans = plan_all(context, &scored, origin)?.into_iter();
    Ok(scored
        .into_iter()
        .map(|(loan_id, outcome)| {
            let decision = outcome.and_then(|(scored, pending)| {
                let plan = if needs_plan(context, &scored, &pending, origin) {
                    let plan = plans.next().ok_or_else(|| {
                        Problem::internal(format!("no contact plan of loan {loan_id}"))
                    })?;
                    Some(plan?)
                } else {
                    None
                };
                decide(context, pending, &scored, plan, origin)
            });
            (loan_id, decision)
        })
        .collect())
}

/// A loan scored, with what the steps after scoring read of it.
type ScoredLoan = (String, Result<(Scored, Pending), Problem>);

/// Whether a scored loan has contacts to plan: one written off when its recovery contact is
/// due, or one with something outstanding that the close is not writing off.
fn needs_plan(context: &Context, scored: &Scored, pending: &Pending, origin: Origin) -> bool {
    if pending.written_off().is_some() {
        return recovery_due(context, pending, origin).is_some();
    }
    !is_zero(&scored.assessment.outstanding.total)
        && charge_off(context, scored, pending, origin).is_none()
}

/// What a written-off loan still owes, when the tenant's recovery strategy contacts it at
/// the close of the pending date: every `every_days` days after the write-off, while
/// anything written off is still owed. Its standing stays as the write-off left it, so the
/// date it was last assessed for does not hold the recovery stage back.
fn recovery_due(context: &Context, pending: &Pending, origin: Origin) -> Option<Decimal> {
    let every = i64::from(context.recovery_every_days?);
    let (write_off, recoveries) = pending.written_off()?;
    let days = (pending.date - write_off.on).num_days();
    let owed = write_off.still_owed(recoveries, pending.date);
    let due =
        matches!(origin, Origin::Close(_)) && days > 0 && days % every == 0 && !owed.is_zero();
    due.then_some(owed)
}

/// The close's charge-off of a loan by the tenant's policy: the reason, when the close of
/// a business date that moves the loan's standing (not a catch-up of a date before its
/// last) finds it owing something at or past the policy's days in arrears.
fn charge_off(
    context: &Context,
    scored: &Scored,
    pending: &Pending,
    origin: Origin,
) -> Option<String> {
    let at = context.charge_off_at?;
    let a = &scored.assessment;
    let due = matches!(origin, Origin::Close(_))
        && pending.moves()
        && pending.written_off().is_none()
        && a.days_in_arrears >= at
        && !is_zero(&a.outstanding.total);
    due.then(|| {
        format!(
            "charge-off by the tenant's policy: {} days in arrears, at least {at}",
            a.days_in_arrears
        )
    })
}

/// Plans the contacts of the scored loans that need a plan, in order, in one call of each
/// contact component: one answer per such loan.
fn plan_all(
    context: &Context,
    scored: &[ScoredLoan],
    origin: Origin,
) -> Result<Vec<Result<PlanJson, Problem>>, Problem> {
    let now = origin.now();
    let policies = match &context.contact {
        Ok(policies) => policies,
        // Contact settings that cannot be read fail every loan that needs a plan.
        Err(problem) => {
            let planning = scored.iter().filter(|(_, o)| {
                o.as_ref()
                    .is_ok_and(|(s, p)| needs_plan(context, s, p, origin))
            });
            return Ok(planning.map(|_| Err(problem.clone())).collect());
        }
    };
    // Each loan that needs a plan: `None` once its inputs are in `ready`, or why they
    // cannot be read.
    let mut ready = Vec::new();
    let mut slots = Vec::new();
    for (scored, pending) in scored.iter().filter_map(|(_, o)| o.as_ref().ok()) {
        if !needs_plan(context, scored, pending, origin) {
            continue;
        }
        let still_owed = recovery_due(context, pending, origin);
        match contact_inputs(&pending.facts, scored, now, still_owed) {
            Ok(contact) => {
                ready.push((&scored.assessment, contact));
                slots.push(None);
            }
            Err(problem) => slots.push(Some(problem)),
        }
    }
    let mut planned = contact_plan::plan_many(ready, policies)?.into_iter();
    Ok(slots
        .into_iter()
        .map(|slot| match slot {
            Some(problem) => Err(problem),
            None => planned.next().unwrap_or_else(|| {
                Err(Problem::internal(
                    "the contact components answered too few loans".into(),
                ))
            }),
        })
        .collect())
}

/// The first step: the date a loan is decided for, and its promises settled on it.
fn settle(context: &Context, mut facts: Facts, origin: Origin) -> Result<Pending, Problem> {
    let last = facts
        .stored
        .assessed_on
        .as_deref()
        .map(|d| parse_date("assessed_on", d))
        .transpose()?;
    let date = match origin {
        Origin::Change(at) => at.date_naive().max(last.unwrap_or(NaiveDate::MIN)),
        Origin::Close(date) => date,
    };
    // A date before the one last assessed (a close catching up) leaves the promises as the
    // later date judged them, as it leaves the standing.
    // A loan written off keeps its promises as the write-off left them: its payments since
    // are recoveries, which the schedule never sees.
    let settled = if written_off_by(&facts, date).is_none() && last.is_none_or(|l| date >= l) {
        settle_promises(
            &mut facts.promises,
            &facts.stored.loan,
            date,
            context.promise_grace_days,
        )
    } else {
        Vec::new()
    };
    Ok(Pending {
        facts,
        date,
        last,
        settled,
    })
}

/// The last step: what to store for a loan scored and planned, or written off by the
/// tenant's charge-off policy (then with no plan, no actions, and no snapshot: it leaves the
/// book at the end of the date).
fn decide(
    context: &Context,
    pending: Pending,
    scored: &Scored,
    plan: Option<PlanJson>,
    origin: Origin,
) -> Result<Decision, Problem> {
    let write_off = charge_off(context, scored, &pending, origin)
        .map(|reason| (reason, scored.assessment.outstanding.clone()));
    let recovery = pending.written_off().is_some();
    // Of a written-off loan only the recovery stage moves, with each close.
    let moves = pending.moves() || recovery;
    let Pending {
        facts: Facts { stored, .. },
        date,
        settled,
        ..
    } = pending;
    let mut standing = standing(scored, plan.as_ref());
    if write_off.is_some() || recovery {
        standing.status = "written_off";
    }
    // A loan leaves the book on the stage it was on, and a written-off one stays there but
    // when its recovery contact is planned.
    if write_off.is_some() || (recovery && plan.is_none()) {
        standing.stage = contact_plan::stored_stage_name(&stored.stage);
    }
    let previous_stage = (moves && standing.stage != stored.stage).then(|| stored.stage.clone());
    Ok(Decision {
        loan_id: stored.loan.id.clone(),
        date: date.to_string(),
        at: instant(origin.now()),
        settled,
        // A close catching up a date before the standing's last plans no contact: the loan
        // has moved on since (a change after that date was applied), and so has its stage.
        actions: plan
            .as_ref()
            .filter(|_| moves)
            .map(candidates)
            .transpose()?
            .unwrap_or_default(),
        held: plan
            .iter()
            .filter(|_| moves)
            .flat_map(PlanJson::held_back)
            .map(Held::new)
            .collect(),
        standing,
        moves,
        previous_stage,
        snapshot: matches!(origin, Origin::Close(_)) && write_off.is_none() && !recovery,
        write_off,
        recovery,
    })
}

/// The instant that ends business date `date`.
fn midnight_after(date: NaiveDate) -> DateTime<Utc> {
    date.checked_add_days(Days::new(1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// Whether a decimal string the components wrote is zero.
pub(super) fn is_zero(amount: &str) -> bool {
    amount.parse::<Decimal>().is_ok_and(|a| a.is_zero())
}

/// Days after a promise's date before it counts as broken, from the contact settings
/// (`contact.escalation.promise_grace_days`, 3 by default as in the escalation component).
fn promise_grace_days(settings: &Settings) -> u64 {
    settings.contact["escalation"]["promise_grace_days"]
        .as_u64()
        .unwrap_or(3)
}

/// Judges every promise again by the domain's rule (`contact::promises::settle`), from the
/// payments as they are valued now, so a payment that arrives late but is valued inside a
/// promise's window keeps it. Returns the promises whose status changed, with the new one.
fn settle_promises(
    promises: &mut [PromiseRow],
    loan: &wit::Loan,
    date: NaiveDate,
    grace: u64,
) -> Vec<(String, &'static str)> {
    let payments = paid(loan);
    let mut settled = Vec::new();
    for row in promises.iter_mut() {
        let Some((promise, made_on)) = promise_of(row) else {
            continue;
        };
        let status = match promises::settle(&promise, made_on, &payments, date, grace) {
            PromiseStatus::Open => "open",
            PromiseStatus::Kept => "kept",
            PromiseStatus::Broken => "broken",
        };
        if row.status != status {
            row.status = status.to_owned();
            settled.push((row.id.clone(), status));
        }
    }
    settled
}

/// A promise as the domain reads it, and the day it was made; the book checked both dates
/// and the amount when it stored them.
fn promise_of(row: &PromiseRow) -> Option<(Promise, NaiveDate)> {
    let promise = Promise {
        amount: row.amount.parse().ok()?,
        date: row.date.parse().ok()?,
        status: PromiseStatus::Open,
    };
    Some((promise, row.made_on.parse().ok()?))
}

/// The loan's payments that stand (not reversed): value date and amount.
fn paid(loan: &wit::Loan) -> Vec<(NaiveDate, Decimal)> {
    loan.payments
        .iter()
        .filter(|p| !loan.reversals.iter().any(|r| r.payment_id == p.id))
        .filter_map(|p| Some((p.value_date.parse().ok()?, p.amount.parse().ok()?)))
        .collect()
}

/// What the contact components read of a loan beside its assessment.
fn contact_inputs(
    facts: &Facts,
    scored: &Scored,
    now: DateTime<Utc>,
    still_owed: Option<Decimal>,
) -> Result<LoanContact, Problem> {
    let Facts {
        stored,
        promises,
        attempts,
        ..
    } = facts;
    let profile = ProfileJson::deserialize(&stored.profile).map_err(|e| {
        Problem::internal(format!(
            "the stored contact profile of loan `{}`: {e}",
            stored.loan.id
        ))
    })?;
    Ok(LoanContact {
        now: instant(now),
        profile: profile.into_wit(),
        history: attempts
            .iter()
            .filter_map(|a| {
                contact_plan::stored_attempt(
                    a.loan_id.clone(),
                    &a.channel,
                    a.at.clone(),
                    &a.outcome,
                )
            })
            .collect(),
        promises: promises
            .iter()
            .map(|p| contact_plan::stored_promise(p.amount.clone(), p.date.clone(), &p.status))
            .collect(),
        previous: contact_plan::stage_named(&stored.stage),
        tier: Some(scored.score.risk_tier),
        still_owed: still_owed.map(|owed| owed.to_string()),
    })
}

/// The loan's standing: `closed` with nothing outstanding (no plan), else `active` on the
/// plan's stage.
fn standing(scored: &Scored, plan: Option<&PlanJson>) -> Standing {
    let a = &scored.assessment;
    let (status, stage, queue) = match plan {
        Some(plan) => (
            "active",
            plan.escalation.stage,
            plan.escalation.actions.iter().find_map(|a| a.queue.clone()),
        ),
        None => ("closed", "current", None),
    };
    Standing {
        status,
        dpd: a.dpd,
        bucket: a.bucket.clone(),
        classification: a.classification.clone(),
        classification_rank: a.classification_rank,
        stage,
        queue,
        tier: scored.score.tier,
        score: scored.score.value,
        outstanding_principal: a.outstanding.principal.clone(),
        overdue_amount: a.overdue.total.clone(),
    }
}

/// The plan's reminders, collection tasks and stage change, as outbox actions.
fn candidates(plan: &PlanJson) -> Result<Vec<Candidate>, Problem> {
    let mut candidates = Vec::new();
    for reminder in &plan.reminders {
        candidates.push(Candidate {
            kind: "reminder".into(),
            channel: Some(reminder.channel),
            queue: None,
            rule: reminder.rule.clone(),
            detail: to_value(reminder)?,
        });
    }
    for action in &plan.escalation.actions {
        candidates.push(Candidate {
            kind: action.kind.clone(),
            channel: None,
            queue: action.queue.clone(),
            rule: action.rule.clone(),
            detail: to_value(action)?,
        });
    }
    if plan.escalation.transition != "unchanged" {
        candidates.push(Candidate {
            kind: "stage_change".into(),
            channel: None,
            queue: None,
            rule: plan.escalation.transition.to_owned(),
            detail: to_value(&plan.escalation)?,
        });
    }
    Ok(candidates)
}

fn to_value(value: &impl serde::Serialize) -> Result<Value, Problem> {
    serde_json::to_value(value)
        .map_err(|e| Problem::internal(format!("could not write an action: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn reversed_payments_do_not_stand() {
        let payment = |id: &str, value_date: &str, amount: &str| wit::Payment {
            id: id.into(),
            value_date: value_date.into(),
            amount: amount.into(),
        };
        let loan = wit::Loan {
            id: "L".into(),
            currency: "CNY".into(),
            installments: Vec::new(),
            payments: vec![
                payment("a", "2026-03-02", "100.00"),
                payment("b", "2026-03-03", "50.00"),
            ],
            reversals: vec![wit::Reversal {
                payment_id: "a".into(),
            }],
            pauses: Vec::new(),
            reschedules: Vec::new(),
        };
        assert_eq!(
            paid(&loan),
            vec![(day("2026-03-03"), Decimal::new(5000, 2))]
        );
    }
}
