//! The compliance guard: every proposed contact passes through it, and it either allows the
//! contact in a window of the borrower's local time, moves it to the next allowed window,
//! or suppresses it — and says which rule decided.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Channel, ContactAttempt, ContactProfile, Ruling};

/// The contact rules in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRules {
    /// The preset's name, such as `cn_2025`, or `custom`.
    pub name: String,
    /// Local time from which contact is allowed.
    pub window_start: NaiveTime,
    /// Local time from which contact is no longer allowed.
    pub window_end: NaiveTime,
    /// Connected voice calls per debtor per local day, across all loans.
    pub max_connected_calls_per_day: Option<u32>,
    /// Call attempts per debt in any 7 consecutive local days.
    pub max_call_attempts_per_seven_days: Option<u32>,
    /// After a telephone conversation about a debt, no call about it for this many days,
    /// the conversation's day being day 1.
    pub call_pause_after_conversation_days: Option<u32>,
}

fn hour(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)
}

impl ContactRules {
    /// China, 2025 industry guideline for internet-lending collections: no contact
    /// 22:00–08:00 local time; at most 3 connected voice calls per debtor a day.
    pub fn cn_2025() -> Self {
        Self {
            name: "cn_2025".into(),
            window_start: hour(8),
            window_end: hour(22),
            max_connected_calls_per_day: Some(3),
            max_call_attempts_per_seven_days: None,
            call_pause_after_conversation_days: None,
        }
    }

    /// US Regulation F: contact 08:00–21:00 local time; at most 7 call attempts per debt in
    /// 7 consecutive days; no call within 7 days after a telephone conversation about it.
    pub fn us_reg_f() -> Self {
        Self {
            name: "us_reg_f".into(),
            window_start: hour(8),
            window_end: hour(21),
            max_connected_calls_per_day: None,
            max_call_attempts_per_seven_days: Some(7),
            call_pause_after_conversation_days: Some(7),
        }
    }
}

/// When a contact may happen: from `not_before` until, not including, `not_after`, both in
/// the borrower's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Earliest send time.
    pub not_before: DateTime<Tz>,
    /// Latest send time (exclusive).
    pub not_after: DateTime<Tz>,
}

/// The guard's answer for one proposed contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed in `window`; `moved` says which rules pushed it later than proposed.
    Allowed {
        /// When it may happen.
        window: Window,
        /// The rules that moved it, if any.
        moved: Vec<Ruling>,
    },
    /// Not allowed at all.
    Suppressed(Ruling),
}

/// How far ahead the guard looks for an allowed window before giving up.
const HORIZON_DAYS: i64 = 14;

/// Judges a contact on `channel` about `loan_id`, proposed for `earliest`, given everything
/// already attempted with this borrower (`history`, all loans).
pub fn judge(
    rules: &ContactRules,
    profile: &ContactProfile,
    history: &[ContactAttempt],
    channel: Channel,
    loan_id: &str,
    earliest: DateTime<Utc>,
) -> Verdict {
    if let Some(stop) = hard_stop(profile, channel) {
        return Verdict::Suppressed(stop);
    }
    let tz = profile.time_zone;
    let local = earliest.with_timezone(&tz);
    if channel == Channel::Letter {
        // Post is not delivered at an hour: no quiet hours apply.
        let window = Window {
            not_before: local,
            not_after: local + Duration::days(1),
        };
        return Verdict::Allowed {
            window,
            moved: vec![],
        };
    }
    let mut moved: Vec<Ruling> = Vec::new();
    let first_day = local.date_naive();
    for day in (0..=HORIZON_DAYS).map(|n| first_day + Duration::days(n)) {
        let (start, end) = day_window(rules, tz, day);
        let not_before = if day == first_day {
            start.max(local)
        } else {
            start
        };
        if not_before >= end {
            note(
                &mut moved,
                Ruling::new("contact.quiet-hours", quiet_hours(rules)),
            );
        } else if let Some(blocked) = call_block(rules, history, channel, loan_id, day, tz) {
            note(&mut moved, blocked);
        } else {
            if let Some(sent) = message_sent(history, channel, loan_id, day, tz) {
                return Verdict::Suppressed(sent);
            }
            if not_before > local && day == first_day {
                note(
                    &mut moved,
                    Ruling::new("contact.quiet-hours", quiet_hours(rules)),
                );
            }
            let window = Window {
                not_before,
                not_after: end,
            };
            return Verdict::Allowed { window, moved };
        }
    }
    Verdict::Suppressed(Ruling::new(
        "contact.no-window",
        format!(
            "no allowed window for {} within {HORIZON_DAYS} days",
            channel.name()
        ),
    ))
}

/// The rules that moved a contact, as words to append to its explanation.
pub fn moved_note(moved: &[Ruling]) -> String {
    moved
        .iter()
        .map(|r| format!("; moved by {}: {}", r.rule, r.detail))
        .collect()
}

