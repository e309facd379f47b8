//! The texts postloan sends: built-in ones per kind, channel class and language, a lender's
//! own under the same key, and their rendering with the opt-out line and the SMS limit.
//!
//! Templates are [MiniJinja](https://docs.rs/minijinja): `{{ amount }}` fills a variable and
//! `{% if payment_link %}…{% endif %}` writes a clause only when its value exists. The first
//! template syntax, `{name}`, still reads as `{{ name }}`, so templates stored before keep
//! rendering as they did.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use minijinja::{Environment, UndefinedBehavior, Value};

use super::{Channel, ContactProfile, Language, Ruling, Standing, sms};
use crate::FieldError;

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A reminder before the due date.
    PreDue,
    /// A reminder on the due date.
    DueDay,
    /// A reminder after the due date.
    Overdue,
    /// A collection message of the escalation's early stage.
    Collection,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::PreDue => "pre_due",
            Self::DueDay => "due_day",
            Self::Overdue => "overdue",
            Self::Collection => "collection",
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

/// Rendering steps a lender template may take (MiniJinja's fuel): far more than any text
/// needs, so that no template can hold a request.
const FUEL: u64 = 20_000;

/// Characters a lender template may have.
const MAX_TEMPLATE_CHARS: usize = 2_000;

/// How messages are written, shared by reminders and escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messages {
    /// Lender templates by key (`overdue.sms.en`), replacing the built-in ones.
    pub templates: BTreeMap<String, String>,
    /// The payment link; `{loan_id}` in it is filled in; empty for none.
    pub payment_link: String,
    /// Most SMS segments a message may take.
    pub max_sms_segments: u32,
}

impl Messages {
    /// Checks each lender template parses, names known variables only and renders;
    /// `field` names the templates, as `policy.reminders.templates`.
    pub fn check(&self, field: &str) -> Result<(), FieldError> {
        for (key, template) in &self.templates {
            let field = format!("{field}.{key}");
            if template.chars().count() > MAX_TEMPLATE_CHARS {
                return Err(FieldError::new(
                    field,
                    format!("has more than {MAX_TEMPLATE_CHARS} characters"),
                ));
            }
            check_template(template).map_err(|reason| FieldError::new(field, reason))?;
        }
        Ok(())
    }
}

fn check_template(template: &str) -> Result<(), String> {
    let source = from_first_syntax(template)?;
    let env = environment();
    let compiled = env
        .template_from_str(&source)
        .map_err(|e| format!("is not a valid template: {e}"))?;
    let mut unknown: Vec<String> = compiled
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| !VARIABLES.contains(&name.as_str()))
        .collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        return Err(format!(
            "uses `{name}`; known variables are {}",
            VARIABLES.join(", ")
        ));
    }
    let sample = VARIABLES.map(|name| (name, "x".to_owned()));
    compiled
        .render(context(&sample))
        .map(|_| ())
        .map_err(|e| format!("does not render: {e}"))
}

/// A message rendered for one borrower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The address on the channel.
    pub address: String,
    /// The text, the opt-out line included where one is due.
    pub text: String,
    /// SMS segments it takes; none for other channels.
    pub sms_segments: Option<u32>,
}

/// Writes the `kind` message on `channel` for the loan's `standing`: the lender's template
/// or the built-in one, the opt-out line of an electronic channel, and the SMS limit. Held
/// back, with the rule, when the text takes more SMS segments than allowed or a lender's
/// template does not render.
pub fn compose(
    kind: Kind,
    channel: Channel,
    standing: &Standing,
    profile: &ContactProfile,
    messages: &Messages,
) -> Result<Message, Ruling> {
    let key = key(kind, channel, profile.language);
    let body = match messages.templates.get(&key) {
        Some(template) => render_lender(template, &values(kind, standing, profile, messages))
            .map_err(|e| {
                Ruling::new(
                    "template.unrenderable",
                    format!("the lender template {key} does not render: {e}"),
                )
            })?,
        None => render(
            built_in(kind, channel, profile.language),
            &values(kind, standing, profile, messages),
        ),
    };
    let text = with_opt_out(body, channel, profile.language);
    let sms_segments = (channel == Channel::Sms).then(|| sms::segments(&text).1);
    if let Some(count) = sms_segments.filter(|count| *count > messages.max_sms_segments) {
        return Err(Ruling::new(
            "sms.too-long",
            format!(
                "the text takes {count} SMS segments; the policy allows {}",
                messages.max_sms_segments
            ),
        ));
    }
    Ok(Message {
        address: profile.address(channel).unwrap_or_default().to_owned(),
        text,
        sms_segments,
    })
}

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

