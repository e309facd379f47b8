//! Replays a loan's value-dated history day by day: penalty accrues on what is overdue,
//! payments are allocated as they arrive, and the EBA materiality breach is tracked.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use super::{Breakdown, Rescheduled};
use crate::loan::{Installment, Loan, Payment};
use crate::policy::{Classification, LateFee, Materiality, Part, Penalty, PenaltyBasis, Policy};
use crate::reschedule::{MAX_MOVED, Reschedule};

/// One installment's account: what it asks for, what was paid, what penalty accrued.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ledger {
    /// Its position in the schedule.
    pub seq: u32,
    /// The date it is due as scheduled.
    pub scheduled_due: NaiveDate,
    /// The date it is due, after the calendar's shift.
    pub due_date: NaiveDate,
    /// Principal, interest and fees as scheduled, the late fee charged among the fees.
    pub scheduled: Breakdown,
    /// The late fee charged, zero until it is.
    pub late_fee: Decimal,
    /// What payments covered.
    pub paid: Breakdown,
    /// The value date of the payment that cleared it.
    pub paid_off_on: Option<NaiveDate>,
    /// Remainders up to this do not make it overdue.
    pub tolerated: Decimal,
    /// The date a restructure or re-age moved its unpaid remainder to new installments.
    pub rescheduled_on: Option<NaiveDate>,
    /// Penalty accrued so far, unrounded; rounded once, when it is read.
    penalty_accrued: Decimal,
    accrued_through: NaiveDate,
}

impl Ledger {
    fn new(installment: &Installment, policy: &Policy) -> Self {
        let scheduled = Breakdown {
            principal: installment.principal,
            interest: installment.interest,
            fees: installment.fees,
            penalty: Decimal::ZERO,
        };
        let tolerated = policy
            .tolerance
            .map_or(Decimal::ZERO, |t| t.threshold(scheduled.total()));
        let due_date = policy.calendar.shift(installment.due_date);
        Self {
            seq: installment.seq,
            scheduled_due: installment.due_date,
            due_date,
            scheduled,
            late_fee: Decimal::ZERO,
            paid: Breakdown::default(),
            paid_off_on: None,
            tolerated,
            rescheduled_on: None,
            penalty_accrued: Decimal::ZERO,
            accrued_through: due_date,
        }
    }

    /// Leaves it asking for no more than was paid: the rest has moved to new installments.
    fn supersede(&mut self, on: NaiveDate) {
        self.scheduled = Breakdown {
            penalty: Decimal::ZERO,
            ..self.paid
        };
        self.penalty_accrued = self.paid.penalty;
        self.rescheduled_on = Some(on);
    }

    /// What it asks for by now, penalty rounded to the minor unit.
    pub fn owed(&self, minor_unit: u32) -> Breakdown {
        let penalty = self
            .penalty_accrued
            .round_dp_with_strategy(minor_unit, RoundingStrategy::MidpointAwayFromZero);
        Breakdown {
            penalty,
            ..self.scheduled
        }
    }

    /// What is still owed.
    pub fn unpaid(&self, minor_unit: u32) -> Breakdown {
        self.owed(minor_unit).minus(&self.paid)
    }

    /// Whether at the end of `date` it is overdue: past its due date with more unpaid than
    /// tolerance allows.
    pub fn overdue_on(&self, date: NaiveDate, minor_unit: u32) -> bool {
        let unpaid = self.unpaid(minor_unit).total();
        self.due_date < date && !unpaid.is_zero() && unpaid > self.tolerated
    }

    /// Unpaid principal, interest and fees: what penalty and materiality are measured on.
    fn unpaid_before_penalty(&self) -> Breakdown {
        Breakdown {
            penalty: Decimal::ZERO,
            ..self.scheduled.minus(&self.paid)
        }
    }

    /// Whether the unpaid remainder, penalty aside, is more than tolerance allows.
    fn above_tolerance(&self) -> bool {
        self.unpaid_before_penalty().total() > self.tolerated
    }

    /// The account as it stands at the end of `date`, penalty accrued up to it.
    pub fn accrued_to(mut self, date: NaiveDate, penalty: Option<&Penalty>) -> Self {
        self.accrue(date, penalty);
        self
    }

    /// Accrues penalty for the days after `accrued_through` up to and including `until`,
    /// on the unpaid basis as it stood over those days: simple interest, actual/365.
    fn accrue(&mut self, until: NaiveDate, penalty: Option<&Penalty>) {
        if until <= self.accrued_through {
            return;
        }
        if let Some(penalty) = penalty.filter(|_| self.above_tolerance()) {
            let unpaid = self.unpaid_before_penalty();
            let basis = match penalty.basis {
                PenaltyBasis::OverduePrincipal => unpaid.principal,
                PenaltyBasis::OverdueTotal => unpaid.total(),
            };
            let days = Decimal::from((until - self.accrued_through).num_days());
            self.penalty_accrued += basis * penalty.annual_rate * days / Decimal::from(365);
        }
        self.accrued_through = until;
    }
}