/// Records a rule that moved the contact, once.
fn note(moved: &mut Vec<Ruling>, ruling: Ruling) {
    if !moved.iter().any(|r| r.rule == ruling.rule) {
        moved.push(ruling);
    }
}

/// Rules that stop a contact outright.
fn hard_stop(profile: &ContactProfile, channel: Channel) -> Option<Ruling> {
    if profile.do_not_contact {
        return Some(Ruling::new(
            "contact.do-not-contact",
            "the borrower is marked do-not-contact",
        ));
    }
    if profile.cease_communication {
        return Some(Ruling::new(
            "contact.cease-communication",
            "the borrower asked that communication cease; only legally required notices may go",
        ));
    }
    if profile.dispute_open {
        return Some(Ruling::new(
            "contact.dispute-hold",
            "an open dispute holds collection",
        ));
    }
    if profile.opted_out.contains(&channel) {
        return Some(Ruling::new(
            "contact.opted-out",
            format!("the borrower opted out of {}", channel.name()),
        ));
    }
    if profile.address(channel).is_none() {
        return Some(Ruling::new(
            "contact.no-address",
            format!("the borrower has no {} address", channel.name()),
        ));
    }
    None
}

/// The allowed window of one local day, as instants in the borrower's zone. A window edge
/// that falls in a daylight-saving gap moves to the first valid instant after it.
fn day_window(rules: &ContactRules, tz: Tz, day: NaiveDate) -> (DateTime<Tz>, DateTime<Tz>) {
    (
        local_instant(tz, day, rules.window_start),
        local_instant(tz, day, rules.window_end),
    )
}

fn local_instant(tz: Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Tz> {
    let wanted = day.and_time(time);
    (0..=4)
        .find_map(|quarter| {
            tz.from_local_datetime(&(wanted + Duration::minutes(15 * quarter)))
                .earliest()
        })
        .unwrap_or_else(|| tz.from_utc_datetime(&wanted))
}

fn quiet_hours(rules: &ContactRules) -> String {
    format!(
        "{} allows contact only {}–{} borrower local time",
        rules.name,
        rules.window_start.format("%H:%M"),
        rules.window_end.format("%H:%M"),
    )
}

/// One message per loan, channel and local day, whichever path planned it: a message
/// already sent, reported or planned (in the outbox) on `day` holds back another.
fn message_sent(
    history: &[ContactAttempt],
    channel: Channel,
    loan_id: &str,
    day: NaiveDate,
    tz: Tz,
) -> Option<Ruling> {
    let sent = channel.is_message()
        && history.iter().any(|a| {
            a.loan_id == loan_id
                && a.channel == channel
                && a.at.with_timezone(&tz).date_naive() == day
        });
    sent.then(|| {
        Ruling::new(
            "contact.one-message-per-day",
            format!(
                "a {} about this loan is already sent or planned for {day}",
                channel.name()
            ),
        )
    })
}

/// Call caps that rule out a voice call on the local `day`, if any.
fn call_block(
    rules: &ContactRules,
    history: &[ContactAttempt],
    channel: Channel,
    loan_id: &str,
    day: NaiveDate,
    tz: Tz,
) -> Option<Ruling> {
    if channel != Channel::VoiceCall {
        return None;
    }
    let calls = || history.iter().filter(|a| a.channel == Channel::VoiceCall);
    let local_day = |a: &ContactAttempt| a.at.with_timezone(&tz).date_naive();
    if let Some(max) = rules.max_connected_calls_per_day {
        let connected = calls()
            .filter(|a| a.outcome.connected() && local_day(a) == day)
            .count();
        if connected >= max as usize {
            return Some(Ruling::new(
                "contact.connected-calls-per-day",
                format!(
                    "{connected} connected calls on {day} already; {} allows {max} a day",
                    rules.name
                ),
            ));
        }
    }
    let this_debt = || calls().filter(|a| a.loan_id == loan_id);
    if let Some(max) = rules.max_call_attempts_per_seven_days {
        let first = day - Duration::days(6);
        let attempts = this_debt()
            .filter(|a| (first..=day).contains(&local_day(a)))
            .count();
        if attempts >= max as usize {
            return Some(Ruling::new(
                "contact.call-attempts-7-days",
                format!(
                    "{attempts} call attempts about this debt from {first} to {day}; {} allows {max}",
                    rules.name
                ),
            ));
        }
    }
    if let Some(pause) = rules.call_pause_after_conversation_days {
        let conversed = this_debt()
            .filter(|a| a.outcome.conversation())
            .map(local_day)
            .filter(|talked| *talked <= day && day < *talked + Duration::days(i64::from(pause)))
            .max();
        if let Some(talked) = conversed {
            return Some(Ruling::new(
                "contact.call-after-conversation",
                format!(
                    "a telephone conversation about this debt on {talked} (day 1); {} allows no call for {pause} days",
                    rules.name
                ),
            ));
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests;
