//! Hand-worked examples: every expected figure is worked out in the comments beside it.

use super::*;

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|&name| name.to_owned()).collect()
}

fn loan(id: &str, dpd: u32, bucket: &str, class: &str, principal: &str, overdue: &str) -> Snapshot {
    Snapshot {
        loan_id: id.into(),
        dpd,
        bucket: bucket.into(),
        classification: class.into(),
        outstanding_principal: dec(principal),
        overdue_amount: dec(overdue),
    }
}

/// A snapshot where only days past due, bucket and principal matter.
fn at(id: &str, dpd: u32, bucket: &str, principal: &str) -> Snapshot {
    loan(id, dpd, bucket, "normal", principal, "0")
}

fn monthly_buckets() -> Vec<String> {
    names(&["current", "M1", "M2", "M3", "M4", "M5", "M6+"])
}

/// Six loans, 26000.00 of outstanding principal and 3950.00 overdue in all. F is current
/// but stays substandard after a restructure, so the NPL ratio differs from PAR90.
fn book() -> Vec<Snapshot> {
    vec![
        loan("A", 0, "current", "normal", "1000.00", "0.00"),
        loan("B", 15, "M1", "special_mention", "2000.00", "150.00"),
        loan("C", 45, "M2", "special_mention", "3000.00", "400.00"),
        loan("D", 95, "M4", "substandard", "4000.00", "900.00"),
        loan("E", 200, "M6+", "doubtful", "10000.00", "2500.00"),
        loan("F", 0, "current", "substandard", "6000.00", "0.00"),
    ]
}

fn row(bucket: &str, loans: u32, principal: &str, share: Option<&str>) -> AgingRow {
    AgingRow {
        bucket: bucket.into(),
        loans,
        outstanding_principal: dec(principal),
        share: share.map(dec),
    }
}

#[test]
fn aging_splits_the_book_by_bucket_in_policy_order() {
    let aging = aging(&book(), &monthly_buckets());
    // Total principal 1000 + 2000 + 3000 + 4000 + 10000 + 6000 = 26000.
    // current: A + F = 7000, 7000/26000 = 0.269230… → 0.2692
    // M1: 2000/26000 = 0.076923… → 0.0769;  M2: 3000/26000 = 0.115384… → 0.1154
    // M4: 4000/26000 = 0.153846… → 0.1538;  M6+: 10000/26000 = 0.384615… → 0.3846
    // Empty buckets keep their row with a share of 0.
    assert_eq!(
        aging.rows,
        vec![
            row("current", 2, "7000", Some("0.2692")),
            row("M1", 1, "2000", Some("0.0769")),
            row("M2", 1, "3000", Some("0.1154")),
            row("M3", 0, "0", Some("0")),
            row("M4", 1, "4000", Some("0.1538")),
            row("M5", 0, "0", Some("0")),
            row("M6+", 1, "10000", Some("0.3846")),
        ]
    );
    // Overdue: 0 + 150 + 400 + 900 + 2500 + 0 = 3950.
    assert_eq!(
        aging.totals,
        AgingTotals {
            loans: 6,
            outstanding_principal: dec("26000"),
            overdue_amount: dec("3950"),
        }
    );
}

#[test]
fn rounded_shares_need_not_add_up_to_one() {
    // 0.2692 + 0.0769 + 0.1154 + 0.1538 + 0.3846 = 0.9999: each share is rounded on its own.
    let total: Decimal = aging(&book(), &monthly_buckets())
        .rows
        .iter()
        .filter_map(|r| r.share)
        .sum();
    assert_eq!(total, dec("0.9999"));
}

#[test]
fn buckets_the_policy_does_not_list_follow_in_the_order_first_met() {
    let snapshots = [
        at("X", 5, "M1", "100"),
        at("Y", 400, "written_off", "300"),
        at("Z", 0, "legacy", "500"),
        at("W", 500, "written_off", "100"),
    ];
    let aging = aging(&snapshots, &names(&["current", "M1"]));
    // Total 100 + 300 + 500 + 100 = 1000. written_off: Y + W = 400 → 0.4000.
    assert_eq!(
        aging.rows,
        vec![
            row("current", 0, "0", Some("0")),
            row("M1", 1, "100", Some("0.1")),
            row("written_off", 2, "400", Some("0.4")),
            row("legacy", 1, "500", Some("0.5")),
        ]
    );
}

