//! The `postloan:core/contact` vocabulary as Rust, generated once and shared: the reminders
//! and escalation components name these modules in their own `generate!` (`with`), so the
//! conversions below serve both.

use std::str::FromStr;

use chrono::{DateTime, NaiveTime, Utc};
use postloan_domain::FieldError;
use postloan_domain::contact::guard::{ContactRules, Window};
use postloan_domain::contact::messages::{Message, Messages};
use postloan_domain::contact::{self as domain, Channel, Language, Ruling};
use postloan_domain::date::parse_date;
use postloan_domain::money::{Currency, parse_amount};

wit_bindgen::generate!({
    world: "contact-types",
    path: "../../wit",
    generate_all,
});

pub use postloan::core::contact as wit;
use postloan::core::types as wit_types;
use postloan::core::types::RiskTier;

/// A channel in the domain's terms.
pub fn channel(channel: wit::Channel) -> Channel {
    match channel {
        wit::Channel::Sms => Channel::Sms,
        wit::Channel::Email => Channel::Email,
        wit::Channel::Push => Channel::Push,
        wit::Channel::Im => Channel::Im,
        wit::Channel::VoiceCall => Channel::VoiceCall,
        wit::Channel::Letter => Channel::Letter,
        wit::Channel::FieldVisit => Channel::FieldVisit,
    }
}

/// The WIT channel of a domain channel.
pub fn wit_channel(channel: Channel) -> wit::Channel {
    match channel {
        Channel::Sms => wit::Channel::Sms,
        Channel::Email => wit::Channel::Email,
        Channel::Push => wit::Channel::Push,
        Channel::Im => wit::Channel::Im,
        Channel::VoiceCall => wit::Channel::VoiceCall,
        Channel::Letter => wit::Channel::Letter,
        Channel::FieldVisit => wit::Channel::FieldVisit,
    }
}

/// Parses a profile; field paths start at `profile`.
pub fn profile(p: wit::ContactProfile) -> Result<domain::ContactProfile, FieldError> {
    let language = match p.language.as_str() {
        "zh-CN" => Language::ZhCn,
        "zh-TW" => Language::ZhTw,
        "en" => Language::En,
        other => {
            return Err(FieldError::new(
                "profile.language",
                format!("`{other}` is not one of zh-CN, zh-TW, en"),
            ));
        }
    };
    let time_zone = chrono_tz::Tz::from_str(&p.time_zone).map_err(|_| {
        FieldError::new(
            "profile.time_zone",
            format!("`{}` is not an IANA time zone", p.time_zone),
        )
    })?;
    Ok(domain::ContactProfile {
        name: p.name,
        language,
        time_zone,
        contact_points: p
            .contact_points
            .into_iter()
            .map(|c| domain::ContactPoint {
                channel: channel(c.channel),
                address: c.address,
            })
            .collect(),
        opted_out: p.opted_out.into_iter().map(channel).collect(),
        do_not_contact: p.do_not_contact,
        cease_communication: p.cease_communication,
        dispute_open: p.dispute_open,
        hardship: p.hardship,
    })
}

/// Parses an RFC 3339 instant found at `field`.
pub fn instant(field: &str, text: &str) -> Result<DateTime<Utc>, FieldError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| FieldError::new(field, format!("`{text}` is not an RFC 3339 instant")))
}

/// Parses the contact history; field paths start at `history`.
pub fn history(
    attempts: Vec<wit::ContactAttempt>,
) -> Result<Vec<domain::ContactAttempt>, FieldError> {
    attempts
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            Ok(domain::ContactAttempt {
                loan_id: a.loan_id,
                channel: channel(a.channel),
                at: instant(&format!("history[{i}].at"), &a.at)?,
                outcome: match a.outcome {
                    wit::Outcome::Delivered => domain::Outcome::Delivered,
                    wit::Outcome::NoAnswer => domain::Outcome::NoAnswer,
                    wit::Outcome::Connected => domain::Outcome::Connected,
                    wit::Outcome::RightPartyContact => domain::Outcome::RightPartyContact,
                    wit::Outcome::PromiseToPay => domain::Outcome::PromiseToPay,
                    wit::Outcome::WrongNumber => domain::Outcome::WrongNumber,
                    wit::Outcome::Refused => domain::Outcome::Refused,
                    wit::Outcome::DisputeRaised => domain::Outcome::DisputeRaised,
                    wit::Outcome::Planned => domain::Outcome::Planned,
                },
            })
        })
        .collect()
}

