//! Contacting the borrower: who they are, how they may be reached, what was tried, what
//! they promised, and the rules no reminder or escalation may break.

pub mod escalation;
pub mod guard;
pub mod messages;
pub mod promises;
pub mod reminders;
pub mod sms;

#[cfg(test)]
mod compliance_tests;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::money::Currency;

/// A way of reaching a borrower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// Text message.
    Sms,
    /// E-mail.
    Email,
    /// App push notification.
    Push,
    /// Instant messaging.
    Im,
    /// Voice call.
    VoiceCall,
    /// Postal letter.
    Letter,
    /// A visit in person.
    FieldVisit,
}

impl Channel {
    /// The channel's name in the API, such as `voice_call`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Push => "push",
            Self::Im => "im",
            Self::VoiceCall => "voice_call",
            Self::Letter => "letter",
            Self::FieldVisit => "field_visit",
        }
    }

    /// Whether the channel carries an electronic message (SMS, e-mail, push, instant
    /// message): what reminders use, and what carries an opt-out line.
    pub fn is_message(self) -> bool {
        matches!(self, Self::Sms | Self::Email | Self::Push | Self::Im)
    }
}

/// Languages postloan writes reminders in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Simplified Chinese.
    ZhCn,
    /// Traditional Chinese.
    ZhTw,
    /// English.
    En,
}

/// One address on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPoint {
    /// The channel.
    pub channel: Channel,
    /// Phone number, e-mail address, device token or postal address.
    pub address: String,
}

/// The borrower as far as contacting them goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactProfile {
    /// Name used in greetings.
    pub name: String,
    /// Preferred language.
    pub language: Language,
    /// The borrower's time zone: contact windows are read in it.
    pub time_zone: Tz,
    /// Ways to reach them.
    pub contact_points: Vec<ContactPoint>,
    /// Channels they opted out of.
    pub opted_out: Vec<Channel>,
    /// No contact at all.
    pub do_not_contact: bool,
    /// They asked that communication cease: nothing but legally required notices.
    pub cease_communication: bool,
    /// A dispute is open: collection is on hold.
    pub dispute_open: bool,
    /// A hardship pause is active: escalation is on hold.
    pub hardship: bool,
}

impl ContactProfile {
    /// The address on `channel`, if the borrower has one.
    pub fn address(&self, channel: Channel) -> Option<&str> {
        self.contact_points
            .iter()
            .find(|p| p.channel == channel)
            .map(|p| p.address.as_str())
    }
}

/// What came of a contact attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A message was delivered.
    Delivered,
    /// A call was not answered.
    NoAnswer,
    /// A call was answered, by someone.
    Connected,
    /// A call reached the borrower.
    RightPartyContact,
    /// The borrower promised to pay.
    PromiseToPay,
    /// The number is not the borrower's.
    WrongNumber,
    /// The borrower refused to talk or pay.
    Refused,
    /// The borrower disputed the debt.
    DisputeRaised,
    /// Planned (in the outbox) and not yet reported: it counts against the limits as if
    /// made at its window's start.
    Planned,
}

impl Outcome {
    /// Whether a call with this outcome was answered.
    pub fn connected(self) -> bool {
        !matches!(self, Self::Delivered | Self::NoAnswer | Self::Planned)
    }

    /// Whether a call with this outcome was a conversation with the borrower about the debt.
    pub fn conversation(self) -> bool {
        matches!(
            self,
            Self::RightPartyContact | Self::PromiseToPay | Self::Refused | Self::DisputeRaised
        )
    }
}

/// One contact attempt already made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactAttempt {
    /// The loan it was about.
    pub loan_id: String,
    /// The channel used.
    pub channel: Channel,
    /// When, in UTC.
    pub at: DateTime<Utc>,
    /// What came of it.
    pub outcome: Outcome,
}

/// Where a promise to pay stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromiseStatus {
    /// Not yet due, or due and not yet judged.
    Open,
    /// Paid in full by its date.
    Kept,
    /// Not paid in full by its date.
    Broken,
}

/// A promise to pay (承诺还款).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promise {
    /// The amount promised.
    pub amount: Decimal,
    /// The date it was promised for.
    pub date: NaiveDate,
    /// Where it stands.
    pub status: PromiseStatus,
}

/// Risk tiers from the behavioural score, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Lowest risk.
    A,
    /// Low risk.
    B,
    /// Medium risk.
    C,
    /// High risk.
    D,
    /// Highest risk.
    E,
}

/// What reminders and escalation need to know of a loan's assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The loan.
    pub loan_id: String,
    /// The business date the standing is of: stages and promises are judged on it.
    pub as_of: NaiveDate,
    /// Its currency.
    pub currency: Currency,
    /// Days past due.
    pub dpd: u32,
    /// Days in arrears.
    pub days_in_arrears: u32,
    /// Delinquency bucket.
    pub bucket: String,
    /// Amount overdue.
    pub overdue: Decimal,
    /// The next installment's effective due date and unpaid amount.
    pub next_due: Option<(NaiveDate, Decimal)>,
    /// The behavioural score's tier, when scored.
    pub tier: Option<Tier>,
    /// Whether it is written off: no reminders, and escalation's recovery stage, where
    /// `overdue` is what is still owed of the amount written off.
    pub written_off: bool,
}

/// Why a contact decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruling {
    /// A stable rule identifier, such as `contact.quiet-hours`.
    pub rule: String,
    /// What the rule found, in plain words.
    pub detail: String,
}

impl Ruling {
    fn new(rule: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            rule: rule.into(),
            detail: detail.into(),
        }
    }
}
