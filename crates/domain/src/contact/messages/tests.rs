//! Hand-worked texts: clauses only where a value exists, locale formats, lender templates in
//! both syntaxes, and templates that are refused or stopped.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::contact::guard::tests::profile;
use crate::money::Currency;

/// 1,040.00 due on 2026-03-13, 550.00 overdue at 33 DPD.
fn standing(currency: &str) -> Standing {
    Standing {
        loan_id: "L-1".into(),
        as_of: "2026-03-10".parse().unwrap(),
        currency: Currency::parse("c", currency).unwrap(),
        dpd: 33,
        days_in_arrears: 33,
        bucket: "M2".into(),
        overdue: Decimal::new(55000, 2),
        next_due: Some((
            "2026-03-13".parse::<NaiveDate>().unwrap(),
            Decimal::new(104000, 2),
        )),
        tier: None,
        written_off: false,
    }
}

fn messages(payment_link: &str) -> Messages {
    Messages {
        templates: BTreeMap::new(),
        payment_link: payment_link.into(),
        max_sms_segments: 3,
    }
}

fn english() -> ContactProfile {
    let mut borrower = profile(chrono_tz::America::New_York);
    borrower.language = Language::En;
    borrower
}

fn text(kind: Kind, channel: Channel, borrower: &ContactProfile, messages: &Messages) -> String {
    compose(kind, channel, &standing("USD"), borrower, messages)
        .unwrap()
        .text
}

#[test]
fn without_a_payment_link_the_pay_clause_is_left_out() {
    let none = messages("");
    assert_eq!(
        text(Kind::PreDue, Channel::Sms, &english(), &none),
        "Li Lei, 1,040.00 USD is due on March 13, 2026. Reply STOP to opt out."
    );
    assert_eq!(
        text(Kind::Overdue, Channel::Email, &english(), &none),
        "Dear Li Lei, 550.00 USD of your loan is 33 days overdue. Please pay or contact us. To stop these e-mails, reply UNSUBSCRIBE."
    );
    let mut taiwan = profile(chrono_tz::Asia::Taipei);
    taiwan.language = Language::ZhTw;
    assert_eq!(
        text(Kind::DueDay, Channel::Sms, &taiwan, &none),
        "Li Lei您好，您有1,040.00USD今日到期。回覆TD退訂"
    );
}

#[test]
fn with_a_link_the_clause_names_it_and_latin_text_is_spaced_from_the_opt_out() {
    let link = messages("https://pay.example.com/{loan_id}");
    assert_eq!(
        text(Kind::PreDue, Channel::Sms, &english(), &link),
        "Li Lei, 1,040.00 USD is due on March 13, 2026. Pay: https://pay.example.com/L-1 Reply STOP to opt out."
    );
    let shanghai = profile(chrono_tz::Asia::Shanghai);
    assert_eq!(
        text(Kind::Overdue, Channel::Im, &shanghai, &link),
        "Li Lei您好，您有550.00USD已逾期33天，请尽快还款。还款：https://pay.example.com/L-1 回复TD退订"
    );
}

#[test]
fn amounts_are_grouped_by_three_and_dates_written_per_language() {
    assert_eq!(grouped("1234567.50"), "1,234,567.50");
    assert_eq!(grouped("999"), "999");
    assert_eq!(grouped("1000"), "1,000");
    assert_eq!(grouped("0.500"), "0.500");
    let date = "2026-01-05".parse().unwrap();
    assert_eq!(local_date(date, Language::En), "January 5, 2026");
    assert_eq!(local_date(date, Language::ZhCn), "2026年1月5日");
    assert_eq!(local_date(date, Language::ZhTw), "2026年1月5日");
}

#[test]
fn a_lender_template_writes_a_clause_only_when_its_value_exists() {
    let template = "{{ name }}: {{ amount }} {{ currency }} by {{ due_date }}{% if payment_link %}, at {{ payment_link }}{% endif %}.";
    let mut lender = messages("");
    lender
        .templates
        .insert("pre_due.push.en".into(), template.into());
    assert_eq!(lender.check("t"), Ok(()));
    assert_eq!(
        text(Kind::PreDue, Channel::Push, &english(), &lender),
        "Li Lei: 1,040.00 USD by March 13, 2026. To opt out, turn off these notifications in the app's settings."
    );
    lender.payment_link = "https://p.example/{loan_id}".into();
    assert_eq!(
        text(Kind::PreDue, Channel::Push, &english(), &lender),
        "Li Lei: 1,040.00 USD by March 13, 2026, at https://p.example/L-1. To opt out, turn off these notifications in the app's settings."
    );
}

#[test]
fn the_first_syntax_still_reads_and_mixes_with_minijinja() {
    assert_eq!(
        from_first_syntax(
            "{name} owes {{ amount }}{% if payment_link %} {payment_link}{% endif %} {x"
        )
        .unwrap(),
        "{{ name }} owes {{ amount }}{% if payment_link %} {{ payment_link }}{% endif %} {x"
    );
    assert_eq!(from_first_syntax("{{name}}").unwrap(), "{{name}}");
}

#[test]
fn templates_that_cannot_render_are_refused_naming_the_key() {
    let refused = |template: &str| {
        let mut lender = messages("");
        lender
            .templates
            .insert("overdue.sms.en".into(), template.into());
        lender.check("policy.reminders.templates").unwrap_err()
    };
    let unknown = refused("{{ name }} owes {{ balance }}");
    assert_eq!(unknown.field, "policy.reminders.templates.overdue.sms.en");
    assert!(unknown.reason.contains("`balance`"), "{}", unknown.reason);
    assert!(
        refused("{name} owes {balance}")
            .reason
            .contains("{balance}")
    );
    assert!(
        refused("{% if name %}unclosed")
            .reason
            .starts_with("is not a valid template")
    );
    assert!(
        refused(&"x".repeat(2_001))
            .reason
            .contains("2000 characters")
    );
}

#[test]
fn a_template_that_would_run_away_is_stopped_and_held_back_with_its_rule() {
    // Three loops nested over the link's characters: a few steps for the one-character value
    // the check renders with, 40³ = 64,000 over a 40-character link, past the fuel.
    let mut lender = messages("https://pay.example.com/loans/{loan_id}/x");
    lender.templates.insert(
        "overdue.sms.en".into(),
        "{% for a in payment_link %}{% for b in payment_link %}{% for c in payment_link %}.{% endfor %}{% endfor %}{% endfor %}".into(),
    );
    assert_eq!(lender.check("t"), Ok(()));
    let held = compose(
        Kind::Overdue,
        Channel::Sms,
        &standing("USD"),
        &english(),
        &lender,
    )
    .unwrap_err();
    assert_eq!(held.rule, "template.unrenderable");
}