/// Parses promises to pay; field paths start at `promises`.
pub fn promises(promises: Vec<wit::Promise>) -> Result<Vec<domain::Promise>, FieldError> {
    promises
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(domain::Promise {
                amount: parse_amount(&format!("promises[{i}].amount"), &p.amount)?,
                date: parse_date(&format!("promises[{i}].date"), &p.date)?,
                status: match p.status {
                    wit::PromiseStatus::Open => domain::PromiseStatus::Open,
                    wit::PromiseStatus::Kept => domain::PromiseStatus::Kept,
                    wit::PromiseStatus::Broken => domain::PromiseStatus::Broken,
                },
            })
        })
        .collect()
}

/// A risk tier in the domain's terms.
pub fn tier(tier: RiskTier) -> domain::Tier {
    match tier {
        RiskTier::A => domain::Tier::A,
        RiskTier::B => domain::Tier::B,
        RiskTier::C => domain::Tier::C,
        RiskTier::D => domain::Tier::D,
        RiskTier::E => domain::Tier::E,
    }
}

/// Parses the loan's standing; field paths start at `standing`.
pub fn standing(s: wit::Standing) -> Result<domain::Standing, FieldError> {
    let currency = Currency::parse("standing.currency", &s.currency)?;
    let next_due = match (s.next_due_date, s.next_due_amount) {
        (Some(date), Some(amount)) => Some((
            parse_date("standing.next_due_date", &date)?,
            currency.parse_amount("standing.next_due_amount", &amount)?,
        )),
        (None, None) => None,
        _ => {
            return Err(FieldError::new(
                "standing.next_due_date",
                "next_due_date and next_due_amount come together",
            ));
        }
    };
    Ok(domain::Standing {
        loan_id: s.loan_id,
        as_of: parse_date("standing.as_of", &s.as_of)?,
        overdue: currency.parse_amount("standing.overdue", &s.overdue)?,
        currency,
        dpd: s.dpd,
        days_in_arrears: s.days_in_arrears,
        bucket: s.bucket,
        next_due,
        tier: s.tier.map(tier),
        written_off: s.written_off,
    })
}

/// Contact rules from a preset or the lender's own; field paths start at `field`.
pub fn rules(field: &str, rules: wit::ContactRules) -> Result<ContactRules, FieldError> {
    Ok(match rules {
        wit::ContactRules::Cn2025 => ContactRules::cn_2025(),
        wit::ContactRules::UsRegF => ContactRules::us_reg_f(),
        wit::ContactRules::Custom(c) => {
            if c.window_end_hour <= c.window_start_hour || c.window_end_hour > 23 {
                return Err(FieldError::new(
                    format!("{field}.window_end_hour"),
                    "must be after window_start_hour and at most 23",
                ));
            }
            let hour =
                |h: u8| NaiveTime::from_hms_opt(u32::from(h), 0, 0).unwrap_or(NaiveTime::MIN);
            ContactRules {
                name: "custom".into(),
                window_start: hour(c.window_start_hour),
                window_end: hour(c.window_end_hour),
                max_connected_calls_per_day: c.max_connected_calls_per_day,
                max_call_attempts_per_seven_days: c.max_call_attempts_per_seven_days,
                call_pause_after_conversation_days: c.call_pause_after_conversation_days,
            }
        }
    })
}

/// Message settings in the domain's terms; the policy that holds them checks them.
pub fn messages(m: wit::MessageSettings) -> Messages {
    Messages {
        templates: m.templates.into_iter().map(|t| (t.key, t.text)).collect(),
        payment_link: m.payment_link,
        max_sms_segments: m.max_sms_segments,
    }
}

/// A rendered message as WIT.
pub fn message(m: Message) -> wit::Message {
    wit::Message {
        address: m.address,
        text: m.text,
        sms_segments: m.sms_segments,
    }
}

/// A window as RFC 3339 instants in the borrower's offset.
pub fn window(w: &Window) -> wit::ContactWindow {
    wit::ContactWindow {
        not_before: w.not_before.to_rfc3339(),
        not_after: w.not_after.to_rfc3339(),
    }
}

/// A held-back contact.
pub fn held_back(kind: &str, ruling: Ruling) -> wit::HeldBack {
    wit::HeldBack {
        kind: kind.to_owned(),
        reason: wit_types::Reason {
            rule: ruling.rule,
            detail: ruling.detail,
        },
    }
}

/// A domain reason as WIT.
pub fn reason(ruling: Ruling) -> wit_types::Reason {
    wit_types::Reason {
        rule: ruling.rule,
        detail: ruling.detail,
    }
}

/// The WIT field error of a domain one.
pub fn field_error(error: FieldError) -> wit_types::FieldError {
    wit_types::FieldError {
        field: error.field,
        reason: error.reason,
    }
}
