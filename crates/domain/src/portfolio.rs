//! Portfolio measures lenders watch, read from the per-loan snapshots that the nightly
//! close-of-business run stores for each business date: the aging table, PAR30/PAR90, the
//! NPL ratio, overdue rates, roll and cure rates, the promise-to-pay kept rate, and the
//! losses: charge-offs and what was recovered after them.
//!
//! Balances are outstanding principal. Every ratio is exact decimal arithmetic rounded once,
//! to [`RATIO_DECIMALS`] places with ties to even, and is none when its denominator is zero:
//! an empty book has no PAR, not a PAR of 0.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::policy::class;

/// Decimal places every ratio is rounded to.
pub const RATIO_DECIMALS: u32 = 4;

/// One loan as it stood at the end of a business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The loan.
    pub loan_id: String,
    /// Days past due; 0 when nothing is overdue.
    pub dpd: u32,
    /// The delinquency bucket, such as `M1`.
    pub bucket: String,
    /// The regulatory classification, such as `normal` or `substandard`.
    pub classification: String,
    /// Principal still owed, due or not; never negative.
    pub outstanding_principal: Decimal,
    /// Everything past due and unpaid.
    pub overdue_amount: Decimal,
}

/// A promise to pay and whether it was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromiseOutcome {
    /// The date the borrower promised to pay by.
    pub due: NaiveDate,
    /// Whether it was kept; none while still open.
    pub kept: Option<bool>,
}

/// The book split by delinquency bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aging {
    /// One row per bucket: the policy's buckets in order, then any other bucket met.
    pub rows: Vec<AgingRow>,
    /// The whole book.
    pub totals: AgingTotals,
}

/// One bucket of the aging table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingRow {
    /// The bucket's name.
    pub bucket: String,
    /// Loans in the bucket.
    pub loans: u32,
    /// Their outstanding principal.
    pub outstanding_principal: Decimal,
    /// Their share of the book's outstanding principal; none when the book's is zero.
    pub share: Option<Decimal>,
}

/// The whole book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingTotals {
    /// Loans.
    pub loans: u32,
    /// Outstanding principal.
    pub outstanding_principal: Decimal,
    /// Amount past due and unpaid.
    pub overdue_amount: Decimal,
}

/// The headline ratios of a book; each is none when its denominator is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratios {
    /// Outstanding principal of loans more than 30 days past due over the book's.
    pub par30: Option<Decimal>,
    /// Outstanding principal of loans more than 90 days past due over the book's.
    pub par90: Option<Decimal>,
    /// Outstanding principal classified substandard, doubtful or loss over the book's.
    pub npl_ratio: Option<Decimal>,
    /// Outstanding principal of loans past due at all over the book's.
    pub overdue_rate: Option<Decimal>,
    /// Loans past due at all over all loans.
    pub overdue_rate_by_count: Option<Decimal>,
}

/// Where a bucket's balance went between two business dates, split by each loan's bucket at
/// the later date. `to_next` is part of `worse`; the other five parts add up to the whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flows {
    /// In exactly the next bucket: the roll rate in the usual sense.
    pub to_next: Decimal,
    /// In a worse bucket, the next or beyond: the roll-forward rate.
    pub worse: Decimal,
    /// In the same bucket.
    pub same: Decimal,
    /// In a better bucket.
    pub better: Decimal,
    /// Absent at the later date and not written off: paid off or closed.
    pub closed: Decimal,
    /// Written off (charged off) by the later date.
    pub written_off: Decimal,
    /// In a bucket the policy does not list, so it cannot be ranked.
    pub unranked: Decimal,
}

/// One bucket's roll between two business dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollRow {
    /// The bucket at the earlier date.
    pub bucket: String,
    /// Loans in it at the earlier date.
    pub loans: u32,
    /// Their outstanding principal at the earlier date.
    pub balance: Decimal,
    /// That balance split by where each loan stood at the later date.
    pub amounts: Flows,
    /// Each part of `amounts` over `balance`; none when the balance is zero.
    pub rates: Option<Flows>,
}

