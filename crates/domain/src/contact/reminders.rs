//! Repayment reminders (还款提醒): which messages a borrower should get now, by the lender's
//! cadence, in their language, and which the contact rules hold back.

use chrono::{DateTime, Duration, Utc};

use super::guard::{self, ContactRules, Verdict, Window};
use super::messages::{self, Kind, Messages};
use super::{Channel, ContactAttempt, ContactProfile, Outcome, Ruling, Standing};
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
    /// How reminders are written.
    pub messages: Messages,
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
            if let Some(channel) = rule.channels.iter().find(|c| !c.is_message()) {
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
        self.messages.check("policy.reminders.templates")
    }
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

impl Reminder {
    /// The reminder as a contact planned about `loan_id`, for the rules that count what is
    /// planned as well as what was made.
    pub fn planned(&self, loan_id: &str) -> ContactAttempt {
        ContactAttempt {
            loan_id: loan_id.to_owned(),
            channel: self.channel,
            at: self.window.not_before.with_timezone(&Utc),
            outcome: Outcome::Planned,
        }
    }
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

/// Plans the reminders for a loan at `now`. Each reminder planned counts as planned for
/// the ones after it, so two cadence rules never send the same channel on one day. A loan
/// written off has no reminders: nothing falls due on it any more.
pub fn plan(
    standing: &Standing,
    profile: &ContactProfile,
    history: &[ContactAttempt],
    now: DateTime<Utc>,
    policy: &ReminderPolicy,
) -> ReminderPlan {
    let mut plan = ReminderPlan::default();
    if standing.written_off {
        return plan;
    }
    let mut history = history.to_vec();
    for rule in &policy.cadence {
        let Some((kind, why)) = fires(rule, standing, profile, now) else {
            continue;
        };
        for &channel in &rule.channels {
            match remind(
                standing, profile, &history, now, policy, rule, kind, channel,
            ) {
                Ok(mut reminder) => {
                    reminder.explanation = format!("{why}{}", reminder.explanation);
                    history.push(reminder.planned(&standing.loan_id));
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
    let message = messages::compose(kind, channel, standing, profile, &policy.messages)?;
    Ok(Reminder {
        channel,
        address: message.address,
        text: message.text,
        sms_segments: message.sms_segments,
        window,
        rule: rule.id.clone(),
        explanation: guard::moved_note(&moved),
    })
}

#[cfg(test)]
mod tests;
