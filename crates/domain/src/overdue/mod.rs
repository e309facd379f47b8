//! The overdue assessment: allocate payments to the schedule, then measure lateness.
//!
//! The result depends only on the value-dated history: payments are applied in value-date
//! order (payment id breaks ties), so the order in which they arrived never matters.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::loan::{Loan, Payment};
use crate::money::Currency;
use crate::policy::{Classification, LateFee, Observation, Part, Policy};
use crate::reschedule::ReliefKind;

mod explain;
mod ledger;

use ledger::{Ledger, Replay};

/// The parts of an amount owed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Principal part.
    pub principal: Decimal,
    /// Interest part.
    pub interest: Decimal,
    /// Fees part.
    pub fees: Decimal,
    /// Penalty interest part.
    pub penalty: Decimal,
}

impl Breakdown {
    /// The sum of the four parts.
    pub fn total(&self) -> Decimal {
        self.principal + self.interest + self.fees + self.penalty
    }

    pub(super) fn part_mut(&mut self, part: Part) -> &mut Decimal {
        match part {
            Part::Penalty => &mut self.penalty,
            Part::Fees => &mut self.fees,
            Part::Interest => &mut self.interest,
            Part::Principal => &mut self.principal,
        }
    }

    pub(super) fn part(mut self, part: Part) -> Decimal {
        *self.part_mut(part)
    }

    pub(super) fn minus(&self, other: &Self) -> Self {
        Self {
            principal: self.principal - other.principal,
            interest: self.interest - other.interest,
            fees: self.fees - other.fees,
            penalty: self.penalty - other.penalty,
        }
    }

    fn plus(&self, other: &Self) -> Self {
        Self {
            principal: self.principal + other.principal,
            interest: self.interest + other.interest,
            fees: self.fees + other.fees,
            penalty: self.penalty + other.penalty,
        }
    }
}

/// Where an installment stands on the assessment date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallmentStatus {
    /// Nothing is left unpaid.
    Paid,
    /// Some has been paid, the rest is not yet late.
    PartiallyPaid,
    /// Its due date has passed with an amount still unpaid.
    Overdue,
    /// It falls due on the assessment date and nothing has been paid toward it.
    DueToday,
    /// It falls due later and nothing has been paid toward it.
    NotDue,
    /// A restructure or re-age moved what it still owed to new installments.
    Rescheduled,
}

/// One installment as it stood on the assessment date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallmentAssessment {
    /// Position in the schedule.
    pub seq: u32,
    /// Its due date as scheduled.
    pub due_date: NaiveDate,
    /// The date lateness counts from: the due date moved off non-working days by the calendar.
    pub effective_due_date: NaiveDate,
    /// Where it stands.
    pub status: InstallmentStatus,
    /// What payments have covered.
    pub paid: Breakdown,
    /// What is still owed.
    pub unpaid: Breakdown,
    /// The value date of the payment that cleared it.
    pub paid_off_on: Option<NaiveDate>,
    /// Days from due date until cleared, or until the assessment date while unpaid.
    pub days_late: u32,
}

/// A restructure or re-age as it took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rescheduled {
    /// The business date at whose end it took effect.
    pub on: NaiveDate,
    /// Which relief.
    pub kind: ReliefKind,
    /// What was unpaid then and moved to the new installments, part by part.
    pub moved: Breakdown,
    /// Of it, the interest, fees and penalty that joined the principal.
    pub capitalised: Decimal,
    /// The first and last `seq` of the new installments; none when nothing was owed.
    pub new_seqs: Option<(u32, u32)>,
}

/// What one payment paid, as the allocation applied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// The payment's identifier.
    pub payment_id: String,
    /// The date it counts from.
    pub value_date: NaiveDate,
    /// The amount received.
    pub amount: Decimal,
    /// What it paid of each installment (by `seq`), part by part, in the order applied.
    pub applied: Vec<(u32, Breakdown)>,
    /// What was left once everything the schedule asked for was paid: overpaid.
    pub unapplied: Decimal,
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// A stable identifier of the rule.
    pub rule: &'static str,
    /// The rule's finding in plain words.
    pub detail: String,
}