/// Roll and cure rates between two business dates, weighted by the earlier date's
/// outstanding principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollRates {
    /// One row per bucket of the policy, in its order.
    pub rows: Vec<RollRow>,
    /// Earlier-date balance in buckets the policy does not list, left out of `rows`.
    pub unranked_balance: Decimal,
    /// Earlier-date balance of loans past due then.
    pub delinquent_balance: Decimal,
    /// The part of it whose loans were not past due, or were paid off or closed, at the later
    /// date; a loan written off is not cured.
    pub cured_balance: Decimal,
    /// `cured_balance` over `delinquent_balance`; none when nothing was past due.
    pub cure_rate: Option<Decimal>,
}

/// The aging table: loans and outstanding principal per bucket, in the order of `buckets`
/// (the policy's, mildest first), then any other bucket in the order first met.
pub fn aging(snapshots: &[Snapshot], buckets: &[String]) -> Aging {
    let mut rows: Vec<AgingRow> = Vec::with_capacity(buckets.len());
    let mut row_of: HashMap<&str, usize> = HashMap::with_capacity(buckets.len());
    let names = buckets.iter().chain(snapshots.iter().map(|s| &s.bucket));
    for name in names {
        row_of.entry(name).or_insert_with(|| {
            rows.push(AgingRow {
                bucket: name.clone(),
                loans: 0,
                outstanding_principal: Decimal::ZERO,
                share: None,
            });
            rows.len() - 1
        });
    }
    for snapshot in snapshots {
        let row = &mut rows[row_of[snapshot.bucket.as_str()]];
        row.loans = row.loans.saturating_add(1);
        row.outstanding_principal += snapshot.outstanding_principal;
    }
    let totals = AgingTotals {
        loans: count(snapshots.len()),
        outstanding_principal: principal(snapshots.iter()),
        overdue_amount: snapshots.iter().map(|s| s.overdue_amount).sum(),
    };
    for row in &mut rows {
        row.share = ratio(row.outstanding_principal, totals.outstanding_principal);
    }
    Aging { rows, totals }
}

/// PAR30, PAR90, the NPL ratio and the overdue rates of the book in `snapshots`.
pub fn ratios(snapshots: &[Snapshot]) -> Ratios {
    let book = principal(snapshots.iter());
    let share_where =
        |keep: fn(&Snapshot) -> bool| ratio(principal(snapshots.iter().filter(|s| keep(s))), book);
    let overdue_loans = count(snapshots.iter().filter(|s| s.dpd > 0).count());
    Ratios {
        par30: share_where(|s| s.dpd > 30),
        par90: share_where(|s| s.dpd > 90),
        npl_ratio: share_where(|s| class::NON_PERFORMING.contains(&s.classification.as_str())),
        overdue_rate: share_where(|s| s.dpd > 0),
        overdue_rate_by_count: ratio(
            Decimal::from(overdue_loans),
            Decimal::from(count(snapshots.len())),
        ),
    }
}