/// The values of a message's variables, amounts and dates written as the borrower's
/// language writes them.
fn values(
    kind: Kind,
    standing: &Standing,
    profile: &ContactProfile,
    messages: &Messages,
) -> [(&'static str, String); 6] {
    let currency = standing.currency;
    let (due_date, amount) = match kind {
        Kind::Overdue | Kind::Collection => (None, standing.overdue),
        Kind::PreDue | Kind::DueDay => (
            standing.next_due.map(|(d, _)| d),
            standing.next_due.map(|(_, a)| a).unwrap_or_default(),
        ),
    };
    [
        ("name", profile.name.clone()),
        ("amount", grouped(&currency.format(amount))),
        ("currency", currency.code().to_owned()),
        (
            "due_date",
            due_date.map_or_else(String::new, |d| local_date(d, profile.language)),
        ),
        ("days_overdue", standing.dpd.to_string()),
        (
            "payment_link",
            messages
                .payment_link
                .replace("{loan_id}", &standing.loan_id),
        ),
    ]
}

/// An amount with its integer digits grouped by three: `12,345.60`, as English and Chinese
/// both write it.
fn grouped(amount: &str) -> String {
    let (integer, fraction) = amount.split_at(amount.find('.').unwrap_or(amount.len()));
    let digits: Vec<char> = integer.chars().collect();
    let mut out = String::with_capacity(amount.len() + digits.len() / 3);
    for (i, digit) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*digit);
    }
    out + fraction
}

/// A date as the language writes it: `March 11, 2026`, `2026年3月11日`.
fn local_date(date: NaiveDate, language: Language) -> String {
    match language {
        Language::En => date.format("%B %-d, %Y").to_string(),
        Language::ZhCn | Language::ZhTw => {
            format!("{}年{}月{}日", date.year(), date.month(), date.day())
        }
    }
}