/// A loan as it stood at the end of a business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The loan assessed.
    pub loan_id: String,
    /// The business date.
    pub as_of: NaiveDate,
    /// The loan's currency.
    pub currency: Currency,
    /// Days past due of the oldest installment still unpaid; 0 when nothing is overdue.
    pub dpd: u32,
    /// Days past due less grace days and paused days, never below 0.
    pub days_in_arrears: u32,
    /// The due date of the oldest overdue installment.
    pub overdue_since: Option<NaiveDate>,
    /// What is past due and unpaid.
    pub overdue: Breakdown,
    /// Everything still unpaid, due or not.
    pub outstanding: Breakdown,
    /// The delinquency bucket, read from days in arrears.
    pub bucket: String,
    /// The regulatory classification.
    pub classification: String,
    /// How bad the classification is: 0 is the mildest class of the policy's scheme.
    pub classification_rank: usize,
    /// The next installment falling due on or after the assessment date, and what it still asks for.
    pub next_due: Option<(NaiveDate, Decimal)>,
    /// Money received beyond everything the schedule asks for.
    pub overpaid: Decimal,
    /// The restructures and re-ages that had taken effect, in date order.
    pub reschedules: Vec<Rescheduled>,
    /// Whether the loan counts as forborne (EBA): rescheduled within the last two years, or
    /// since then and more than 30 days past due.
    pub forborne: bool,
    /// Each installment, in schedule order, those a reschedule made after the rest.
    pub installments: Vec<InstallmentAssessment>,
    /// The rules behind the figures.
    pub explanation: Vec<Reason>,
}

/// Assesses `loan` as it stood at the end of `as_of`: reversed payments and payments valued
/// later are left out, and the rest are replayed in value-date order.
pub fn assess(loan: &Loan, as_of: NaiveDate, policy: &Policy) -> Assessment {
    assess_with_glances(loan, as_of, &[], policy).0
}

/// What each payment counted at the end of `as_of` paid, in the order the allocation
/// applied them (value date, then id): the replay [`assess`] makes, so each installment's
/// `paid` is these amounts summed by installment.
pub fn allocations(loan: &Loan, as_of: NaiveDate, policy: &Policy) -> Vec<Allocation> {
    let counted = payments_up_to(loan.standing_payments(), as_of);
    let mut allocations = Vec::new();
    ledger::replay(loan, &counted, &[as_of], policy, true, |_, _, replay| {
        allocations = counted
            .iter()
            .zip(replay.applied.iter().flatten())
            .map(|(payment, applied)| Allocation {
                payment_id: payment.id.clone(),
                value_date: payment.value_date,
                amount: payment.amount,
                applied: applied.to.clone(),
                unapplied: applied.left,
            })
            .collect();
    });
    allocations
}

/// A past day as the behavioural features read it: two figures of the [`Assessment`] that
/// day, without the installments, sums and explanation texts a whole one costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glance {
    /// Days past due at the end of the day, as [`Assessment::dpd`].
    pub dpd: u32,
    /// Whether an installment due by the day was unpaid at its end: overdue, or due that very
    /// day with something left.
    pub left_short: bool,
}

impl Assessment {
    /// The glance at the loan on its assessment date.
    pub fn glance(&self) -> Glance {
        Glance {
            dpd: self.dpd,
            left_short: self.installments.iter().any(|i| {
                i.status == InstallmentStatus::Overdue
                    || (i.effective_due_date == self.as_of && !i.unpaid.total().is_zero())
            }),
        }
    }
}

/// Assesses `loan` at the end of `as_of`, as [`assess`] does, and glances at it at the end of
/// each of `past` (ascending, before `as_of`), in a single replay of its history.
pub fn assess_with_glances(
    loan: &Loan,
    as_of: NaiveDate,
    past: &[NaiveDate],
    policy: &Policy,
) -> (Assessment, Vec<Glance>) {
    debug_assert!(past.is_sorted(), "past dates must be ascending");
    debug_assert!(
        past.last().is_none_or(|d| *d < as_of),
        "past dates come before as_of"
    );
    let counted = payments_up_to(loan.standing_payments(), as_of);
    let checkpoints: Vec<NaiveDate> = past.iter().copied().chain([as_of]).collect();
    let minor_unit = loan.currency().minor_unit();
    let mut glances = Vec::with_capacity(past.len());
    let mut assessment = None;
    ledger::replay(
        loan,
        &counted,
        &checkpoints,
        policy,
        false,
        |date, payments, replay| {
            if date == as_of {
                let then = replay.accrued_to(date, policy);
                assessment = Some(conclude(loan, as_of, &counted[..payments], then, policy));
            } else {
                glances.push(glance(replay, date, policy, minor_unit));
            }
        },
    );
    let assessment = assessment.unwrap_or_else(|| unreachable!("as_of is the last checkpoint"));
    (assessment, glances)
}