#[test]
fn a_bucket_listed_twice_gets_one_row() {
    let aging = aging(&[at("X", 5, "M1", "100")], &names(&["M1", "current", "M1"]));
    assert_eq!(
        aging.rows,
        vec![
            row("M1", 1, "100", Some("1")),
            row("current", 0, "0", Some("0")),
        ]
    );
}

#[test]
fn an_empty_book_has_rows_but_no_shares() {
    let aging = aging(&[], &names(&["current", "M1"]));
    assert_eq!(
        aging.rows,
        vec![row("current", 0, "0", None), row("M1", 0, "0", None)]
    );
    assert_eq!(
        aging.totals,
        AgingTotals {
            loans: 0,
            outstanding_principal: Decimal::ZERO,
            overdue_amount: Decimal::ZERO,
        }
    );
}

#[test]
fn headline_ratios_of_the_book() {
    // Of 26000 outstanding:
    // PAR30: C, D, E (45, 95, 200 DPD) = 3000 + 4000 + 10000 = 17000; 17/26 = 0.653846… → 0.6538
    // PAR90: D, E = 14000; 14/26 = 0.538461… → 0.5385
    // NPL: D (substandard) + E (doubtful) + F (substandard, current) = 20000;
    //      20/26 = 0.769230… → 0.7692
    // overdue: B, C, D, E = 19000; 19/26 = 0.730769… → 0.7308
    // overdue by count: 4 of 6 loans = 0.666666… → 0.6667
    assert_eq!(
        ratios(&book()),
        Ratios {
            par30: Some(dec("0.6538")),
            par90: Some(dec("0.5385")),
            npl_ratio: Some(dec("0.7692")),
            overdue_rate: Some(dec("0.7308")),
            overdue_rate_by_count: Some(dec("0.6667")),
        }
    );
}

#[test]
fn par_counts_only_loans_strictly_past_the_threshold() {
    // Exactly 30 and 90 DPD are not in PAR30 and PAR90; 31 and 91 are.
    // Total 1000 + 2000 + 3000 + 4000 = 10000.
    // PAR30: 31, 90, 91 DPD = 2000 + 3000 + 4000 = 9000 → 0.9000
    // PAR90: 91 DPD = 4000 → 0.4000
    let snapshots = [
        at("a", 30, "M1", "1000"),
        at("b", 31, "M2", "2000"),
        at("c", 90, "M3", "3000"),
        at("d", 91, "M4", "4000"),
    ];
    let ratios = ratios(&snapshots);
    assert_eq!(ratios.par30, Some(dec("0.9")));
    assert_eq!(ratios.par90, Some(dec("0.4")));
}

#[test]
fn ratios_have_four_decimals_and_round_ties_to_even() {
    // 1/32 = 0.03125 is a tie: half-even keeps 0.0312 (half-up would say 0.0313).
    // 3/32 = 0.09375 is a tie: half-even goes up to 0.0938.
    let one_in_32 = [at("late", 31, "M2", "1"), at("ok", 0, "current", "31")];
    let par30 = ratios(&one_in_32).par30.unwrap();
    assert_eq!(par30.to_string(), "0.0312");
    let three_in_32 = [at("late", 31, "M2", "3"), at("ok", 0, "current", "29")];
    assert_eq!(ratios(&three_in_32).par30.unwrap().to_string(), "0.0938");
    // 13000/20000 = 0.65 is shown as 0.6500.
    let book = [
        at("late", 45, "M2", "13000"),
        at("ok", 0, "current", "7000"),
    ];
    assert_eq!(ratios(&book).par30.unwrap().to_string(), "0.6500");
}

#[test]
fn npl_classes_come_from_any_scheme_that_uses_the_names() {
    // FFIEC names: pass, substandard, loss. 300 + 100 of 1000 = 0.4000.
    let snapshots = [
        loan("a", 0, "current", "pass", "600", "0"),
        loan("b", 95, "M4", "substandard", "300", "0"),
        loan("c", 130, "M5", "loss", "100", "0"),
    ];
    assert_eq!(ratios(&snapshots).npl_ratio, Some(dec("0.4")));
}