/// The built-in text for a kind, channel and language. E-mail gets a fuller text in English;
/// SMS, push and IM share the short one.
fn built_in(kind: Kind, channel: Channel, language: Language) -> &'static str {
    let email = channel == Channel::Email;
    match (kind, language, email) {
        (Kind::PreDue, Language::En, false) => {
            "{{ name }}, {{ amount }} {{ currency }} is due on {{ due_date }}.{% if payment_link %} Pay: {{ payment_link }}{% endif %}"
        }
        (Kind::PreDue, Language::En, true) => {
            "Dear {{ name }}, your installment of {{ amount }} {{ currency }} is due on {{ due_date }}.{% if payment_link %} You can pay it at {{ payment_link }}.{% endif %}"
        }
        (Kind::DueDay, Language::En, false) => {
            "{{ name }}, {{ amount }} {{ currency }} is due today.{% if payment_link %} Pay: {{ payment_link }}{% endif %}"
        }
        (Kind::DueDay, Language::En, true) => {
            "Dear {{ name }}, your installment of {{ amount }} {{ currency }} is due today, {{ due_date }}.{% if payment_link %} You can pay it at {{ payment_link }}.{% endif %}"
        }
        (Kind::Overdue, Language::En, false) => {
            "{{ name }}, {{ amount }} {{ currency }} is {{ days_overdue }} days overdue.{% if payment_link %} Pay: {{ payment_link }}{% endif %}"
        }
        (Kind::Overdue, Language::En, true) => {
            "Dear {{ name }}, {{ amount }} {{ currency }} of your loan is {{ days_overdue }} days overdue. Please pay{% if payment_link %} at {{ payment_link }}{% endif %} or contact us."
        }
        (Kind::Collection, Language::En, false) => {
            "{{ name }}, your loan is {{ days_overdue }} days past due with {{ amount }} {{ currency }} overdue. Please pay now.{% if payment_link %} Pay: {{ payment_link }}{% endif %}"
        }
        (Kind::Collection, Language::En, true) => {
            "Dear {{ name }}, your loan is {{ days_overdue }} days past due and {{ amount }} {{ currency }} is overdue. Please pay{% if payment_link %} at {{ payment_link }}{% endif %} or contact us to agree how."
        }
        (Kind::PreDue, Language::ZhCn, _) => {
            "{{ name }}您好，您有{{ amount }}{{ currency }}将于{{ due_date }}到期。{% if payment_link %}还款：{{ payment_link }}{% endif %}"
        }
        (Kind::DueDay, Language::ZhCn, _) => {
            "{{ name }}您好，您有{{ amount }}{{ currency }}今日到期。{% if payment_link %}还款：{{ payment_link }}{% endif %}"
        }
        (Kind::Overdue, Language::ZhCn, _) => {
            "{{ name }}您好，您有{{ amount }}{{ currency }}已逾期{{ days_overdue }}天，请尽快还款。{% if payment_link %}还款：{{ payment_link }}{% endif %}"
        }
        (Kind::Collection, Language::ZhCn, _) => {
            "{{ name }}您好，您的借款已逾期{{ days_overdue }}天，逾期金额{{ amount }}{{ currency }}，请立即还款。{% if payment_link %}还款：{{ payment_link }}{% endif %}"
        }
        (Kind::PreDue, Language::ZhTw, _) => {
            "{{ name }}您好，您有{{ amount }}{{ currency }}將於{{ due_date }}到期。{% if payment_link %}還款：{{ payment_link }}{% endif %}"
        }
        (Kind::DueDay, Language::ZhTw, _) => {
            "{{ name }}您好，您有{{ amount }}{{ currency }}今日到期。{% if payment_link %}還款：{{ payment_link }}{% endif %}"
        }
        (Kind::Overdue, Language::ZhTw, _) => {
            "{{ name }}您好，您有{{ amount }}{{ currency }}已逾期{{ days_overdue }}天，請盡快還款。{% if payment_link %}還款：{{ payment_link }}{% endif %}"
        }
        (Kind::Collection, Language::ZhTw, _) => {
            "{{ name }}您好，您的借款已逾期{{ days_overdue }}天，逾期金額{{ amount }}{{ currency }}，請立即還款。{% if payment_link %}還款：{{ payment_link }}{% endif %}"
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

/// The body and the channel's opt-out line: after a space in English, or after a link or
/// other Latin text; straight after Chinese punctuation.
fn with_opt_out(body: String, channel: Channel, language: Language) -> String {
    let body = body.trim_end();
    let spaced = language == Language::En || body.ends_with(|c: char| c.is_ascii_graphic());
    match opt_out_line(channel, language) {
        Some(line) if spaced => format!("{body} {line}"),
        Some(line) => format!("{body}{line}"),
        None => body.to_owned(),
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env
}

fn context(values: &[(&str, String)]) -> Value {
    Value::from_object(
        values
            .iter()
            .map(|(name, value)| ((*name).to_owned(), Value::from(value.as_str())))
            .collect::<BTreeMap<String, Value>>(),
    )
}

/// Renders a built-in template; they are checked by the tests, so one that failed would be
/// a defect of postloan's, shown as the template itself rather than a panic.
fn render(template: &str, values: &[(&str, String)]) -> String {
    environment()
        .render_str(template, context(values))
        .unwrap_or_else(|_| template.to_owned())
}

fn render_lender(template: &str, values: &[(&str, String)]) -> Result<String, String> {
    let source = from_first_syntax(template)?;
    environment()
        .render_str(&source, context(values))
        .map_err(|e| e.to_string())
}

/// A template in the first syntax (`{name}`) written as MiniJinja (`{{ name }}`); `{{`,
/// `{%` and `{#` are MiniJinja's own and stay. A single-brace name that is no variable is
/// refused, as the first syntax refused it.
fn from_first_syntax(template: &str) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if after.starts_with(['{', '%', '#']) {
            // MiniJinja's own tag: copy it whole, up to its closing pair.
            let close = closing(after).ok_or("has a tag that is not closed")?;
            out.push('{');
            out.push_str(&after[..close]);
            rest = &after[close..];
            continue;
        }
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                let name = &after[..close];
                if !VARIABLES.contains(&name) {
                    return Err(format!(
                        "uses `{{{name}}}`; known variables are {}",
                        VARIABLES.join(", ")
                    ));
                }
                out.push_str(&format!("{{{{ {name} }}}}"));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The end (exclusive) of a MiniJinja tag that `after` starts inside (just past its `{`).
fn closing(after: &str) -> Option<usize> {
    let end = match after.as_bytes().first()? {
        b'{' => "}}",
        b'%' => "%}",
        _ => "#}",
    };
    after[1..].find(end).map(|i| 1 + i + end.len())
}

fn is_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests;