/// The glance on `date` from the accounts replayed up to it: what [`judge`] would find of
/// each installment due by then, penalty accrued to the day, and nothing else.
fn glance(replay: &Replay, date: NaiveDate, policy: &Policy, minor_unit: u32) -> Glance {
    let mut dpd = None;
    let mut left_short = false;
    for ledger in replay.ledgers.iter().filter(|l| l.due_date <= date) {
        let then = ledger.accrued_to(date, policy.penalty.as_ref());
        let overdue = then.overdue_on(date, minor_unit);
        if overdue && dpd.is_none() {
            dpd = Some(days_between(ledger.due_date, date));
        }
        left_short |=
            overdue || (ledger.due_date == date && !then.unpaid(minor_unit).total().is_zero());
    }
    Glance {
        dpd: dpd.unwrap_or(0),
        left_short,
    }
}

/// The assessment on `as_of` from the accounts replayed up to it with the `counted` payments.
fn conclude(
    loan: &Loan,
    as_of: NaiveDate,
    counted: &[&Payment],
    replay: Replay,
    policy: &Policy,
) -> Assessment {
    let currency = loan.currency();
    let minor_unit = currency.minor_unit();
    let Replay {
        ledgers,
        rescheduled,
        overpaid,
        breached_since,
        ..
    } = replay;
    let installments: Vec<InstallmentAssessment> = ledgers
        .iter()
        .map(|ledger| judge(ledger, as_of, minor_unit))
        .collect();

    let oldest_overdue = installments
        .iter()
        .find(|i| i.status == InstallmentStatus::Overdue);
    let overdue_since = oldest_overdue.map(|i| i.effective_due_date);
    let dpd = overdue_since.map_or(0, |since| days_between(since, as_of));
    let paused = overdue_since.map_or(0, |since| paused_days(loan, since, as_of));
    let days_in_arrears = dpd.saturating_sub(policy.grace_days).saturating_sub(paused);
    let (_, bucket) = policy.buckets.find(days_in_arrears);
    let (mut classification_rank, classification_reason) = classify(
        &policy.classification,
        days_in_arrears,
        breached_since,
        as_of,
        currency,
    );

    let mut explanation = vec![
        explain::allocation(loan.payments().len(), counted, as_of, policy, currency),
        explain::dpd(oldest_overdue, as_of, currency),
        explain::arrears(dpd, policy.grace_days, paused, days_in_arrears),
        explain::bucket(bucket, days_in_arrears),
        classification_reason,
    ];
    if let Some(late_fee) = &policy.late_fee {
        let charged = late_fees_charged(&ledgers, late_fee);
        explanation.insert(1, explain::late_fees(late_fee, &charged, currency));
    }
    for (k, r) in rescheduled.iter().enumerate() {
        explanation.insert(1 + k, explain::rescheduled(r, currency));
    }
    let observed = policy.observation.as_ref().and_then(|observation| {
        observe(
            observation,
            &policy.classification,
            &rescheduled,
            &installments,
            as_of,
            policy.grace_days,
        )
    });
    if let Some((floor, reason)) = observed {
        classification_rank = classification_rank.max(floor);
        explanation.push(reason);
    }
    let forborne = rescheduled
        .last()
        .is_some_and(|last| forborne(last.on, as_of, dpd));
    if let Some(last) = rescheduled.last().filter(|_| forborne) {
        explanation.push(explain::forborne(last.on, dpd));
    }
    Assessment {
        loan_id: loan.id().to_owned(),
        as_of,
        currency,
        dpd,
        days_in_arrears,
        overdue_since,
        overdue: sum(installments
            .iter()
            .filter(|i| i.status == InstallmentStatus::Overdue)),
        outstanding: sum(installments.iter()),
        bucket: bucket.name.clone(),
        classification: policy.classification.name(classification_rank).to_owned(),
        classification_rank,
        next_due: installments
            .iter()
            .find(|i| i.effective_due_date >= as_of && !i.unpaid.total().is_zero())
            .map(|i| (i.effective_due_date, i.unpaid.total())),
        overpaid,
        reschedules: rescheduled,
        forborne,
        installments,
        explanation,
    }
}

