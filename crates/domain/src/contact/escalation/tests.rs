//! Hand-worked escalation: stages by DPD, promises, holds, cure, queues and strategies.

use chrono::NaiveDate;

use super::*;
use crate::contact::guard::tests::{instant, profile};
use crate::money::Currency;

fn standing(loan_id: &str, dpd: u32, next_due: Option<&str>, tier: Option<Tier>) -> Standing {
    Standing {
        loan_id: loan_id.into(),
        as_of: "2026-03-10".parse().unwrap(),
        currency: Currency::parse("c", "CNY").unwrap(),
        dpd,
        days_in_arrears: dpd,
        bucket: String::new(),
        overdue: Decimal::new(50000, 2),
        next_due: next_due.map(|d| (d.parse::<NaiveDate>().unwrap(), Decimal::ONE_HUNDRED)),
        tier,
        written_off: false,
    }
}

fn policy() -> EscalationPolicy {
    EscalationPolicy {
        strategies: vec![Strategy {
            name: "champion".into(),
            share_percent: 100,
            ladder: Ladder::default_ladder(),
        }],
        pre_due_days: 3,
        promise_grace_days: 2,
        high_risk_tiers: vec![Tier::D, Tier::E],
        small_balance: None,
        queues: BTreeMap::from([("mid".into(), vec!["ana".into(), "bo".into(), "chen".into()])]),
        messages: Messages {
            templates: BTreeMap::new(),
            payment_link: "https://pay.example.com/{loan_id}".into(),
            max_sms_segments: 3,
        },
        rules: ContactRules::cn_2025(),
    }
}

/// 10:00 in Shanghai on 2026-03-10.
const NOW: &str = "2026-03-10T02:00:00Z";

fn decide_at(standing: &Standing, promises: &[Promise], previous: Stage) -> Decision {
    decide(
        standing,
        &profile(chrono_tz::Asia::Shanghai),
        &[],
        promises,
        previous,
        instant(NOW),
        &policy(),
    )
}

#[test]
fn the_default_ladder_reads_dpd() {
    let stage =
        |dpd, next_due| decide_at(&standing("L-1", dpd, next_due, None), &[], Stage::Current).stage;
    assert_eq!(stage(0, None), Stage::Current);
    // Next due 2026-03-12 is 2 days off: within 3, pre_due; 2026-03-20 is not.
    assert_eq!(stage(0, Some("2026-03-12")), Stage::PreDue);
    assert_eq!(stage(0, Some("2026-03-20")), Stage::Current);
    let stages: Vec<Stage> = [1, 15, 16, 60, 61, 90, 91, 179, 180]
        .iter()
        .map(|d| stage(*d, None))
        .collect();
    use Stage::*;
    assert_eq!(
        stages,
        [
            Early,
            Early,
            Mid,
            Mid,
            Late,
            Late,
            Legal,
            Legal,
            WriteOffReview
        ]
    );
}

#[test]
fn mid_stage_calls_go_to_the_mid_queue_and_a_stable_collector() {
    // FNV-1a 64 of "L-3" is 1 mod 3: the second of ana, bo, chen.
    let d = decide_at(&standing("L-3", 20, None, None), &[], Stage::Early);
    assert_eq!((d.stage, d.transition), (Stage::Mid, Transition::Escalated));
    let call = &d.actions[0];
    assert_eq!(
        (call.kind, call.queue.as_deref(), call.assignee.as_deref()),
        ("voice_call", Some("mid"), Some("bo"))
    );
    assert_eq!(call.strategy, "champion");
    // Same inputs, same assignee.
    assert_eq!(
        decide_at(&standing("L-3", 20, None, None), &[], Stage::Early).actions[0].assignee,
        call.assignee
    );
}

#[test]
fn high_risk_tiers_enter_each_stage_early_and_get_their_own_queue() {
    let d = decide_at(&standing("L-1", 5, None, Some(Tier::E)), &[], Stage::Early);
    assert_eq!(d.stage, Stage::Mid);
    assert_eq!(d.actions[0].queue.as_deref(), Some("mid-high-risk"));
}