#[test]
fn an_eba_default_is_non_performing() {
    // The EBA preset's classes: performing and default. 250 of 1000 in default = 0.2500.
    let snapshots = [
        loan("a", 0, "current", "performing", "750", "0"),
        loan("b", 120, "M4", "default", "250", "0"),
    ];
    assert_eq!(ratios(&snapshots).npl_ratio, Some(dec("0.25")));
}

#[test]
fn an_empty_or_fully_repaid_book_has_no_ratios() {
    let none = Ratios {
        par30: None,
        par90: None,
        npl_ratio: None,
        overdue_rate: None,
        overdue_rate_by_count: None,
    };
    assert_eq!(ratios(&[]), none);
    // One loan with nothing left outstanding: no balance to divide by, but one loan to count.
    let repaid = ratios(&[at("a", 0, "current", "0")]);
    assert_eq!(
        repaid,
        Ratios {
            overdue_rate_by_count: Some(Decimal::ZERO),
            ..none
        }
    );
}

fn flows(
    to_next: &str,
    worse: &str,
    same: &str,
    better: &str,
    closed: &str,
    unranked: &str,
) -> Flows {
    Flows {
        to_next: dec(to_next),
        worse: dec(worse),
        same: dec(same),
        better: dec(better),
        closed: dec(closed),
        written_off: Decimal::ZERO,
        unranked: dec(unranked),
    }
}

#[test]
fn roll_rates_weight_each_bucket_by_its_earlier_balance() {
    let buckets = names(&["current", "M1", "M2", "M3"]);
    let from = [
        at("L1", 0, "current", "1000"),
        at("L2", 0, "current", "3000"),
        at("L3", 20, "M1", "2000"),
        at("L4", 5, "M1", "4000"),
        at("L5", 25, "M1", "1000"),
        at("L6", 10, "M1", "3000"),
        at("L7", 40, "M2", "5000"),
        at("L8", 35, "M2", "2000"),
        at("L9", 400, "written_off", "7000"),
    ];
    let to = [
        at("L1", 0, "current", "900"),  // same
        at("L2", 10, "M1", "3000"),     // next bucket
        at("L3", 50, "M2", "2000"),     // next bucket
        at("L4", 0, "current", "3800"), // better, and cured
        // L5 is gone: paid off, so closed and cured.
        at("L6", 70, "M3", "3000"),     // two buckets worse
        at("L7", 55, "M2", "4000"),     // same
        at("L8", 36, "legacy", "2000"), // a bucket the policy does not list
        at("L9", 430, "written_off", "7000"),
        at("L10", 3, "M1", "9999"), // new at `to`: not counted anywhere
    ];
    let rolls = roll_rates(&from, &to, &[], &buckets);

    // current: L1 1000 + L2 3000 = 4000. Same 1000 → 0.25; L2 went to M1, the next: 0.75.
    let current = &rolls.rows[0];
    assert_eq!((current.loans, current.balance), (2, dec("4000")));
    assert_eq!(
        current.amounts,
        flows("3000", "3000", "1000", "0", "0", "0")
    );
    assert_eq!(
        current.rates,
        Some(flows("0.75", "0.75", "0.25", "0", "0", "0"))
    );

    // M1: L3 2000 + L4 4000 + L5 1000 + L6 3000 = 10000.
    // Worse: L3 (to M2) 2000 + L6 (to M3) 3000 = 5000 → 0.5; of it only L3 is next: 0.2.
    // Better: L4 4000 → 0.4. Closed: L5 1000 → 0.1. 5000 + 4000 + 1000 = 10000.
    let m1 = &rolls.rows[1];
    assert_eq!((m1.loans, m1.balance), (4, dec("10000")));
    assert_eq!(m1.amounts, flows("2000", "5000", "0", "4000", "1000", "0"));
    assert_eq!(m1.rates, Some(flows("0.2", "0.5", "0", "0.4", "0.1", "0")));

    // M2: L7 5000 + L8 2000 = 7000. Same: 5000/7000 = 0.714285… → 0.7143.
    // Unranked: 2000/7000 = 0.285714… → 0.2857.
    let m2 = &rolls.rows[2];
    assert_eq!((m2.loans, m2.balance), (2, dec("7000")));
    assert_eq!(m2.amounts, flows("0", "0", "5000", "0", "0", "2000"));
    assert_eq!(
        m2.rates,
        Some(flows("0", "0", "0.7143", "0", "0", "0.2857"))
    );

    // M3 held nothing at `from`: no rates.
    let m3 = &rolls.rows[3];
    assert_eq!(
        (m3.bucket.as_str(), m3.loans, m3.balance),
        ("M3", 0, Decimal::ZERO)
    );
    assert_eq!(m3.rates, None);
    assert_eq!(rolls.rows.len(), 4);

    // L9 sat in an unlisted bucket at `from`.
    assert_eq!(rolls.unranked_balance, dec("7000"));

    // Past due at `from`: L3 2000 + L4 4000 + L5 1000 + L6 3000 + L7 5000 + L8 2000
    // + L9 7000 = 24000. Cured: L4 (0 DPD) 4000 + L5 (paid off) 1000 = 5000.
    // 5000/24000 = 0.208333… → 0.2083.
    assert_eq!(rolls.delinquent_balance, dec("24000"));
    assert_eq!(rolls.cured_balance, dec("5000"));
    assert_eq!(rolls.cure_rate, Some(dec("0.2083")));
}

