//! The reminders component: a thin adapter between `postloan:reminders/reminders` and
//! [`postloan_domain::contact::reminders`]. It imports no host capability.

use postloan_contact_wit as contact;
use postloan_domain::FieldError;
use postloan_domain::contact::reminders::{self, CadenceRule, ReminderPolicy, When};

wit_bindgen::generate!({
    world: "postloan:reminders/engine",
    path: "../../wit",
    with: {
        "postloan:core/types@0.1.0": postloan_contact_wit::postloan::core::types,
        "postloan:core/contact@0.1.0": postloan_contact_wit::postloan::core::contact,
    },
});

use contact::wit::{ContactAttempt, ContactProfile, Standing};
use exports::postloan::reminders::reminders::{self as wit, Error, Guest};

struct Reminders;

impl Guest for Reminders {
    fn plan(
        standing: Standing,
        profile: ContactProfile,
        history: Vec<ContactAttempt>,
        now: String,
        policy: wit::ReminderPolicy,
    ) -> Result<wit::ReminderPlan, Error> {
        let policy = reminder_policy(policy).map_err(invalid)?;
        plan_case(
            wit::ReminderCase {
                standing,
                profile,
                history,
                now,
            },
            &policy,
        )
    }

    fn plan_many(
        cases: Vec<wit::ReminderCase>,
        policy: wit::ReminderPolicy,
    ) -> Result<Vec<Result<wit::ReminderPlan, Error>>, Error> {
        let policy = reminder_policy(policy).map_err(invalid)?;
        Ok(cases.into_iter().map(|c| plan_case(c, &policy)).collect())
    }
}

fn invalid(e: FieldError) -> Error {
    Error::InvalidField(contact::field_error(e))
}

/// Plans one case under a policy already read.
fn plan_case(case: wit::ReminderCase, policy: &ReminderPolicy) -> Result<wit::ReminderPlan, Error> {
    let standing = contact::standing(case.standing).map_err(invalid)?;
    let profile = contact::profile(case.profile).map_err(invalid)?;
    let history = contact::history(case.history).map_err(invalid)?;
    let now = contact::instant("now", &case.now).map_err(invalid)?;
    let plan = reminders::plan(&standing, &profile, &history, now, policy);
    Ok(wit::ReminderPlan {
        to_send: plan
            .to_send
            .into_iter()
            .map(|r| wit::Reminder {
                channel: contact::wit_channel(r.channel),
                address: r.address,
                text: r.text,
                sms_segments: r.sms_segments,
                window: contact::window(&r.window),
                rule: r.rule,
                explanation: r.explanation,
            })
            .collect(),
        suppressed: plan
            .suppressed
            .into_iter()
            .map(|s| contact::held_back(s.channel.name(), s.ruling))
            .collect(),
    })
}

fn reminder_policy(p: wit::ReminderPolicy) -> Result<ReminderPolicy, FieldError> {
    let cadence = match p.cadence {
        Some(rules) => rules.into_iter().map(cadence_rule).collect(),
        None => ReminderPolicy::default_cadence(),
    };
    let policy = ReminderPolicy {
        cadence,
        messages: contact::messages(p.messages),
        rules: contact::rules("policy.reminders.rules", p.rules)?,
    };
    policy.check()?;
    Ok(policy)
}

fn cadence_rule(rule: wit::CadenceRule) -> CadenceRule {
    CadenceRule {
        id: rule.id,
        when: match rule.trigger {
            wit::Trigger::BeforeDue(days) => When::BeforeDue(days),
            wit::Trigger::DueDay => When::DueDay,
            wit::Trigger::InBucket(b) => When::InBucket {
                bucket: b.bucket,
                every_days: b.every_days,
            },
        },
        channels: rule.channels.into_iter().map(contact::channel).collect(),
    }
}

export!(Reminders);
