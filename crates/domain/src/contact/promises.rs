//! When a promise to pay (承诺还款) is kept or broken: the one rule the close, the events and
//! the API settle promises by.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use super::{Promise, PromiseStatus};

/// Where `promise`, made on `made_on`, stands at the end of business date `date`, given the
/// loan's standing payments (value date, amount): kept once the payments valued from
/// `made_on` to its date plus `grace_days` cover its amount, broken once that last day has
/// passed without, open until then. The promise's status so far does not count: it follows
/// the payments as valued, so a payment that arrives late but is valued in the window keeps a
/// promise judged broken before, and a reversal can break one judged kept.
pub fn settle(
    promise: &Promise,
    made_on: NaiveDate,
    payments: &[(NaiveDate, Decimal)],
    date: NaiveDate,
    grace_days: u64,
) -> PromiseStatus {
    let deadline = promise
        .date
        .checked_add_days(Days::new(grace_days))
        .unwrap_or(promise.date);
    let last_day = deadline.min(date);
    let covered: Decimal = payments
        .iter()
        .filter(|(value_date, _)| (made_on..=last_day).contains(value_date))
        .map(|(_, amount)| *amount)
        .sum();
    if covered >= promise.amount {
        PromiseStatus::Kept
    } else if date > deadline {
        PromiseStatus::Broken
    } else {
        PromiseStatus::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn promise(amount: i64, date: &str) -> Promise {
        Promise {
            amount: Decimal::new(amount, 2),
            date: day(date),
            status: PromiseStatus::Open,
        }
    }

    /// 300.00 promised on 2026-03-01 for 2026-03-10, three grace days: the last day that
    /// counts is 2026-03-13.
    fn settle_on(payments: &[(&str, i64)], date: &str) -> PromiseStatus {
        let payments: Vec<(NaiveDate, Decimal)> = payments
            .iter()
            .map(|(d, a)| (day(d), Decimal::new(*a, 2)))
            .collect();
        settle(
            &promise(30_000, "2026-03-10"),
            day("2026-03-01"),
            &payments,
            day(date),
            3,
        )
    }

    #[test]
    fn payments_in_the_window_that_cover_the_amount_keep_it() {
        // 100.00 + 200.00 from the day it was made to the last grace day.
        let paid = [("2026-03-01", 10_000), ("2026-03-13", 20_000)];
        assert_eq!(settle_on(&paid, "2026-03-13"), PromiseStatus::Kept);
        assert_eq!(settle_on(&paid, "2026-04-30"), PromiseStatus::Kept);
    }

    #[test]
    fn it_stays_open_through_the_grace_days_and_breaks_the_day_after() {
        let short = [("2026-03-05", 29_999)];
        assert_eq!(settle_on(&short, "2026-03-10"), PromiseStatus::Open);
        assert_eq!(settle_on(&short, "2026-03-13"), PromiseStatus::Open);
        assert_eq!(settle_on(&short, "2026-03-14"), PromiseStatus::Broken);
    }

    #[test]
    fn payments_outside_the_window_do_not_count() {
        // One before the promise was made, one after the last grace day.
        let outside = [("2026-02-28", 30_000), ("2026-03-14", 30_000)];
        assert_eq!(settle_on(&outside, "2026-03-20"), PromiseStatus::Broken);
        // Nor does a payment valued after the date being settled.
        assert_eq!(
            settle_on(&[("2026-03-12", 30_000)], "2026-03-11"),
            PromiseStatus::Open
        );
    }

    #[test]
    fn a_backdated_payment_keeps_a_promise_judged_broken() {
        // Judged broken on 2026-03-14 with nothing paid; then a payment valued 2026-03-11
        // arrives: judged again, the promise is kept.
        let mut judged = promise(30_000, "2026-03-10");
        judged.status = settle(&judged, day("2026-03-01"), &[], day("2026-03-14"), 3);
        assert_eq!(judged.status, PromiseStatus::Broken);
        let backdated = [(day("2026-03-11"), Decimal::new(30_000, 2))];
        let status = settle(&judged, day("2026-03-01"), &backdated, day("2026-03-15"), 3);
        assert_eq!(status, PromiseStatus::Kept);
    }

    proptest::proptest! {
        /// The payments' arrival order does not matter: the status is the same for any order.
        #[test]
        fn any_arrival_order_gives_the_same_status(
            paid in proptest::collection::vec((0u64..30, 1i64..20_000), 0..6),
            rotate in 0usize..6,
            on in 0u64..30,
        ) {
            let start = day("2026-02-25");
            let payments: Vec<(NaiveDate, Decimal)> = paid
                .iter()
                .map(|(d, a)| (start + Days::new(*d), Decimal::new(*a, 2)))
                .collect();
            let mut arrived = payments.clone();
            if !arrived.is_empty() {
                let pivot = rotate % arrived.len();
                arrived.rotate_left(pivot);
                arrived.reverse();
            }
            let date = start + Days::new(on);
            let p = promise(30_000, "2026-03-10");
            proptest::prop_assert_eq!(
                settle(&p, day("2026-03-01"), &payments, date, 3),
                settle(&p, day("2026-03-01"), &arrived, date, 3)
            );
        }
    }
}