#[test]
fn a_paid_off_loan_counts_as_cured_and_closed() {
    let buckets = names(&["current", "M1"]);
    let rolls = roll_rates(&[at("a", 30, "M1", "500")], &[], &[], &buckets);
    assert_eq!(
        rolls.rows[1].rates,
        Some(flows("0", "0", "0", "0", "1", "0"))
    );
    assert_eq!(rolls.cure_rate, Some(dec("1")));
}

#[test]
fn a_written_off_loan_is_neither_closed_nor_cured() {
    use super::{Losses, Recovery, WriteOff, losses};
    let buckets = names(&["current", "M1", "M6+"]);
    // a (M6+, 800) is written off on 2026-07-02; b (M1, 200) is paid off. Both are gone at `to`.
    let from = [at("a", 190, "M6+", "800"), at("b", 20, "M1", "200")];
    let rolls = roll_rates(&from, &[], &["a".to_owned()], &buckets);
    assert_eq!(rolls.rows[2].amounts.written_off, dec("800"));
    assert_eq!(rolls.rows[2].amounts.closed, Decimal::ZERO);
    assert_eq!(rolls.rows[1].amounts.closed, dec("200"));
    // Past due at `from`: 800 + 200 = 1000; only b's 200 cured: 0.2.
    assert_eq!(rolls.cured_balance, dec("200"));
    assert_eq!(rolls.cure_rate, Some(dec("0.2000")));

    // The book at 2026-07-01 holds 10,000 of principal. a is charged off on 2026-07-02:
    // 800 principal, 950 in all (with interest, fees and penalty); c was charged off
    // before the period (2026-05-01, 500 principal, 600 in all). Recoveries: 100 on a on
    // 2026-07-20 and 60 on c on 2026-06-15 (before the period).
    let write_offs = [
        WriteOff {
            loan_id: "a".into(),
            on: date("2026-07-02"),
            principal: dec("800"),
            total: dec("950"),
        },
        WriteOff {
            loan_id: "c".into(),
            on: date("2026-05-01"),
            principal: dec("500"),
            total: dec("600"),
        },
    ];
    let recoveries = [
        Recovery {
            loan_id: "a".into(),
            value_date: date("2026-07-20"),
            amount: dec("100"),
        },
        Recovery {
            loan_id: "c".into(),
            value_date: date("2026-06-15"),
            amount: dec("60"),
        },
    ];
    let l = losses(
        dec("10000"),
        &write_offs,
        &recoveries,
        date("2026-07-01"),
        date("2026-07-31"),
    );
    assert_eq!(
        l,
        Losses {
            charged_off_principal: dec("800"),
            recovered: dec("100"),
            // 800 / 10,000; (800 − 100) / 10,000.
            gross_charge_off_rate: Some(dec("0.0800")),
            net_charge_off_rate: Some(dec("0.0700")),
            // (100 + 60) / (950 + 600) = 160 / 1550 = 0.10322… → 0.1032.
            recovery_rate: Some(dec("0.1032")),
        }
    );
}

