//! Repayment reminders (还款提醒): which messages a borrower should get now, by the lender's
//! cadence, in their language, and which the contact rules hold back.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::guard::{self, ContactRules, Verdict, Window};
use super::templates::{self, Kind};
use super::{Channel, ContactAttempt, ContactProfile, Ruling, Standing, sms};
use crate::FieldError;

/// When a cadence rule calls for a reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// This many days before the next due date (T-3 is 3).
    BeforeDue(u32),
    /// On the due date (T0).
    DueDay,
    /// While the loan is in `bucket`, on every day whose DPD is a multiple of `every_days`.
    InBucket {
        /// The bucket's name, such as `M1`.
        bucket: String,
        /// 1 for daily, 3 for every three days.
        every_days: u32,
    },
}

/// One line of a cadence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CadenceRule {
    /// A stable identifier, reported on every reminder it produces.
    pub id: String,
    /// When it fires.
    pub when: When,
    /// The message channels it uses: sms, email, push or im.
    pub channels: Vec<Channel>,
}

/// The lender's reminder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPolicy {
    /// The cadence.
    pub cadence: Vec<CadenceRule>,
    /// Lender templates by key (`overdue.sms.en`), replacing the built-in ones.
    pub templates: BTreeMap<String, String>,
    /// The payment link; `{loan_id}` in it is filled in.
    pub payment_link: String,
    /// Most SMS segments a reminder may take.
    pub max_sms_segments: u32,
    /// Contact rules.
    pub rules: ContactRules,
}

impl ReminderPolicy {
    /// The default cadence: T-3 and T-1 by SMS and push, T0 by SMS, push and e-mail, daily SMS
    /// and push in M1, SMS and e-mail every 3 days in M2 and every 7 days in M3.
    pub fn default_cadence() -> Vec<CadenceRule> {
        use Channel::*;
        let rule = |id: &str, when: When, channels: Vec<Channel>| CadenceRule {
            id: id.into(),
            when,
            channels,
        };
        let bucket = |name: &str, every_days| When::InBucket {
            bucket: name.into(),
            every_days,
        };
        vec![
            rule("pre_due_t3", When::BeforeDue(3), vec![Sms, Push]),
            rule("pre_due_t1", When::BeforeDue(1), vec![Sms, Push]),
            rule("due_day", When::DueDay, vec![Sms, Push, Email]),
            rule("m1_daily", bucket("M1", 1), vec![Sms, Push]),
            rule("m2_every_3_days", bucket("M2", 3), vec![Sms, Email]),
            rule("m3_weekly", bucket("M3", 7), vec![Sms, Email]),
        ]
    }

