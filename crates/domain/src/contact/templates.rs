//! Built-in reminder texts, per kind, channel class and language, and their rendering.
//!
//! Variables: `{name}`, `{amount}`, `{currency}`, `{due_date}`, `{days_overdue}`,
//! `{payment_link}`. A lender's template under the same key replaces the built-in one.

use std::collections::BTreeMap;

use super::{Channel, Language};

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Before the due date.
    PreDue,
    /// On the due date.
    DueDay,
    /// After the due date.
    Overdue,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::PreDue => "pre_due",
            Self::DueDay => "due_day",
            Self::Overdue => "overdue",
        }
    }
}

/// Every variable a template may use.
pub const VARIABLES: [&str; 6] = [
    "name",
    "amount",
    "currency",
    "due_date",
    "days_overdue",
    "payment_link",
];

/// The template key, such as `overdue.sms.zh-CN`: kind, channel and language.
pub fn key(kind: Kind, channel: Channel, language: Language) -> String {
    format!(
        "{}.{}.{}",
        kind.name(),
        channel.name(),
        language_tag(language)
    )
}

/// The language's BCP 47 tag.
pub fn language_tag(language: Language) -> &'static str {
    match language {
        Language::ZhCn => "zh-CN",
        Language::ZhTw => "zh-TW",
        Language::En => "en",
    }
}

/// The built-in text for a kind, channel and language. E-mail gets a fuller text; SMS, push
/// and IM share the short one.
pub fn built_in(kind: Kind, channel: Channel, language: Language) -> &'static str {
    let email = channel == Channel::Email;
    match (kind, language, email) {
        (Kind::PreDue, Language::En, false) => {
            "{name}, {amount} {currency} is due on {due_date}. Pay: {payment_link}"
        }
        (Kind::PreDue, Language::En, true) => {
            "Dear {name}, your installment of {amount} {currency} is due on {due_date}. You can pay it at {payment_link}."
        }
        (Kind::DueDay, Language::En, false) => {
            "{name}, {amount} {currency} is due today. Pay: {payment_link}"
        }
        (Kind::DueDay, Language::En, true) => {
            "Dear {name}, your installment of {amount} {currency} is due today, {due_date}. You can pay it at {payment_link}."
        }
        (Kind::Overdue, Language::En, false) => {
            "{name}, {amount} {currency} is {days_overdue} days overdue. Pay: {payment_link}"
        }
        (Kind::Overdue, Language::En, true) => {
            "Dear {name}, {amount} {currency} of your loan is {days_overdue} days overdue. Please pay at {payment_link} or contact us."
        }
        (Kind::PreDue, Language::ZhCn, _) => {
            "{name}您好，您有{amount}{currency}将于{due_date}到期，还款：{payment_link}"
        }
        (Kind::DueDay, Language::ZhCn, _) => {
            "{name}您好，您有{amount}{currency}今日到期，还款：{payment_link}"
        }
        (Kind::Overdue, Language::ZhCn, _) => {
            "{name}您好，您有{amount}{currency}已逾期{days_overdue}天，请尽快还款：{payment_link}"
        }
        (Kind::PreDue, Language::ZhTw, _) => {
            "{name}您好，您有{amount}{currency}將於{due_date}到期，還款：{payment_link}"
        }
        (Kind::DueDay, Language::ZhTw, _) => {
            "{name}您好，您有{amount}{currency}今日到期，還款：{payment_link}"
        }
        (Kind::Overdue, Language::ZhTw, _) => {
            "{name}您好，您有{amount}{currency}已逾期{days_overdue}天，請盡快還款：{payment_link}"
        }
    }
}

/// The opt-out line every electronic message (SMS, e-mail, push, instant message) carries,
/// in the borrower's language: 12 CFR 1006.6(e) asks a clear and conspicuous way to opt out
/// of communication by e-mail, text message or any other electronic medium. Voice calls,
/// letters and visits carry none.
pub fn opt_out_line(channel: Channel, language: Language) -> Option<&'static str> {
    match (channel, language) {
        (Channel::Push, Language::En) => {
            Some("To opt out, turn off these notifications in the app's settings.")
        }
        (Channel::Push, Language::ZhCn) => Some("如需退订，请在应用设置中关闭此类通知。"),
        (Channel::Push, Language::ZhTw) => Some("如需退訂，請在應用程式設定中關閉此類通知。"),
        (Channel::Im, Language::En) => Some("Reply STOP to opt out."),
        (Channel::Im, Language::ZhCn) => Some("回复TD退订"),
        (Channel::Im, Language::ZhTw) => Some("回覆TD退訂"),
        (Channel::Sms, Language::En) => Some("Reply STOP to opt out."),
        (Channel::Sms, Language::ZhCn) => Some("回复TD退订"),
        (Channel::Sms, Language::ZhTw) => Some("回覆TD退訂"),
        (Channel::Email, Language::En) => Some("To stop these e-mails, reply UNSUBSCRIBE."),
        (Channel::Email, Language::ZhCn) => Some("如不想再收到此类邮件，请回复“退订”。"),
        (Channel::Email, Language::ZhTw) => Some("如不想再收到此類郵件，請回覆「退訂」。"),
        _ => None,
    }
}

/// Fills a template's variables.
pub fn render(template: &str, values: &BTreeMap<&str, String>) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

/// The first `{…}` in `template` that is not a known variable.
pub fn unknown_variable(template: &str) -> Option<String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if !VARIABLES.contains(&name) {
            return Some(name.to_owned());
        }
        rest = &after[close + 1..];
    }
    None
}