#[test]
fn moving_to_a_better_bucket_still_past_due_is_not_a_cure() {
    let buckets = names(&["current", "M1", "M2"]);
    // a: M2 → M1 at 20 DPD, better but not cured. b: M1 → current, cured.
    // Cure: only b, 100 of 300 + 100 = 400 → 0.25. Both balances went to a better bucket.
    let from = [at("a", 40, "M2", "300"), at("b", 10, "M1", "100")];
    let to = [at("a", 20, "M1", "300"), at("b", 0, "current", "100")];
    let rolls = roll_rates(&from, &to, &[], &buckets);
    assert_eq!(rolls.cure_rate, Some(dec("0.25")));
    assert_eq!(rolls.rows[2].amounts.better, dec("300"));
    assert_eq!(rolls.rows[1].amounts.better, dec("100"));
}

#[test]
fn the_last_bucket_cannot_roll_forward() {
    let buckets = names(&["current", "M6+"]);
    let rolls = roll_rates(
        &[at("a", 200, "M6+", "50")],
        &[at("a", 230, "M6+", "50")],
        &[],
        &buckets,
    );
    assert_eq!(
        rolls.rows[1].rates,
        Some(flows("0", "0", "1", "0", "0", "0"))
    );
    assert_eq!(rolls.cure_rate, Some(Decimal::ZERO));
}

#[test]
fn loans_new_at_the_later_date_are_ignored() {
    let buckets = names(&["current", "M1"]);
    let rolls = roll_rates(&[], &[at("new", 5, "M1", "1000")], &[], &buckets);
    for row in &rolls.rows {
        assert_eq!(
            (row.loans, row.balance, row.rates),
            (0, Decimal::ZERO, None)
        );
        assert_eq!(row.amounts, Flows::default());
    }
    assert_eq!(rolls.unranked_balance, Decimal::ZERO);
    assert_eq!(rolls.delinquent_balance, Decimal::ZERO);
    assert_eq!(rolls.cure_rate, None);
}

fn promise(due: &str, kept: Option<bool>) -> PromiseOutcome {
    PromiseOutcome {
        due: date(due),
        kept,
    }
}

#[test]
fn kept_rate_counts_resolved_promises_due_in_the_window() {
    let promises = [
        promise("2026-03-01", Some(true)),  // on `from`: outside (from, to]
        promise("2026-03-02", Some(true)),  // kept
        promise("2026-03-15", Some(false)), // broken
        promise("2026-03-20", None),        // still open: left out
        promise("2026-03-31", Some(true)),  // on `to`: inside, kept
        promise("2026-04-01", Some(false)), // after `to`
    ];
    // 2 kept of 3 resolved = 0.666666… → 0.6667.
    assert_eq!(
        promise_kept_rate(&promises, date("2026-03-01"), date("2026-03-31")),
        Some(dec("0.6667"))
    );
}