/// Roll and cure rates from the snapshots of one business date (`from`) to those of a later
/// one (`to`), weighted by each loan's outstanding principal at `from`. Loans are matched by
/// id; a loan absent at `to` was written off if `written_off` (the loans written off by `to`)
/// names it, else closed or paid off; one new at `to` is not counted. Buckets rank by their
/// position in `buckets`, mildest first.
pub fn roll_rates(
    from: &[Snapshot],
    to: &[Snapshot],
    written_off: &[String],
    buckets: &[String],
) -> RollRates {
    let rank = ranks(buckets);
    let written_off: HashSet<&str> = written_off.iter().map(String::as_str).collect();
    let mut later: HashMap<&str, &Snapshot> = HashMap::with_capacity(to.len());
    for snapshot in to {
        // One snapshot per loan and date is expected; should one repeat, the first counts.
        later.entry(snapshot.loan_id.as_str()).or_insert(snapshot);
    }
    let mut rows: Vec<RollRow> = buckets_in_order(buckets)
        .map(|bucket| RollRow {
            bucket: bucket.clone(),
            loans: 0,
            balance: Decimal::ZERO,
            amounts: Flows::default(),
            rates: None,
        })
        .collect();
    let mut unranked_balance = Decimal::ZERO;
    for snapshot in from {
        let Some(&position) = rank.get(snapshot.bucket.as_str()) else {
            unranked_balance += snapshot.outstanding_principal;
            continue;
        };
        let row = &mut rows[position];
        row.loans = row.loans.saturating_add(1);
        row.balance += snapshot.outstanding_principal;
        let then = match later.get(snapshot.loan_id.as_str()) {
            None if written_off.contains(snapshot.loan_id.as_str()) => Then::WrittenOff,
            None => Then::Gone,
            Some(now) => rank
                .get(now.bucket.as_str())
                .map_or(Then::Unranked, |&rank| Then::Ranked(rank)),
        };
        row.amounts
            .add(position, then, snapshot.outstanding_principal);
    }
    for row in &mut rows {
        row.rates = rates(&row.amounts, row.balance);
    }
    let delinquent = || from.iter().filter(|s| s.dpd > 0);
    let delinquent_balance = principal(delinquent());
    let cured = |s: &&Snapshot| match later.get(s.loan_id.as_str()) {
        Some(now) => now.dpd == 0,
        None => !written_off.contains(s.loan_id.as_str()),
    };
    let cured_balance = principal(delinquent().filter(cured));
    RollRates {
        rows,
        unranked_balance,
        delinquent_balance,
        cured_balance,
        cure_rate: ratio(cured_balance, delinquent_balance),
    }
}

/// Kept promises over resolved ones, among promises falling due after `from` up to and
/// including `to`; open promises are left out. None when no promise in the window resolved.
pub fn promise_kept_rate(
    promises: &[PromiseOutcome],
    from: NaiveDate,
    to: NaiveDate,
) -> Option<Decimal> {
    let resolved: Vec<bool> = promises
        .iter()
        .filter(|p| from < p.due && p.due <= to)
        .filter_map(|p| p.kept)
        .collect();
    let kept = resolved.iter().filter(|&&kept| kept).count();
    ratio(
        Decimal::from(count(kept)),
        Decimal::from(count(resolved.len())),
    )
}

/// A loan written off (charged off): when, and what was charged off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOff {
    /// The loan.
    pub loan_id: String,
    /// The business date it left the book.
    pub on: NaiveDate,
    /// The principal charged off.
    pub principal: Decimal,
    /// Everything charged off: principal, interest, fees and penalty.
    pub total: Decimal,
}

impl WriteOff {
    /// What is still owed of it at the end of `date`: the total written off less the
    /// recoveries of its loan valued by then, never below nothing.
    pub fn still_owed(&self, recoveries: &[Recovery], date: NaiveDate) -> Decimal {
        let recovered: Decimal = recoveries
            .iter()
            .filter(|r| r.loan_id == self.loan_id && r.value_date <= date)
            .map(|r| r.amount)
            .sum();
        (self.total - recovered).max(Decimal::ZERO)
    }
}

/// Money received on a loan after it was written off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The loan.
    pub loan_id: String,
    /// The value date.
    pub value_date: NaiveDate,
    /// The amount.
    pub amount: Decimal,
}

/// Charge-offs over a period after one business date up to and including a later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Losses {
    /// Principal written off in the period.
    pub charged_off_principal: Decimal,
    /// Recoveries valued in the period, on loans written off at any time.
    pub recovered: Decimal,
    /// Principal written off in the period over the book's outstanding principal at its start.
    pub gross_charge_off_rate: Option<Decimal>,
    /// The same less the period's recoveries, over the same book.
    pub net_charge_off_rate: Option<Decimal>,
    /// Everything recovered up to the period's end over everything charged off up to it, on
    /// the loans written off by then.
    pub recovery_rate: Option<Decimal>,
}