/// The loan's accounts after replaying its history up to an assessment date.
#[derive(Clone)]
pub(super) struct Replay {
    /// One ledger per installment, in schedule order, those a reschedule made after the rest.
    pub ledgers: Vec<Ledger>,
    /// The restructures and re-ages that have taken effect, in date order.
    pub rescheduled: Vec<Rescheduled>,
    /// Money received beyond everything the schedule asked for.
    pub overpaid: Decimal,
    /// For EBA classification: since when both materiality thresholds have been breached.
    pub breached_since: Option<NaiveDate>,
    /// What each payment counted so far paid, in the order they were applied; kept only
    /// when the replay is asked to (the assessment itself needs the ledgers alone).
    pub applied: Option<Vec<Applied>>,
}

/// What one payment paid when it was applied.
#[derive(Debug, Clone)]
pub(super) struct Applied {
    /// Of each installment (by `seq`), part by part, in the order applied.
    pub to: Vec<(u32, Breakdown)>,
    /// What was left once every installment was paid.
    pub left: Decimal,
}

impl Replay {
    /// The accounts as they stand at the end of `date`, penalty accrued up to it.
    pub fn accrued_to(&self, date: NaiveDate, policy: &Policy) -> Self {
        Self {
            ledgers: self
                .ledgers
                .iter()
                .map(|l| l.accrued_to(date, policy.penalty.as_ref()))
                .collect(),
            rescheduled: self.rescheduled.clone(),
            overpaid: self.overpaid,
            breached_since: self.breached_since,
            // What payments paid does not change as penalty accrues: only the replay reads it.
            applied: None,
        }
    }
}

/// Replays `payments` (standing, in value-date order) and the reschedules against `loan`'s
/// schedule, once, and hands `at` each of `checkpoints` (ascending) with the number of
/// payments counted by then and the accounts after the last event before it;
/// [`Replay::accrued_to`] the checkpoint gives them as they stood at its end. The history
/// up to a date does not depend on what comes after it, so one pass serves every date: the
/// accounts at a checkpoint are those a replay stopping there would give. With
/// `record_allocations`, [`Replay::applied`] says what each payment paid.
pub(super) fn replay(
    loan: &Loan,
    payments: &[&Payment],
    checkpoints: &[NaiveDate],
    policy: &Policy,
    record_allocations: bool,
    mut at: impl FnMut(NaiveDate, usize, &Replay),
) {
    let minor_unit = loan.currency().minor_unit();
    let mut state = Replay {
        ledgers: loan
            .installments()
            .iter()
            .map(|installment| Ledger::new(installment, policy))
            .collect(),
        rescheduled: Vec::new(),
        overpaid: Decimal::ZERO,
        breached_since: None,
        applied: record_allocations.then(|| Vec::with_capacity(payments.len())),
    };
    let materiality = match &policy.classification {
        Classification::EbaDefault(materiality) => Some(*materiality),
        Classification::Ranges(_) => None,
    };
    let last = checkpoints.last().copied().unwrap_or(NaiveDate::MIN);
    let mut pending = payments.iter().filter(|p| p.value_date <= last).peekable();
    let mut reschedules = loan.reschedules().iter().peekable();
    let mut counted = 0;
    let mut checkpoints = checkpoints.iter().copied().peekable();
    let mut emit_before = |date: Option<NaiveDate>, state: &Replay, counted: usize| {
        while let Some(checkpoint) = checkpoints.next_if(|c| date.is_none_or(|d| *c < d)) {
            at(checkpoint, counted, state);
        }
    };
    let late_fee = policy.late_fee.as_ref();
    for date in event_dates(loan, payments, last, policy) {
        emit_before(Some(date), &state, counted);
        for ledger in &mut state.ledgers {
            ledger.accrue(date, policy.penalty.as_ref());
        }
        while let Some(payment) = pending.next_if(|p| p.value_date == date) {
            let mut to = state.applied.is_some().then(Vec::new);
            let left = allocate(
                payment,
                &mut state.ledgers,
                &policy.allocation,
                minor_unit,
                to.as_mut(),
            );
            state.overpaid += left;
            if let (Some(applied), Some(to)) = (state.applied.as_mut(), to) {
                applied.push(Applied { to, left });
            }
            counted += 1;
        }
        if let Some(late_fee) = late_fee {
            charge_late_fees(&mut state, date, late_fee, minor_unit);
        }
        if let Some(reschedule) = reschedules.next_if(|r| r.on == date) {
            apply_reschedule(&mut state, reschedule, loan, policy);
        }
        if let Some(materiality) = materiality {
            let breached = is_material(&state.ledgers, date, materiality);
            state.breached_since = breached.then(|| state.breached_since.unwrap_or(date));
        }
    }
    emit_before(None, &state, counted);
}