#[test]
fn no_resolved_promise_means_no_kept_rate() {
    let (from, to) = (date("2026-03-01"), date("2026-03-31"));
    assert_eq!(promise_kept_rate(&[], from, to), None);
    assert_eq!(
        promise_kept_rate(&[promise("2026-03-10", None)], from, to),
        None
    );
    let broken = [promise("2026-03-10", Some(false))];
    assert_eq!(promise_kept_rate(&broken, from, to), Some(Decimal::ZERO));
    // An empty window, (to, to], holds nothing.
    assert_eq!(
        promise_kept_rate(&broken, date("2026-03-10"), date("2026-03-10")),
        None
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    const LISTED: [&str; 5] = ["current", "M1", "M2", "M3", "M4+"];

    /// Index 5 stands for a bucket the policy does not list.
    fn bucket(index: usize) -> String {
        LISTED.get(index).copied().unwrap_or("unlisted").to_owned()
    }

    /// Up to 40 loans at `from` (bucket, DPD, 0.00 to 1,000,000.00 principal) and, for each,
    /// where it stood at `to` if still there; plus up to 5 loans new at `to`.
    fn two_dates() -> impl Strategy<Value = (Vec<Snapshot>, Vec<Snapshot>)> {
        let loan = (
            0usize..6,
            0u32..400,
            0i64..100_000_000,
            prop::option::of((0usize..6, 0u32..400)),
        );
        (prop::collection::vec(loan, 0..40), 0usize..5).prop_map(|(loans, new)| {
            let mut from = Vec::new();
            let mut to = Vec::new();
            for (k, (b, dpd, cents, later)) in loans.into_iter().enumerate() {
                let id = format!("L{k}");
                let principal = Decimal::new(cents, 2);
                from.push(at(&id, dpd, &bucket(b), &principal.to_string()));
                if let Some((b, dpd)) = later {
                    to.push(at(&id, dpd, &bucket(b), &principal.to_string()));
                }
            }
            for k in 0..new {
                to.push(at(&format!("N{k}"), 1, "M1", "100"));
            }
            (from, to)
        })
    }

    /// Half a unit in the fourth decimal: the most one rounding can move a ratio.
    fn half_unit() -> Decimal {
        Decimal::new(5, 5)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Each bucket's balance splits exactly into worse, same, better, closed, written off
        /// and unranked; every rate is its exact share rounded once; and no balance is lost.
        #[test]
        fn roll_shares_of_a_bucket_add_up_to_its_balance((from, to) in two_dates()) {
            // Every other loan gone by `to` was written off, the rest paid off.
            let written_off: Vec<String> = from.iter().step_by(2).map(|s| s.loan_id.clone()).collect();
            let rolls = roll_rates(&from, &to, &written_off, &names(&LISTED));
            let mut accounted = rolls.unranked_balance;
            for row in &rolls.rows {
                let a = &row.amounts;
                prop_assert_eq!(a.worse + a.same + a.better + a.closed + a.written_off + a.unranked, row.balance);
                prop_assert!(a.to_next <= a.worse);
                accounted += row.balance;
                match &row.rates {
                    None => prop_assert!(row.balance.is_zero()),
                    Some(r) => {
                        for (rate, amount) in [
                            (r.to_next, a.to_next), (r.worse, a.worse), (r.same, a.same),
                            (r.better, a.better), (r.closed, a.closed), (r.written_off, a.written_off),
                            (r.unranked, a.unranked),
                        ] {
                            prop_assert!((rate - amount / row.balance).abs() <= half_unit());
                            prop_assert_eq!(rate.scale(), 4);
                        }
                        // Six rounded parts of 1 are each off by at most half a unit.
                        let sum = r.worse + r.same + r.better + r.closed + r.written_off + r.unranked;
                        prop_assert!((sum - Decimal::ONE).abs() <= half_unit() * Decimal::from(6));
                    }
                }
            }
            prop_assert_eq!(accounted, from.iter().map(|s| s.outstanding_principal).sum::<Decimal>());
            prop_assert!(rolls.cured_balance <= rolls.delinquent_balance);
        }

        /// The aging rows hold every loan and every unit of principal exactly once.
        #[test]
        fn aging_rows_add_up_to_the_book((from, _) in two_dates()) {
            let aging = aging(&from, &names(&LISTED));
            let loans: u32 = aging.rows.iter().map(|r| r.loans).sum();
            let principal: Decimal = aging.rows.iter().map(|r| r.outstanding_principal).sum();
            prop_assert_eq!(loans, aging.totals.loans);
            prop_assert_eq!(loans as usize, from.len());
            prop_assert_eq!(principal, aging.totals.outstanding_principal);
            prop_assert_eq!(&aging.rows[0].bucket, "current");
            prop_assert!(aging.rows.len() <= LISTED.len() + 1);
        }
    }
}

#[test]
fn a_write_off_still_owes_its_total_less_the_recoveries_by_the_date() {
    let write_off = WriteOff {
        loan_id: "a".into(),
        on: date("2026-07-02"),
        principal: dec("800"),
        total: dec("950.00"),
    };
    let recovery = |loan: &str, on: &str, amount: &str| Recovery {
        loan_id: loan.into(),
        value_date: date(on),
        amount: dec(amount),
    };
    // 100.00 on 07-20 and 300.00 on 08-10 on a; 500 on another loan does not count.
    let recoveries = [
        recovery("a", "2026-07-20", "100.00"),
        recovery("b", "2026-07-25", "500"),
        recovery("a", "2026-08-10", "300.00"),
    ];
    let owed = |on: &str| write_off.still_owed(&recoveries, date(on));
    assert_eq!(owed("2026-07-19"), dec("950.00"));
    // 950.00 - 100.00 = 850.00 from 07-20; - 300.00 = 550.00 from 08-10.
    assert_eq!(owed("2026-07-20"), dec("850.00"));
    assert_eq!(owed("2026-08-10"), dec("550.00"));
    // Recovered beyond the total (1000 against 950): nothing is owed, never less.
    let more = [recovery("a", "2026-09-01", "1000")];
    assert_eq!(
        write_off.still_owed(&more, date("2026-09-01")),
        Decimal::ZERO
    );
}