    /// Checks the cadence uses message channels only and every template names known variables.
    pub fn check(&self) -> Result<(), FieldError> {
        for (i, rule) in self.cadence.iter().enumerate() {
            if let Some(channel) = rule.channels.iter().find(|c| !is_message(**c)) {
                return Err(FieldError::new(
                    format!("policy.reminders.cadence[{i}].channels"),
                    format!(
                        "{} is not a message channel; reminders go by sms, email, push or im",
                        channel.name()
                    ),
                ));
            }
            if matches!(rule.when, When::InBucket { every_days: 0, .. }) {
                return Err(FieldError::new(
                    format!("policy.reminders.cadence[{i}].every_days"),
                    "must be at least 1",
                ));
            }
        }
        for (key, template) in &self.templates {
            if let Some(name) = templates::unknown_variable(template) {
                return Err(FieldError::new(
                    format!("policy.reminders.templates.{key}"),
                    format!(
                        "uses {{{name}}}; known variables are {}",
                        templates::VARIABLES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn is_message(channel: Channel) -> bool {
    matches!(
        channel,
        Channel::Sms | Channel::Email | Channel::Push | Channel::Im
    )
}

/// A reminder to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// The channel.
    pub channel: Channel,
    /// The address on it.
    pub address: String,
    /// The rendered text, opt-out line included where one is due.
    pub text: String,
    /// SMS segments it takes; none for other channels.
    pub sms_segments: Option<u32>,
    /// When to send it, in the borrower's local time.
    pub window: Window,
    /// The cadence rule that called for it.
    pub rule: String,
    /// Why, in plain words, including any rule that moved it.
    pub explanation: String,
}

/// A reminder held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressedReminder {
    /// The channel it would have used.
    pub channel: Channel,
    /// The cadence rule that called for it.
    pub cadence_rule: String,
    /// The rule that held it back, and why.
    pub ruling: Ruling,
}

/// What to send now and what was held back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReminderPlan {
    /// Reminders to send.
    pub to_send: Vec<Reminder>,
    /// Reminders held back.
    pub suppressed: Vec<SuppressedReminder>,
}

/// Plans the reminders for a loan at `now`.
pub fn plan(
    standing: &Standing,
    profile: &ContactProfile,
    history: &[ContactAttempt],
    now: DateTime<Utc>,
    policy: &ReminderPolicy,
) -> ReminderPlan {
    let mut plan = ReminderPlan::default();
    for rule in &policy.cadence {
        let Some((kind, why)) = fires(rule, standing, profile, now) else {
            continue;
        };
        for &channel in &rule.channels {
            match remind(standing, profile, history, now, policy, rule, kind, channel) {
                Ok(mut reminder) => {
                    reminder.explanation = format!("{why}{}", reminder.explanation);
                    plan.to_send.push(reminder);
                }
                Err(ruling) => plan.suppressed.push(SuppressedReminder {
                    channel,
                    cadence_rule: rule.id.clone(),
                    ruling,
                }),
            }
        }
    }
    plan
}

/// Whether `rule` fires today in the borrower's local date, what kind of reminder it calls
/// for and why.
fn fires(
    rule: &CadenceRule,
    standing: &Standing,
    profile: &ContactProfile,
    now: DateTime<Utc>,
) -> Option<(Kind, String)> {
    let today = now.with_timezone(&profile.time_zone).date_naive();
    let due = standing.next_due.map(|(date, _)| date);
    match &rule.when {
        When::BeforeDue(days) => {
            let due = due.filter(|d| *d - Duration::days(i64::from(*days)) == today)?;
            Some((
                Kind::PreDue,
                format!("{}: {days} day(s) before the due date {due}", rule.id),
            ))
        }
        When::DueDay => {
            let due = due.filter(|d| *d == today)?;
            Some((Kind::DueDay, format!("{}: due today, {due}", rule.id)))
        }
        When::InBucket { bucket, every_days } => (standing.dpd > 0
            && &standing.bucket == bucket
            && standing.dpd.is_multiple_of(*every_days))
        .then(|| {
            let why = format!(
                "{}: {} days past due in {bucket}, every {every_days} day(s)",
                rule.id, standing.dpd
            );
            (Kind::Overdue, why)
        }),
    }
}

#[allow(clippy::too_many_arguments)]
fn remind(
    standing: &Standing,
    profile: &ContactProfile,
    history: &[ContactAttempt],
    now: DateTime<Utc>,
    policy: &ReminderPolicy,
    rule: &CadenceRule,
    kind: Kind,
    channel: Channel,
) -> Result<Reminder, Ruling> {
    let today = now.with_timezone(&profile.time_zone).date_naive();
    let already = history.iter().any(|a| {
        a.loan_id == standing.loan_id
            && a.channel == channel
            && a.at.with_timezone(&profile.time_zone).date_naive() == today
    });
    if already {
        return Err(Ruling::new(
            "cadence.already-sent-today",
            format!(
                "a {} about this loan already went out today, {today}",
                channel.name()
            ),
        ));
    }
    let (window, moved) = match guard::judge(
        &policy.rules,
        profile,
        history,
        channel,
        &standing.loan_id,
        now,
    ) {
        Verdict::Allowed { window, moved } => (window, moved),
        Verdict::Suppressed(ruling) => return Err(ruling),
    };
    let text = text(standing, profile, policy, kind, channel);
    let sms_segments = (channel == Channel::Sms).then(|| sms::segments(&text).1);
    if let Some(count) = sms_segments.filter(|count| *count > policy.max_sms_segments) {
        return Err(Ruling::new(
            "sms.too-long",
            format!(
                "the text takes {count} SMS segments; the policy allows {}",
                policy.max_sms_segments
            ),
        ));
    }
    Ok(Reminder {
        channel,
        address: profile.address(channel).unwrap_or_default().to_owned(),
        text,
        sms_segments,
        window,
        rule: rule.id.clone(),
        explanation: guard::moved_note(&moved),
    })
}

/// The rendered text: the lender's template or the built-in one, plus the opt-out line.
fn text(
    standing: &Standing,
    profile: &ContactProfile,
    policy: &ReminderPolicy,
    kind: Kind,
    channel: Channel,
) -> String {
    let key = templates::key(kind, channel, profile.language);
    let template = policy.templates.get(&key).map_or_else(
        || templates::built_in(kind, channel, profile.language),
        String::as_str,
    );
    let currency = standing.currency;
    let (due_date, amount) = match kind {
        Kind::Overdue => (None, standing.overdue),
        Kind::PreDue | Kind::DueDay => (
            standing.next_due.map(|(d, _)| d),
            standing.next_due.map(|(_, a)| a).unwrap_or_default(),
        ),
    };
    let values = BTreeMap::from([
        ("name", profile.name.clone()),
        ("amount", currency.format(amount)),
        ("currency", currency.code().to_owned()),
        (
            "due_date",
            due_date.map(|d| d.to_string()).unwrap_or_default(),
        ),
        ("days_overdue", standing.dpd.to_string()),
        (
            "payment_link",
            policy.payment_link.replace("{loan_id}", &standing.loan_id),
        ),
    ]);
    let body = templates::render(template, &values);
    match templates::opt_out_line(channel, profile.language) {
        Some(line) if matches!(profile.language, super::Language::En) => format!("{body} {line}"),
        Some(line) => format!("{body}{line}"),
        None => body,
    }
}

#[cfg(test)]
mod tests;