/// The days on which something changes: a payment's value date, the day after a due date,
/// when an unpaid installment falls overdue, the day a late fee falls to be charged, and the
/// day a reschedule takes effect. The due dates of every schedule count, those a reschedule
/// makes included: they are known from its terms alone.
fn event_dates(
    loan: &Loan,
    payments: &[&Payment],
    as_of: NaiveDate,
    policy: &Policy,
) -> BTreeSet<NaiveDate> {
    let scheduled = loan.installments().iter().map(|i| i.due_date);
    let rescheduled = loan
        .reschedules()
        .iter()
        .filter(|r| r.on <= as_of)
        .flat_map(Reschedule::due_dates);
    let due_dates: Vec<NaiveDate> = scheduled
        .chain(rescheduled)
        .map(|d| policy.calendar.shift(d))
        .collect();
    let overdue_from = due_dates.iter().filter_map(|d| d.succ_opt());
    let late_fee_days = policy
        .late_fee
        .iter()
        .flat_map(|fee| due_dates.iter().filter_map(|d| fee.day(*d)));
    payments
        .iter()
        .map(|p| p.value_date)
        .chain(loan.reschedules().iter().map(|r| r.on))
        .chain(overdue_from)
        .chain(late_fee_days)
        .filter(|d| *d <= as_of)
        .collect()
}

/// At the end of its date: what every installment still owes (penalty accrued to the day
/// included) moves to the installments the reschedule makes of it, numbered on from the
/// last; unless that is more than [`MAX_MOVED`], when the reschedule is not applied.
fn apply_reschedule(state: &mut Replay, reschedule: &Reschedule, loan: &Loan, policy: &Policy) {
    let currency = loan.currency();
    let minor_unit = currency.minor_unit();
    let superseded =
        |l: &Ledger| l.rescheduled_on.is_none() && !l.unpaid(minor_unit).total().is_zero();
    let moved = state
        .ledgers
        .iter()
        .filter(|l| superseded(l))
        .fold(Breakdown::default(), |sum, l| {
            sum.plus(&l.unpaid(minor_unit))
        });
    if moved.total() > MAX_MOVED {
        return;
    }
    for ledger in state.ledgers.iter_mut().filter(|l| superseded(l)) {
        ledger.supersede(reschedule.on);
    }
    let first_seq = state.ledgers.iter().map(|l| l.seq).max().unwrap_or(0) + 1;
    let made = reschedule.installments(moved, currency, first_seq);
    let new_seqs = made.last().map(|last| (first_seq, last.installment.seq));
    state.ledgers.extend(made.iter().map(|new| Ledger {
        penalty_accrued: new.penalty,
        ..Ledger::new(&new.installment, policy)
    }));
    state.rescheduled.push(Rescheduled {
        on: reschedule.on,
        kind: reschedule.kind(),
        capitalised: reschedule.capitalised(moved),
        moved,
        new_seqs,
    });
}

/// Charges `late_fee` on each installment whose late-fee day is `date` and that is still
/// overdue at its end (after the day's payments), in schedule order, within the loan's cap.
fn charge_late_fees(state: &mut Replay, date: NaiveDate, late_fee: &LateFee, minor_unit: u32) {
    let mut charged: Decimal = state.ledgers.iter().map(|l| l.late_fee).sum();
    for ledger in &mut state.ledgers {
        if late_fee.day(ledger.due_date) != Some(date) || !ledger.overdue_on(date, minor_unit) {
            continue;
        }
        let room = late_fee.cap_per_loan.map(|cap| cap - charged);
        let fee = late_fee.fee(ledger.scheduled.total(), room, minor_unit);
        ledger.scheduled.fees += fee;
        ledger.late_fee = fee;
        charged += fee;
    }
}

/// Applies a payment to the oldest installment with anything unpaid, part by part in
/// `order`, noting in `to` (when asked) what it paid of each; returns what is left after the
/// last installment.
fn allocate(
    payment: &Payment,
    ledgers: &mut [Ledger],
    order: &[Part; 4],
    minor_unit: u32,
    mut to: Option<&mut Vec<(u32, Breakdown)>>,
) -> Decimal {
    let mut left = payment.amount;
    for ledger in ledgers.iter_mut() {
        if left.is_zero() {
            break;
        }
        let owed = ledger.owed(minor_unit);
        let mut paid = Breakdown::default();
        for &part in order {
            let applied = (owed.part(part) - ledger.paid.part(part)).min(left);
            *ledger.paid.part_mut(part) += applied;
            *paid.part_mut(part) += applied;
            left -= applied;
        }
        if let Some(to) = to.as_deref_mut().filter(|_| !paid.total().is_zero()) {
            to.push((ledger.seq, paid));
        }
        if ledger.paid_off_on.is_none() && ledger.unpaid(minor_unit).total().is_zero() {
            ledger.paid_off_on = Some(payment.value_date);
        }
    }
    left
}

/// EBA materiality on `date`: the overdue amount exceeds both the absolute threshold and the
/// relative one (its share of everything owed). Penalty is left out of both.
fn is_material(ledgers: &[Ledger], date: NaiveDate, materiality: Materiality) -> bool {
    let overdue: Decimal = ledgers
        .iter()
        .filter(|l| l.due_date < date)
        .map(|l| l.unpaid_before_penalty().total())
        .sum();
    let exposure: Decimal = ledgers
        .iter()
        .map(|l| l.unpaid_before_penalty().total())
        .sum();
    overdue > materiality.absolute && overdue > materiality.relative * exposure
}