#[test]
fn an_open_promise_holds_the_stage_until_its_date_plus_grace() {
    // Promised for 2026-03-09 with 2 grace days: holds through 2026-03-11; today is 03-10.
    let promise = |date: &str, status| Promise {
        amount: Decimal::ONE_HUNDRED,
        date: date.parse().unwrap(),
        status,
    };
    let held = decide_at(
        &standing("L-1", 20, None, None),
        &[promise("2026-03-09", PromiseStatus::Open)],
        Stage::Early,
    );
    assert_eq!(
        (held.stage, held.transition),
        (Stage::Early, Transition::Held)
    );
    // Promised for 2026-03-07: 03-07 + 2 = 03-09 has passed unpaid: broken, one stage up.
    let broken = decide_at(
        &standing("L-1", 20, None, None),
        &[promise("2026-03-07", PromiseStatus::Open)],
        Stage::Mid,
    );
    assert_eq!((broken.stage, broken.broken_promises), (Stage::Late, 1));
    // Kept: one stage down from mid.
    let kept = decide_at(
        &standing("L-1", 20, None, None),
        &[promise("2026-03-08", PromiseStatus::Kept)],
        Stage::Mid,
    );
    assert_eq!(
        (kept.stage, kept.transition),
        (Stage::Early, Transition::DeEscalated)
    );
}

#[test]
fn a_cured_loan_returns_to_current_and_closes_its_tasks() {
    let d = decide_at(&standing("L-1", 0, None, None), &[], Stage::Mid);
    assert_eq!(
        (d.stage, d.transition, d.close_open_tasks),
        (Stage::Current, Transition::Cured, true)
    );
    assert!(d.actions.is_empty());
}

#[test]
fn a_dispute_holds_collection_and_sends_nothing() {
    let mut disputing = profile(chrono_tz::Asia::Shanghai);
    disputing.dispute_open = true;
    let d = decide(
        &standing("L-1", 70, None, None),
        &disputing,
        &[],
        &[],
        Stage::Mid,
        instant(NOW),
        &policy(),
    );
    assert_eq!((d.stage, d.transition), (Stage::Mid, Transition::Held));
    assert!(d.actions.is_empty());
    assert_eq!(d.explanation.last().unwrap().rule, "hold.dispute");
}

#[test]
fn late_stage_letters_and_visits_legal_stage_tasks() {
    let late = decide_at(&standing("L-1", 70, None, None), &[], Stage::Mid);
    let kinds: Vec<&str> = late.actions.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, ["letter", "field_visit"]);
    assert_eq!(late.actions[1].queue.as_deref(), Some("late"));
    let legal = decide_at(&standing("L-1", 100, None, None), &[], Stage::Late);
    let kinds: Vec<&str> = legal.actions.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, ["legal_referral", "credit_bureau_report"]);
}

#[test]
fn champion_and_challenger_split_by_a_stable_hash() {
    // FNV-1a 64 mod 100: "L-1" is 49 (champion, below 50), "L-4" is 82 (challenger).
    let mut split = policy();
    split.strategies = vec![
        Strategy {
            name: "champion".into(),
            share_percent: 50,
            ladder: Ladder::default_ladder(),
        },
        Strategy {
            name: "challenger".into(),
            share_percent: 50,
            ladder: Ladder::default_ladder(),
        },
    ];
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    let strategy = |id| {
        decide(
            &standing(id, 5, None, None),
            &shanghai,
            &[],
            &[],
            Stage::Current,
            instant(NOW),
            &split,
        )
        .strategy
    };
    assert_eq!(strategy("L-1"), "champion");
    assert_eq!(strategy("L-4"), "challenger");
    split.strategies[1].share_percent = 40;
    assert_eq!(
        split.check().unwrap_err().field,
        "policy.escalation.strategies"
    );
}

#[test]
fn a_hardship_pause_holds_escalation_but_not_a_cure() {
    let mut hardship = profile(chrono_tz::Asia::Shanghai);
    hardship.hardship = true;
    let now = instant(NOW);
    let held = decide(
        &standing("L-1", 20, None, None),
        &hardship,
        &[],
        &[],
        Stage::Early,
        now,
        &policy(),
    );
    assert_eq!(
        (held.stage, held.transition),
        (Stage::Early, Transition::Held)
    );
    // Messages of the early stage still go: hardship holds escalation, not contact.
    assert_eq!(held.actions[0].kind, "sms");
    let cured = decide(
        &standing("L-1", 0, None, None),
        &hardship,
        &[],
        &[],
        Stage::Mid,
        now,
        &policy(),
    );
    assert_eq!(cured.transition, Transition::Cured);
}

