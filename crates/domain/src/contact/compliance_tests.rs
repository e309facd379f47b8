//! The compliance property: over thousands of random borrowers, histories and instants, no
//! reminder or escalation action that postloan emits breaks a rule of its preset. The
//! checker below restates each rule from its text; it shares no code with the guard.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::escalation::{self, EscalationPolicy, Ladder, Stage};
use super::guard::{ContactRules, Window};
use super::reminders::{self, ReminderPolicy};
use super::*;

const ZONES: [Tz; 6] = [
    chrono_tz::Asia::Shanghai,
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Sydney,
    chrono_tz::America::Los_Angeles,
    chrono_tz::Asia::Kolkata,
];
const CHANNELS: [Channel; 7] = [
    Channel::Sms,
    Channel::Email,
    Channel::Push,
    Channel::Im,
    Channel::VoiceCall,
    Channel::Letter,
    Channel::FieldVisit,
];
const OUTCOMES: [Outcome; 9] = [
    Outcome::Delivered,
    Outcome::NoAnswer,
    Outcome::Connected,
    Outcome::RightPartyContact,
    Outcome::PromiseToPay,
    Outcome::WrongNumber,
    Outcome::Refused,
    Outcome::DisputeRaised,
    Outcome::Planned,
];

/// One random situation: who, what was tried, when, under which preset.
#[derive(Debug, Clone)]
struct Case {
    profile: ContactProfile,
    history: Vec<ContactAttempt>,
    now: DateTime<Utc>,
    dpd: u32,
    us: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let flags = prop::collection::vec(prop::bool::weighted(0.05), 4);
    let attempts = prop::collection::vec(
        (0usize..2, 0usize..11, 0i64..14 * 24 * 60, 0usize..9),
        0..30,
    );
    (
        0usize..ZONES.len(),
        prop::collection::vec(prop::bool::weighted(0.15), 7),
        flags,
        attempts,
        0i64..366 * 24 * 60,
        0u32..200,
        any::<bool>(),
    )
        .prop_map(|(zone, opted, flags, attempts, minute, dpd, us)| {
            // Instants through 2026, DST changes included; history within the 14 days before.
            let now = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
                + Duration::minutes(minute);
            let profile = ContactProfile {
                name: "Borrower".into(),
                language: Language::En,
                time_zone: ZONES[zone],
                contact_points: CHANNELS
                    .iter()
                    .map(|c| ContactPoint {
                        channel: *c,
                        address: format!("{}-address", c.name()),
                    })
                    .collect(),
                opted_out: CHANNELS
                    .iter()
                    .zip(&opted)
                    .filter(|(_, o)| **o)
                    .map(|(c, _)| *c)
                    .collect(),
                do_not_contact: flags[0],
                cease_communication: flags[1],
                dispute_open: flags[2],
                hardship: flags[3],
            };
            let history = attempts
                .into_iter()
                .map(|(loan, channel, ago, outcome)| ContactAttempt {
                    loan_id: format!("L-{loan}"),
                    // Calls weigh as much as every other channel together.
                    channel: if channel < 4 {
                        Channel::VoiceCall
                    } else {
                        CHANNELS[channel - 4]
                    },
                    at: now - Duration::minutes(ago),
                    outcome: OUTCOMES[outcome],
                })
                .collect();
            Case {
                profile,
                history,
                now,
                dpd,
                us,
            }
        })
}

fn standing(dpd: u32, now: DateTime<Utc>) -> Standing {
    let bucket = match dpd {
        0 => "M0",
        1..=30 => "M1",
        31..=60 => "M2",
        _ => "M3",
    };
    Standing {
        loan_id: "L-0".into(),
        as_of: now.date_naive(),
        currency: crate::money::Currency::parse("c", "USD").unwrap(),
        dpd,
        days_in_arrears: dpd,
        bucket: bucket.into(),
        overdue: Decimal::ONE_HUNDRED,
        next_due: Some((
            now.date_naive() + Duration::days(i64::from(dpd % 4)),
            Decimal::ONE_HUNDRED,
        )),
        tier: None,
        written_off: false,
    }
}