/// The losses after `from` up to and including `to`, against `book`, the outstanding principal
/// at `from`; the period's rates are not annualised.
pub fn losses(
    book: Decimal,
    write_offs: &[WriteOff],
    recoveries: &[Recovery],
    from: NaiveDate,
    to: NaiveDate,
) -> Losses {
    let in_period = |date: NaiveDate| from < date && date <= to;
    let charged_off_principal: Decimal = write_offs
        .iter()
        .filter(|w| in_period(w.on))
        .map(|w| w.principal)
        .sum();
    let recovered: Decimal = recoveries
        .iter()
        .filter(|r| in_period(r.value_date))
        .map(|r| r.amount)
        .sum();
    let by_then: HashSet<&str> = write_offs
        .iter()
        .filter(|w| w.on <= to)
        .map(|w| w.loan_id.as_str())
        .collect();
    let charged_off_by_then: Decimal = write_offs
        .iter()
        .filter(|w| w.on <= to)
        .map(|w| w.total)
        .sum();
    let recovered_by_then: Decimal = recoveries
        .iter()
        .filter(|r| r.value_date <= to && by_then.contains(r.loan_id.as_str()))
        .map(|r| r.amount)
        .sum();
    Losses {
        charged_off_principal,
        recovered,
        gross_charge_off_rate: ratio(charged_off_principal, book),
        net_charge_off_rate: ratio(charged_off_principal - recovered, book),
        recovery_rate: ratio(recovered_by_then, charged_off_by_then),
    }
}

/// Where a loan stood at the later date.
#[derive(Clone, Copy)]
enum Then {
    /// Absent and not written off: closed or paid off.
    Gone,
    /// Absent, written off.
    WrittenOff,
    /// In a bucket the policy does not list.
    Unranked,
    /// In the bucket of this rank.
    Ranked(usize),
}

impl Flows {
    /// Adds the balance of a loan that moved from the bucket ranked `from` to `then`.
    fn add(&mut self, from: usize, then: Then, balance: Decimal) {
        let part = match then {
            Then::Gone => &mut self.closed,
            Then::WrittenOff => &mut self.written_off,
            Then::Unranked => &mut self.unranked,
            Then::Ranked(to) if to > from => &mut self.worse,
            Then::Ranked(to) if to < from => &mut self.better,
            Then::Ranked(_) => &mut self.same,
        };
        *part += balance;
        if matches!(then, Then::Ranked(to) if to == from + 1) {
            self.to_next += balance;
        }
    }
}

fn rates(amounts: &Flows, balance: Decimal) -> Option<Flows> {
    let rate = |part| ratio(part, balance);
    Some(Flows {
        to_next: rate(amounts.to_next)?,
        worse: rate(amounts.worse)?,
        same: rate(amounts.same)?,
        better: rate(amounts.better)?,
        closed: rate(amounts.closed)?,
        written_off: rate(amounts.written_off)?,
        unranked: rate(amounts.unranked)?,
    })
}

/// The policy's buckets with repeats dropped, so each gets one row and one rank.
fn buckets_in_order(buckets: &[String]) -> impl Iterator<Item = &String> {
    buckets
        .iter()
        .enumerate()
        .filter(|(i, name)| !buckets[..*i].contains(name))
        .map(|(_, name)| name)
}

fn ranks(buckets: &[String]) -> HashMap<&str, usize> {
    buckets_in_order(buckets)
        .enumerate()
        .map(|(rank, name)| (name.as_str(), rank))
        .collect()
}

fn principal<'a>(snapshots: impl Iterator<Item = &'a Snapshot>) -> Decimal {
    snapshots.map(|s| s.outstanding_principal).sum()
}

/// `part / whole` to [`RATIO_DECIMALS`] places, ties to even; none when `whole` is zero.
fn ratio(part: Decimal, whole: Decimal) -> Option<Decimal> {
    let share = part.checked_div(whole)?;
    let mut share =
        share.round_dp_with_strategy(RATIO_DECIMALS, RoundingStrategy::MidpointNearestEven);
    // A fixed scale, so 0.65 reads 0.6500 wherever it is shown.
    share.rescale(RATIO_DECIMALS);
    Some(share)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
