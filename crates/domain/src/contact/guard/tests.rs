//! Hand-worked contact windows: every instant is converted by hand in the comment beside it.

use super::*;
use crate::contact::{ContactPoint, Language, Outcome};

pub(crate) fn instant(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

pub(crate) fn profile(time_zone: Tz) -> ContactProfile {
    use Channel::*;
    ContactProfile {
        name: "Li Lei".into(),
        language: Language::ZhCn,
        time_zone,
        contact_points: [Sms, Email, Push, Im, VoiceCall, Letter, FieldVisit]
            .into_iter()
            .map(|channel| ContactPoint {
                channel,
                address: format!("{}-address", channel.name()),
            })
            .collect(),
        opted_out: vec![],
        do_not_contact: false,
        cease_communication: false,
        dispute_open: false,
        hardship: false,
    }
}

fn call(loan_id: &str, at: &str, outcome: Outcome) -> ContactAttempt {
    ContactAttempt {
        loan_id: loan_id.into(),
        channel: Channel::VoiceCall,
        at: instant(at),
        outcome,
    }
}

fn window(verdict: Verdict) -> (DateTime<Utc>, DateTime<Utc>, Vec<String>) {
    match verdict {
        Verdict::Allowed { window, moved } => (
            window.not_before.with_timezone(&Utc),
            window.not_after.with_timezone(&Utc),
            moved.into_iter().map(|r| r.rule).collect(),
        ),
        Verdict::Suppressed(ruling) => panic!("suppressed by {}", ruling.rule),
    }
}

fn suppressed_by(verdict: Verdict) -> String {
    match verdict {
        Verdict::Suppressed(ruling) => ruling.rule,
        Verdict::Allowed { window, .. } => panic!("allowed at {}", window.not_before),
    }
}

#[test]
fn a_message_in_quiet_hours_moves_to_eight_next_morning() {
    // 2026-03-10T15:00Z is 23:00 in Shanghai (UTC+8): quiet under cn_2025. The next window
    // opens 2026-03-11 08:00 local = 00:00Z and closes 22:00 local = 14:00Z.
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    let verdict = judge(
        &ContactRules::cn_2025(),
        &shanghai,
        &[],
        Channel::Sms,
        "L-1",
        instant("2026-03-10T15:00:00Z"),
    );
    let (from, to, moved) = window(verdict);
    assert_eq!(from, instant("2026-03-11T00:00:00Z"));
    assert_eq!(to, instant("2026-03-11T14:00:00Z"));
    assert_eq!(moved, ["contact.quiet-hours"]);
}

#[test]
fn inside_the_window_the_contact_may_go_at_once() {
    // 02:00Z is 10:00 in Shanghai.
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    let now = instant("2026-03-10T02:00:00Z");
    let (from, to, moved) = window(judge(
        &ContactRules::cn_2025(),
        &shanghai,
        &[],
        Channel::Push,
        "L-1",
        now,
    ));
    assert_eq!((from, to), (now, instant("2026-03-10T14:00:00Z")));
    assert!(moved.is_empty());
}

#[test]
fn the_borrowers_local_date_is_not_utcs() {
    // 2026-03-11T17:00Z is already 2026-03-12 01:00 in Shanghai: the window is that local
    // day's, 2026-03-12 08:00 local = 2026-03-12T00:00Z.
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    let verdict = judge(
        &ContactRules::cn_2025(),
        &shanghai,
        &[],
        Channel::Sms,
        "L-1",
        instant("2026-03-11T17:00:00Z"),
    );
    assert_eq!(window(verdict).0, instant("2026-03-12T00:00:00Z"));
}

#[test]
fn daylight_saving_moves_the_window_in_utc() {
    // New York springs forward on 2026-03-08 at 02:00. At 06:00Z it is 01:00 EST; the window
    // opens at 08:00 EDT (UTC−4) = 12:00Z, not 13:00Z, and closes 21:00 EDT = 2026-03-09T01:00Z.
    let new_york = profile(chrono_tz::America::New_York);
    let verdict = judge(
        &ContactRules::us_reg_f(),
        &new_york,
        &[],
        Channel::VoiceCall,
        "L-1",
        instant("2026-03-08T06:00:00Z"),
    );
    let (from, to, _) = window(verdict);
    assert_eq!(from, instant("2026-03-08T12:00:00Z"));
    assert_eq!(to, instant("2026-03-09T01:00:00Z"));
    // The day before, still on EST (UTC−5), 08:00 is 13:00Z.
    let verdict = judge(
        &ContactRules::us_reg_f(),
        &new_york,
        &[],
        Channel::VoiceCall,
        "L-1",
        instant("2026-03-07T06:00:00Z"),
    );
    assert_eq!(window(verdict).0, instant("2026-03-07T13:00:00Z"));
}

#[test]
fn three_connected_calls_a_day_under_cn_2025() {
    // Three connected calls on 2026-03-10 (Shanghai), about two loans: a fourth waits for
    // 2026-03-11 08:00 local = 00:00Z. Unanswered calls do not count.
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    let mut history = vec![
        call("L-1", "2026-03-10T01:00:00Z", Outcome::RightPartyContact),
        call("L-2", "2026-03-10T02:00:00Z", Outcome::Connected),
        call("L-1", "2026-03-10T03:00:00Z", Outcome::NoAnswer),
    ];
    let now = instant("2026-03-10T04:00:00Z");
    let rules = ContactRules::cn_2025();
    assert_eq!(
        window(judge(
            &rules,
            &shanghai,
            &history,
            Channel::VoiceCall,
            "L-1",
            now
        ))
        .0,
        now
    );
    history.push(call("L-2", "2026-03-10T03:30:00Z", Outcome::Refused));
    let (from, _, moved) = window(judge(
        &rules,
        &shanghai,
        &history,
        Channel::VoiceCall,
        "L-1",
        now,
    ));
    assert_eq!(from, instant("2026-03-11T00:00:00Z"));
    assert_eq!(moved, ["contact.connected-calls-per-day"]);
    // Messages are not calls.
    assert_eq!(
        window(judge(&rules, &shanghai, &history, Channel::Sms, "L-1", now)).0,
        now
    );
}

#[test]
fn seven_call_attempts_in_seven_days_under_reg_f() {
    // One unanswered call a day about L-1 from 2026-05-01 to 2026-05-07 (noon in New York,
    // EDT = 16:00Z). On 2026-05-07 the 7 days 05-01..05-07 hold 7 attempts: no more. On
    // 2026-05-08 the days 05-02..05-08 hold 6: allowed from 08:00 EDT = 12:00Z.
    let new_york = profile(chrono_tz::America::New_York);
    let history: Vec<_> = (1..=7)
        .map(|day| {
            call(
                "L-1",
                &format!("2026-05-0{day}T16:00:00Z"),
                Outcome::NoAnswer,
            )
        })
        .collect();
    let rules = ContactRules::us_reg_f();
    let now = instant("2026-05-07T18:00:00Z");
    let (from, _, moved) = window(judge(
        &rules,
        &new_york,
        &history,
        Channel::VoiceCall,
        "L-1",
        now,
    ));
    assert_eq!(from, instant("2026-05-08T12:00:00Z"));
    assert_eq!(moved, ["contact.call-attempts-7-days"]);
    // Another debt is not capped by L-1's attempts.
    assert_eq!(
        window(judge(
            &rules,
            &new_york,
            &history,
            Channel::VoiceCall,
            "L-2",
            now
        ))
        .0,
        now
    );
}

#[test]
fn no_call_within_seven_days_of_a_conversation_under_reg_f() {
    // A conversation about L-1 on 2026-05-02 (day 1): no call through 2026-05-08 (day 7);
    // the next is allowed 2026-05-09 at 08:00 EDT = 12:00Z.
    let new_york = profile(chrono_tz::America::New_York);
    let history = vec![call("L-1", "2026-05-02T15:00:00Z", Outcome::PromiseToPay)];
    let rules = ContactRules::us_reg_f();
    let (from, _, moved) = window(judge(
        &rules,
        &new_york,
        &history,
        Channel::VoiceCall,
        "L-1",
        instant("2026-05-04T14:00:00Z"),
    ));
    assert_eq!(from, instant("2026-05-09T12:00:00Z"));
    assert_eq!(moved, ["contact.call-after-conversation"]);
}

#[test]
fn hard_stops_suppress() {
    let rules = ContactRules::cn_2025();
    let now = instant("2026-03-10T02:00:00Z");
    let judged = |edit: &dyn Fn(&mut ContactProfile), channel| {
        let mut p = profile(chrono_tz::Asia::Shanghai);
        edit(&mut p);
        suppressed_by(judge(&rules, &p, &[], channel, "L-1", now))
    };
    assert_eq!(
        judged(&|p| p.do_not_contact = true, Channel::Sms),
        "contact.do-not-contact"
    );
    assert_eq!(
        judged(&|p| p.cease_communication = true, Channel::Letter),
        "contact.cease-communication"
    );
    assert_eq!(
        judged(&|p| p.dispute_open = true, Channel::Sms),
        "contact.dispute-hold"
    );
    assert_eq!(
        judged(&|p| p.opted_out = vec![Channel::Sms], Channel::Sms),
        "contact.opted-out"
    );
    assert_eq!(
        judged(&|p| p.contact_points.clear(), Channel::Email),
        "contact.no-address"
    );
}

#[test]
fn letters_have_no_quiet_hours() {
    // 15:00Z is 23:00 in Shanghai, yet a letter may go at once.
    let now = instant("2026-03-10T15:00:00Z");
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    assert_eq!(
        window(judge(
            &ContactRules::cn_2025(),
            &shanghai,
            &[],
            Channel::Letter,
            "L-1",
            now
        ))
        .0,
        now
    );
}