/// Every rule of the preset, restated: returns the first one `channel` in `window` breaks.
fn broken_rule(case: &Case, channel: Channel, window: &Window) -> Option<&'static str> {
    let p = &case.profile;
    if p.do_not_contact || p.cease_communication {
        return Some("no contact for do-not-contact or cease-communication");
    }
    if p.dispute_open {
        return Some("an open dispute holds collection");
    }
    if p.opted_out.contains(&channel) {
        return Some("an opted-out channel is never used");
    }
    if window.not_before.with_timezone(&Utc) < case.now - Duration::seconds(1) {
        return Some("a window may not start in the past");
    }
    if channel == Channel::Letter {
        return None;
    }
    let (open, close) = if case.us { (8, 21) } else { (8, 22) };
    let first = window.not_before;
    let last = window.not_after - Duration::seconds(1);
    let inside = |t: DateTime<Tz>| (open..close).contains(&t.hour());
    if !inside(first) || !inside(last) || first.date_naive() != last.date_naive() {
        return Some("contact only inside the local contact window");
    }
    if channel != Channel::VoiceCall {
        return None;
    }
    let day: NaiveDate = first.date_naive();
    let local_day = |a: &ContactAttempt| a.at.with_timezone(&p.time_zone).date_naive();
    let calls = case
        .history
        .iter()
        .filter(|a| a.channel == Channel::VoiceCall);
    if case.us {
        let this_debt: Vec<_> = calls.filter(|a| a.loan_id == "L-0").collect();
        let week = this_debt
            .iter()
            .filter(|a| (day - Duration::days(6)..=day).contains(&local_day(a)))
            .count();
        if week >= 7 {
            return Some("at most 7 call attempts per debt in 7 consecutive days");
        }
        let talked = |a: &&&ContactAttempt| {
            matches!(
                a.outcome,
                Outcome::RightPartyContact
                    | Outcome::PromiseToPay
                    | Outcome::Refused
                    | Outcome::DisputeRaised
            )
        };
        if this_debt
            .iter()
            .filter(talked)
            .any(|a| local_day(a) <= day && day <= local_day(a) + Duration::days(6))
        {
            return Some("no call within 7 days after a conversation about the debt");
        }
    } else {
        let answered = calls
            .filter(|a| {
                // A planned call is not made yet, so nobody answered it.
                !matches!(
                    a.outcome,
                    Outcome::Delivered | Outcome::NoAnswer | Outcome::Planned
                ) && local_day(a) == day
            })
            .count();
        if answered >= 3 {
            return Some("at most 3 connected calls per debtor per day");
        }
    }
    None
}

/// 12 CFR 1006.6(e): an e-mail, a text message or any other electronic message carries a
/// way to opt out, in every language.
fn opts_out(text: &str) -> bool {
    ["opt out", "UNSUBSCRIBE", "退订", "退訂"]
        .iter()
        .any(|w| text.contains(w))
}

fn messages() -> messages::Messages {
    messages::Messages {
        templates: BTreeMap::new(),
        payment_link: "https://pay.example.com/{loan_id}".into(),
        max_sms_segments: 3,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn no_emitted_contact_breaks_a_rule(case in case()) {
        let rules = if case.us { ContactRules::us_reg_f() } else { ContactRules::cn_2025() };
        let standing = standing(case.dpd, case.now);
        let reminder_policy = ReminderPolicy {
            cadence: ReminderPolicy::default_cadence(),
            messages: messages(),
            rules: rules.clone(),
        };
        let plan = reminders::plan(&standing, &case.profile, &case.history, case.now, &reminder_policy);
        // Every message emitted, with its local day, to check one per channel and day.
        let mut messages_sent: Vec<(Channel, NaiveDate)> = Vec::new();
        for reminder in &plan.to_send {
            prop_assert_eq!(broken_rule(&case, reminder.channel, &reminder.window), None, "{:?}", reminder);
            prop_assert!(opts_out(&reminder.text), "no opt-out: {:?}", reminder);
            messages_sent.push((reminder.channel, reminder.window.not_before.date_naive()));
        }
        let escalation_policy = EscalationPolicy {
            strategies: vec![escalation::Strategy { name: "champion".into(), share_percent: 100, ladder: Ladder::default_ladder() }],
            pre_due_days: 3,
            promise_grace_days: 2,
            high_risk_tiers: vec![Tier::D, Tier::E],
            small_balance: None,
            queues: BTreeMap::new(),
            messages: messages(),
            rules,
        };
        // Escalation sees the reminders just planned, as the service passes them on.
        let mut history = case.history.clone();
        history.extend(plan.to_send.iter().map(|r| r.planned("L-0")));
        let decision = escalation::decide(&standing, &case.profile, &history, &[], Stage::Early, case.now, &escalation_policy);
        for action in &decision.actions {
            let channel = CHANNELS.iter().find(|c| c.name() == action.kind);
            if let (Some(channel), Some(window)) = (channel, &action.window) {
                prop_assert_eq!(broken_rule(&case, *channel, window), None, "{:?}", action);
                if channel.is_message() {
                    let text = action.message.as_ref().map(|m| m.text.as_str()).unwrap_or_default();
                    prop_assert!(opts_out(text), "no opt-out: {:?}", action);
                    messages_sent.push((*channel, window.not_before.date_naive()));
                }
            }
        }
        // One message per loan, channel and local day, counting what history holds of it
        // (sent, reported or planned) and what this run planned on any path.
        let local_day = |a: &ContactAttempt| a.at.with_timezone(&case.profile.time_zone).date_naive();
        for (i, (channel, day)) in messages_sent.iter().enumerate() {
            let before = case.history.iter().any(|a| a.loan_id == "L-0" && a.channel == *channel && local_day(a) == *day);
            let twice = messages_sent[..i].contains(&(*channel, *day));
            prop_assert!(!before && !twice, "a second {:?} on {}", channel, day);
        }
    }
}