/// EBA forbearance: a forborne exposure stays forborne through a probation period of at
/// least two years, and cannot leave it while more than 30 days past due.
fn forborne(rescheduled_on: NaiveDate, as_of: NaiveDate, dpd: u32) -> bool {
    let probation_ends = rescheduled_on
        .checked_add_months(chrono::Months::new(24))
        .unwrap_or(NaiveDate::MAX);
    as_of < probation_ends || dpd > 30
}

/// The least class the observation after the latest reschedule keeps the loan in, with its
/// reason; none once the period is over or when nothing was left to reschedule.
fn observe(
    observation: &Observation,
    classification: &Classification,
    rescheduled: &[Rescheduled],
    installments: &[InstallmentAssessment],
    as_of: NaiveDate,
    grace_days: u32,
) -> Option<(usize, Reason)> {
    let window = |r: &Rescheduled| observation_window(observation, r, installments);
    let latest = rescheduled.last()?;
    let (starts, ends) = window(latest)?;
    if as_of > ends {
        return None;
    }
    let (first, last) = latest.new_seqs?;
    let paid_late = installments
        .iter()
        .filter(|i| (first..=last).contains(&i.seq) && i.effective_due_date < as_of)
        .find(|i| i.days_late > grace_days);
    let again = rescheduled.iter().rev().nth(1).filter(|previous| {
        window(previous).is_some_and(|(_, previous_ends)| latest.on <= previous_ends)
    });
    let relapse = paid_late
        .map(|i| {
            format!(
                "installment {} of the new schedule was {} days late",
                i.seq, i.days_late
            )
        })
        .or_else(|| {
            again.map(|previous| {
                format!(
                    "it was rescheduled again within the observation of the {} on {}",
                    previous.kind.name(),
                    previous.on
                )
            })
        });
    let floor = if relapse.is_some() {
        observation.relapse
    } else {
        observation.floor
    }
    .min(classification.worst());
    let floor_name = classification.name(floor);
    Some((
        floor,
        explain::observation(latest, starts, ends, relapse, floor_name),
    ))
}

/// When the observation after `r` starts (the first new due date) and ends: the later of
/// `months` after its start and the due date of the `periods`-th new installment.
fn observation_window(
    observation: &Observation,
    r: &Rescheduled,
    installments: &[InstallmentAssessment],
) -> Option<(NaiveDate, NaiveDate)> {
    let (first, last) = r.new_seqs?;
    let dues: Vec<NaiveDate> = installments
        .iter()
        .filter(|i| (first..=last).contains(&i.seq))
        .map(|i| i.effective_due_date)
        .collect();
    let starts = *dues.first()?;
    let by_months = starts
        .checked_add_months(chrono::Months::new(observation.months))
        .unwrap_or(NaiveDate::MAX);
    let periods = usize::try_from(observation.periods).unwrap_or(usize::MAX);
    let by_periods = dues
        .get(periods.saturating_sub(1))
        .or(dues.last())
        .copied()
        .unwrap_or(starts);
    Some((starts, by_months.max(by_periods)))
}

/// The late fees charged by the end of the replay, in schedule order.
fn late_fees_charged(ledgers: &[Ledger], late_fee: &LateFee) -> Vec<explain::LateFeeCharged> {
    ledgers
        .iter()
        .filter(|ledger| !ledger.late_fee.is_zero())
        .filter_map(|ledger| Some((ledger.seq, late_fee.day(ledger.due_date)?, ledger.late_fee)))
        .collect()
}

/// Payments valued on or before `as_of`, in value-date order, id breaking ties, so the
/// order in which they arrived never matters.
fn payments_up_to<'a>(
    payments: impl Iterator<Item = &'a Payment>,
    as_of: NaiveDate,
) -> Vec<&'a Payment> {
    let mut counted: Vec<&Payment> = payments.filter(|p| p.value_date <= as_of).collect();
    counted.sort_by(|a, b| (a.value_date, &a.id).cmp(&(b.value_date, &b.id)));
    counted
}