#[test]
fn a_small_balance_goes_no_further_than_mid() {
    // 500.00 overdue under a 1000.00 small-balance limit: 70 DPD would be late; mid instead.
    let mut small = policy();
    small.small_balance = Some(Decimal::new(100000, 2));
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    let d = decide(
        &standing("L-1", 70, None, None),
        &shanghai,
        &[],
        &[],
        Stage::Mid,
        instant(NOW),
        &small,
    );
    assert_eq!(d.stage, Stage::Mid);
    assert_eq!(d.explanation.last().unwrap().rule, "stage.small-balance");
}

#[test]
fn on_a_promises_last_grace_day_the_stage_holds_as_the_book_keeps_it_open() {
    // Promised for 2026-03-10 with 2 grace days: 2026-03-12 is the last day that counts. The
    // close of 2026-03-12 plans from midnight UTC, already 2026-03-13 08:00 in Shanghai; the
    // promise is judged on the business date, as the book settles it, so it still holds.
    let mut on_last_day = standing("L-1", 20, None, None);
    on_last_day.as_of = "2026-03-12".parse().unwrap();
    let promise = Promise {
        amount: Decimal::ONE_HUNDRED,
        date: "2026-03-10".parse().unwrap(),
        status: PromiseStatus::Open,
    };
    let decide_on = |standing: &Standing| {
        decide(
            standing,
            &profile(chrono_tz::Asia::Shanghai),
            &[],
            std::slice::from_ref(&promise),
            Stage::Early,
            instant("2026-03-13T00:00:00Z"),
            &policy(),
        )
    };
    let held = decide_on(&on_last_day);
    assert_eq!(
        (held.stage, held.transition, held.broken_promises),
        (Stage::Early, Transition::Held, 0)
    );
    // The next business date it is broken: one stage up from mid (20 DPD), late.
    let mut day_after = on_last_day.clone();
    day_after.as_of = "2026-03-13".parse().unwrap();
    let broken = decide_on(&day_after);
    assert_eq!((broken.stage, broken.broken_promises), (Stage::Late, 1));
}

#[test]
fn early_stage_messages_carry_their_text_with_the_opt_out_line() {
    // 5 DPD, 500.00 CNY overdue, a Chinese-speaking borrower at 10:00 in Shanghai.
    let d = decide_at(&standing("L-1", 5, None, None), &[], Stage::Early);
    let kinds: Vec<&str> = d.actions.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, ["sms", "push", "email"]);
    let sms = d.actions[0].message.as_ref().unwrap();
    assert_eq!(
        sms.text,
        "Li Lei您好，您的借款已逾期5天，逾期金额500.00CNY，请立即还款。还款：https://pay.example.com/L-1 回复TD退订"
    );
    // 76 characters: Li Lei 6, 您好， 3, 您的借款已逾期 7, 5 1, 天， 2, 逾期金额 4, 500.00CNY 9,
    // ，请立即还款。 7, 还款： 3, the link 27, a space 1, 回复TD退订 6 = 76: UCS-2 over 70, two parts.
    assert_eq!(
        (sms.address.as_str(), sms.sms_segments),
        ("sms-address", Some(2))
    );
    let push = d.actions[1].message.as_ref().unwrap();
    assert!(
        push.text
            .ends_with("如需退订，请在应用设置中关闭此类通知。"),
        "{}",
        push.text
    );
    assert_eq!(push.sms_segments, None);
    assert!(
        d.actions[2]
            .message
            .as_ref()
            .unwrap()
            .text
            .ends_with("如不想再收到此类邮件，请回复“退订”。")
    );
}

#[test]
fn an_sms_planned_for_the_day_holds_back_the_stages_sms() {
    // A reminder SMS about L-1 is planned for 10:00 today: the early stage's SMS is held
    // back, push and e-mail still go.
    let planned = ContactAttempt {
        loan_id: "L-1".into(),
        channel: Channel::Sms,
        at: instant(NOW),
        outcome: crate::contact::Outcome::Planned,
    };
    let d = decide(
        &standing("L-1", 5, None, None),
        &profile(chrono_tz::Asia::Shanghai),
        &[planned],
        &[],
        Stage::Early,
        instant(NOW),
        &policy(),
    );
    let kinds: Vec<&str> = d.actions.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, ["push", "email"]);
    assert_eq!(
        (d.suppressed[0].kind, d.suppressed[0].ruling.rule.as_str()),
        ("sms", "contact.one-message-per-day")
    );
}

