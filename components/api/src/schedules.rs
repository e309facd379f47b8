//! `POST /v1/schedules`: loan terms in, a repayment schedule out.

use serde::{Deserialize, Serialize};
use spin_sdk::http::Response;

use crate::input::CalendarJson;
use crate::postloan::core::overdue::{
    self, DayCount, Frequency, RepaymentMethod, Rounding, ScheduleTerms,
};
use crate::problem::Problem;
use crate::request::parse;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermsJson {
    principal: String,
    currency: String,
    annual_rate: String,
    term: u32,
    frequency: FrequencyJson,
    method: MethodJson,
    disbursed_on: String,
    first_due_date: Option<String>,
    day_count: DayCountJson,
    #[serde(default)]
    rounding: RoundingJson,
    calendar: Option<CalendarJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FrequencyJson {
    Monthly,
    Biweekly,
    Weekly,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum MethodJson {
    Annuity,
    EqualPrincipal,
    InterestOnly,
    Bullet,
}

#[derive(Deserialize)]
enum DayCountJson {
    #[serde(rename = "30/360")]
    Thirty360,
    #[serde(rename = "actual/365")]
    Actual365,
    #[serde(rename = "actual/360")]
    Actual360,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case")]
enum RoundingJson {
    #[default]
    HalfUp,
    HalfEven,
}

#[derive(Serialize)]
struct ScheduleJson {
    currency: String,
    installments: Vec<InstallmentJson>,
    total_interest: String,
    total_payable: String,
}

#[derive(Serialize)]
struct InstallmentJson {
    seq: u32,
    due_date: String,
    principal: String,
    interest: String,
    fees: String,
    total: String,
    balance_after: String,
}

/// Generates a schedule.
pub fn handle(body: &[u8]) -> Result<Response, Problem> {
    let t: TermsJson = parse(body)?;
    let terms = ScheduleTerms {
        principal: t.principal,
        currency: t.currency,
        annual_rate: t.annual_rate,
        term: t.term,
        frequency: match t.frequency {
            FrequencyJson::Monthly => Frequency::Monthly,
            FrequencyJson::Biweekly => Frequency::Biweekly,
            FrequencyJson::Weekly => Frequency::Weekly,
        },
        method: match t.method {
            MethodJson::Annuity => RepaymentMethod::Annuity,
            MethodJson::EqualPrincipal => RepaymentMethod::EqualPrincipal,
            MethodJson::InterestOnly => RepaymentMethod::InterestOnly,
            MethodJson::Bullet => RepaymentMethod::Bullet,
        },
        disbursed_on: t.disbursed_on,
        first_due_date: t.first_due_date,
        day_count: match t.day_count {
            DayCountJson::Thirty360 => DayCount::Thirty360,
            DayCountJson::Actual365 => DayCount::Actual365,
            DayCountJson::Actual360 => DayCount::Actual360,
        },
        rounding: match t.rounding {
            RoundingJson::HalfUp => Rounding::HalfUp,
            RoundingJson::HalfEven => Rounding::HalfEven,
        },
        calendar: t.calendar.map(CalendarJson::into_wit),
    };
    let s = overdue::schedule(&terms).map_err(Problem::from)?;
    Ok(crate::json(
        200,
        &ScheduleJson {
            currency: s.currency,
            installments: s
                .installments
                .into_iter()
                .map(|i| InstallmentJson {
                    seq: i.seq,
                    due_date: i.due_date,
                    principal: i.principal,
                    interest: i.interest,
                    fees: i.fees,
                    total: i.total,
                    balance_after: i.balance_after,
                })
                .collect(),
            total_interest: s.total_interest,
            total_payable: s.total_payable,
        },
    ))
}