fn judge(ledger: &Ledger, as_of: NaiveDate, minor_unit: u32) -> InstallmentAssessment {
    let unpaid = ledger.unpaid(minor_unit);
    let effective = ledger.due_date;
    let nothing_paid = ledger.paid.total().is_zero();
    // An installment with nothing scheduled is settled from the start, on its due date.
    let paid_off_on = match ledger.paid_off_on {
        None if ledger.scheduled.total().is_zero()
            && ledger.rescheduled_on.is_none()
            && effective <= as_of =>
        {
            Some(effective)
        }
        other => other,
    };
    let status = if ledger.rescheduled_on.is_some() {
        InstallmentStatus::Rescheduled
    } else if unpaid.total().is_zero() {
        InstallmentStatus::Paid
    } else if effective < as_of && unpaid.total() > ledger.tolerated {
        InstallmentStatus::Overdue
    } else if effective == as_of && nothing_paid {
        InstallmentStatus::DueToday
    } else if effective > as_of && nothing_paid {
        InstallmentStatus::NotDue
    } else {
        // Partly paid and not late yet, or late by no more than tolerance allows.
        InstallmentStatus::PartiallyPaid
    };
    let late_until = match status {
        InstallmentStatus::Overdue => Some(as_of),
        InstallmentStatus::Rescheduled => paid_off_on.or(ledger.rescheduled_on),
        _ => paid_off_on,
    };
    InstallmentAssessment {
        seq: ledger.seq,
        due_date: ledger.scheduled_due,
        effective_due_date: effective,
        status,
        paid: ledger.paid,
        unpaid,
        paid_off_on,
        days_late: late_until.map_or(0, |until| days_between(effective, until)),
    }
}

/// Paused days since the loan fell overdue: from the day after `overdue_since` up to, not
/// including, `as_of`.
fn paused_days(loan: &Loan, overdue_since: NaiveDate, as_of: NaiveDate) -> u32 {
    let first_late_day = overdue_since.succ_opt().unwrap_or(overdue_since);
    loan.pauses()
        .iter()
        .map(|p| p.days_within(first_late_day, as_of))
        .sum()
}

/// The classification's rank, with the reason for it.
fn classify(
    classification: &Classification,
    days_in_arrears: u32,
    breached_since: Option<NaiveDate>,
    as_of: NaiveDate,
    currency: Currency,
) -> (usize, Reason) {
    match classification {
        Classification::Ranges(ranges) => {
            let (rank, range) = ranges.find(days_in_arrears);
            (rank, explain::classification_range(range, days_in_arrears))
        }
        Classification::EbaDefault(materiality) => {
            // The first day of breach counts as day 1, as the day after a due date is 1 DPD.
            let days = breached_since.map_or(0, |since| days_between(since, as_of) + 1);
            let rank = usize::from(days > EBA_DEFAULT_DAYS);
            (
                rank,
                explain::classification_eba(materiality, breached_since, days, currency),
            )
        }
    }
}

/// EBA: past due more than this many consecutive days on a material amount means default.
const EBA_DEFAULT_DAYS: u32 = 90;

/// Whole days from `from` to `to`, 0 when `to` is not later.
fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}

fn sum<'a>(installments: impl Iterator<Item = &'a InstallmentAssessment>) -> Breakdown {
    installments.fold(Breakdown::default(), |total, i| total.plus(&i.unpaid))
}

/// Several loans of one borrower, assessed together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BorrowerAssessment {
    /// Each loan's assessment, in the order given.
    pub loans: Vec<Assessment>,
    /// The worst classification among the loans, before contagion.
    pub worst_classification: String,
    /// Whether the worst classification was applied to every loan.
    pub contagion_applied: bool,
}

/// Assesses a borrower's loans; with `policy.contagion`, the worst classification among them
/// is applied to all (one seriously delinquent loan pulls the others into closer watch).
pub fn assess_borrower(loans: &[Loan], as_of: NaiveDate, policy: &Policy) -> BorrowerAssessment {
    let mut assessments: Vec<Assessment> = loans
        .iter()
        .map(|loan| assess(loan, as_of, policy))
        .collect();
    let worst = assessments
        .iter()
        .max_by_key(|a| a.classification_rank)
        .map(|a| (a.classification_rank, a.loan_id.clone()));
    let (worst_rank, worst_loan) = worst.unwrap_or_default();
    let worst_classification = policy.classification.name(worst_rank).to_owned();
    if policy.contagion {
        for a in assessments
            .iter_mut()
            .filter(|a| a.classification_rank < worst_rank)
        {
            a.explanation.push(explain::contagion(
                &a.classification,
                &worst_classification,
                &worst_loan,
            ));
            a.classification_rank = worst_rank;
            a.classification = worst_classification.clone();
        }
    }
    BorrowerAssessment {
        loans: assessments,
        worst_classification,
        contagion_applied: policy.contagion,
    }
}

#[cfg(test)]
pub(crate) mod tests;
