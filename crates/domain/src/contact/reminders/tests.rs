//! Hand-worked reminders: cadence days in the borrower's local date, exact texts, segments.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::contact::Language;
use crate::contact::guard::tests::{instant, profile};
use crate::money::Currency;

fn standing(dpd: u32, bucket: &str, next_due: Option<(&str, &str)>, overdue: &str) -> Standing {
    Standing {
        loan_id: "L-1".into(),
        as_of: "2026-03-10".parse().unwrap(),
        currency: Currency::parse("c", "CNY").unwrap(),
        dpd,
        days_in_arrears: dpd,
        bucket: bucket.into(),
        overdue: overdue.parse().unwrap(),
        next_due: next_due.map(|(d, a)| {
            (
                d.parse::<NaiveDate>().unwrap(),
                a.parse::<Decimal>().unwrap(),
            )
        }),
        tier: None,
        written_off: false,
    }
}

fn policy() -> ReminderPolicy {
    ReminderPolicy {
        cadence: ReminderPolicy::default_cadence(),
        messages: Messages {
            templates: BTreeMap::new(),
            payment_link: "https://pay.example.com/{loan_id}".into(),
            max_sms_segments: 3,
        },
        rules: ContactRules::cn_2025(),
    }
}

#[test]
fn three_days_before_the_due_date_sms_and_push_go_in_chinese() {
    // Next due 2026-03-13; at 2026-03-10T02:00Z it is 10:00 on 2026-03-10 in Shanghai: T-3.
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    let plan = plan(
        &standing(0, "M0", Some(("2026-03-13", "1040.00")), "0"),
        &shanghai,
        &[],
        instant("2026-03-10T02:00:00Z"),
        &policy(),
    );
    let sent: Vec<(&str, &str)> = plan
        .to_send
        .iter()
        .map(|r| (r.channel.name(), r.rule.as_str()))
        .collect();
    assert_eq!(sent, [("sms", "pre_due_t3"), ("push", "pre_due_t3")]);
    let sms = &plan.to_send[0];
    assert_eq!(
        sms.text,
        "Li Lei您好，您有1,040.00CNY将于2026年3月13日到期。还款：https://pay.example.com/L-1 回复TD退订"
    );
    // 74 characters (Li Lei 6, 您好，您有 5, 1,040.00CNY 11, 将于 2, 2026年3月13日 10, 到期。 3,
    // 还款： 3, the link 27, a space, 回复TD退订 6), some outside GSM 7-bit: UCS-2, over 70: two
    // 67-character parts.
    assert_eq!(sms.sms_segments, Some(2));
    assert_eq!(sms.address, "sms-address");
    // Push carries no opt-out line and has no segments.
    assert!(!plan.to_send[1].text.contains("TD"));
    assert_eq!(plan.to_send[1].sms_segments, None);
    assert!(plan.suppressed.is_empty());
}

#[test]
fn overdue_reminders_follow_the_bucket_cadence_in_english() {
    let mut english = profile(chrono_tz::Europe::London);
    english.language = Language::En;
    let now = instant("2026-03-10T10:00:00Z");
    // 33 days past due in M2: 33 is a multiple of 3, so m2_every_3_days fires by SMS and e-mail.
    let plan = plan(
        &standing(33, "M2", None, "550.00"),
        &english,
        &[],
        now,
        &policy(),
    );
    let sent: Vec<&str> = plan.to_send.iter().map(|r| r.channel.name()).collect();
    assert_eq!(sent, ["sms", "email"]);
    assert_eq!(
        plan.to_send[0].text,
        "Li Lei, 550.00 CNY is 33 days overdue. Pay: https://pay.example.com/L-1 Reply STOP to opt out."
    );
    assert!(
        plan.to_send[1]
            .text
            .ends_with("To stop these e-mails, reply UNSUBSCRIBE.")
    );
    // 34 days: not a multiple of 3, nothing fires.
    assert!(plan_for(34, "M2", &english, now).to_send.is_empty());
}

fn plan_for(dpd: u32, bucket: &str, profile: &ContactProfile, now: DateTime<Utc>) -> ReminderPlan {
    plan(
        &standing(dpd, bucket, None, "550.00"),
        profile,
        &[],
        now,
        &policy(),
    )
}

#[test]
fn a_written_off_loan_gets_no_reminders() {
    // The cadence that fires for 33 days past due in M2 (above) is silent once written off.
    let mut english = profile(chrono_tz::Europe::London);
    english.language = Language::En;
    let written_off = Standing {
        written_off: true,
        ..standing(33, "M2", None, "550.00")
    };
    let plan = plan(
        &written_off,
        &english,
        &[],
        instant("2026-03-10T10:00:00Z"),
        &policy(),
    );
    assert_eq!(plan, ReminderPlan::default());
}

#[test]
fn a_lender_template_replaces_the_built_in_one() {
    let mut english = profile(chrono_tz::Europe::London);
    english.language = Language::En;
    let mut lender = policy();
    lender.messages.templates.insert(
        "overdue.sms.en".into(),
        "{name}: {days_overdue}d late, {amount} {currency}".into(),
    );
    let plan = plan(
        &standing(5, "M1", None, "99.50"),
        &english,
        &[],
        instant("2026-03-10T10:00:00Z"),
        &lender,
    );
    assert_eq!(
        plan.to_send[0].text,
        "Li Lei: 5d late, 99.50 CNY Reply STOP to opt out."
    );
    lender
        .messages
        .templates
        .insert("overdue.sms.en".into(), "{name} owes {balance}".into());
    assert_eq!(
        lender.check().unwrap_err().field,
        "policy.reminders.templates.overdue.sms.en"
    );
}

#[test]
fn opted_out_and_already_sent_reminders_are_held_back_with_their_rule() {
    let mut shanghai = profile(chrono_tz::Asia::Shanghai);
    shanghai.opted_out = vec![Channel::Push];
    let history = vec![ContactAttempt {
        loan_id: "L-1".into(),
        channel: Channel::Sms,
        at: instant("2026-03-10T01:00:00Z"),
        outcome: crate::contact::Outcome::Delivered,
    }];
    // M1 daily at 10:00 local: SMS went out at 09:00 local today, push is opted out.
    let plan = plan(
        &standing(5, "M1", None, "100.00"),
        &shanghai,
        &history,
        instant("2026-03-10T02:00:00Z"),
        &policy(),
    );
    assert!(plan.to_send.is_empty());
    let held: Vec<(&str, &str)> = plan
        .suppressed
        .iter()
        .map(|s| (s.channel.name(), s.ruling.rule.as_str()))
        .collect();
    assert_eq!(
        held,
        [
            ("sms", "contact.one-message-per-day"),
            ("push", "contact.opted-out")
        ]
    );
}

#[test]
fn a_text_longer_than_the_segment_limit_is_held_back() {
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    let mut lender = policy();
    lender.messages.max_sms_segments = 1;
    lender
        .messages
        .templates
        .insert("overdue.sms.zh-CN".into(), "逾".repeat(80));
    let plan = plan(
        &standing(5, "M1", None, "100.00"),
        &shanghai,
        &[],
        instant("2026-03-10T02:00:00Z"),
        &lender,
    );
    assert_eq!(plan.suppressed[0].ruling.rule, "sms.too-long");
}

#[test]
fn cadence_rules_take_message_channels_only() {
    let mut lender = policy();
    lender.cadence[0].channels.push(Channel::VoiceCall);
    assert_eq!(
        lender.check().unwrap_err().field,
        "policy.reminders.cadence[0].channels"
    );
}