/// A loan written off with 500.00 still owed, 200 days past due.
fn written_off(loan_id: &str, tier: Option<Tier>) -> Standing {
    Standing {
        written_off: true,
        ..standing(loan_id, 200, None, tier)
    }
}

#[test]
fn a_written_off_loan_is_on_the_recovery_stage_with_letters_and_calls() {
    let d = decide_at(&written_off("L-1", None), &[], Stage::WriteOffReview);
    assert_eq!(
        (d.stage, d.transition),
        (Stage::Recovery, Transition::Escalated)
    );
    let kinds: Vec<(&str, Option<&str>)> = d
        .actions
        .iter()
        .map(|a| (a.kind, a.queue.as_deref()))
        .collect();
    // The letter needs no collector; the call goes to the recovery queue.
    assert_eq!(kinds, [("letter", None), ("voice_call", Some("recovery"))]);
    assert!(d.actions.iter().all(|a| a.rule == "stage.recovery"));
    let why = d.explanation.last().unwrap();
    assert_eq!(why.rule, "stage.recovery");
    assert!(why.detail.contains("500.00"), "{}", why.detail);
    // Already there: unchanged, and a high-risk tier has its own queue.
    let again = decide_at(&written_off("L-1", Some(Tier::E)), &[], Stage::Recovery);
    assert_eq!(again.transition, Transition::Unchanged);
    assert_eq!(
        again.actions[1].queue.as_deref(),
        Some("recovery-high-risk")
    );
}

#[test]
fn recovery_calls_keep_to_the_contact_rules_and_a_dispute_stops_them() {
    // Three connected calls today (10:00 Shanghai): China 2025's daily limit is reached, so
    // the call moves to tomorrow's window; the letter goes today.
    let called = |minutes: i64| ContactAttempt {
        loan_id: "L-1".into(),
        channel: Channel::VoiceCall,
        at: instant(NOW) - Duration::minutes(minutes),
        outcome: super::super::Outcome::Connected,
    };
    let history = [called(30), called(20), called(10)];
    let d = decide(
        &written_off("L-1", None),
        &profile(chrono_tz::Asia::Shanghai),
        &history,
        &[],
        Stage::Recovery,
        instant(NOW),
        &policy(),
    );
    let day = |a: &Action| {
        let window = a.window.as_ref().unwrap();
        window.not_before.date_naive().to_string()
    };
    let days: Vec<(&str, String)> = d.actions.iter().map(|a| (a.kind, day(a))).collect();
    assert_eq!(
        days,
        [
            ("letter", "2026-03-10".to_owned()),
            ("voice_call", "2026-03-11".to_owned())
        ]
    );

    let mut disputing = profile(chrono_tz::Asia::Shanghai);
    disputing.dispute_open = true;
    let d = decide(
        &written_off("L-1", None),
        &disputing,
        &[],
        &[],
        Stage::Recovery,
        instant(NOW),
        &policy(),
    );
    assert!(d.actions.is_empty() && d.suppressed.is_empty());
    assert_eq!(d.explanation.last().unwrap().rule, "hold.dispute");
}

#[test]
fn recovery_is_entered_by_a_write_off_alone() {
    // A ladder cannot name it.
    let rungs = vec![
        Rung {
            stage: Stage::Early,
            min_dpd: 1,
        },
        Rung {
            stage: Stage::Recovery,
            min_dpd: 365,
        },
    ];
    let error = Ladder::new("ladder", rungs).unwrap_err();
    assert_eq!(error.field, "ladder[1]");
    // A broken promise on write-off review steps no further while the loan is not written off.
    let promise = Promise {
        amount: Decimal::ONE_HUNDRED,
        date: "2026-03-01".parse().unwrap(),
        status: PromiseStatus::Broken,
    };
    let d = decide_at(
        &standing("L-1", 200, None, None),
        &[promise],
        Stage::WriteOffReview,
    );
    assert_eq!(d.stage, Stage::WriteOffReview);
}
