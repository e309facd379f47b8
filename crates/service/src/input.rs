//! The JSON the API takes for loans and policies, and its WIT form. Amounts, rates and dates
//! are strings, so no float ever touches money.

use serde::{Deserialize, Serialize};

use crate::postloan::core::types as wit;
use crate::problem::Problem;

/// A loan as posted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanJson {
    id: String,
    currency: String,
    installments: Vec<InstallmentJson>,
    #[serde(default)]
    payments: Vec<PaymentJson>,
    #[serde(default)]
    reversals: Vec<ReversalJson>,
    #[serde(default)]
    pauses: Vec<PauseJson>,
    #[serde(default)]
    reschedules: Vec<RescheduleJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstallmentJson {
    seq: u32,
    due_date: String,
    principal: String,
    interest: String,
    fees: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentJson {
    id: String,
    value_date: String,
    amount: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReversalJson {
    payment_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseJson {
    from: String,
    to: String,
    reason: String,
}

/// A restructure or re-age as posted and as stored: `kind` says which, the other fields are
/// its date and terms.
#[derive(Deserialize, Serialize, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum RescheduleJson {
    Restructure {
        on: String,
        annual_rate: String,
        term: u32,
        frequency: FrequencyJson,
        method: MethodJson,
        first_due_date: String,
        day_count: DayCountJson,
        #[serde(default)]
        capitalise: bool,
    },
    ReAge {
        on: String,
        installments: u32,
        frequency: FrequencyJson,
        first_due_date: String,
    },
}

impl From<RescheduleJson> for wit::Reschedule {
    fn from(r: RescheduleJson) -> Self {
        match r {
            RescheduleJson::Restructure {
                on,
                annual_rate,
                term,
                frequency,
                method,
                first_due_date,
                day_count,
                capitalise,
            } => Self {
                on,
                relief: wit::Relief::Restructure(wit::Restructure {
                    annual_rate,
                    term,
                    frequency: frequency.into(),
                    method: method.into(),
                    first_due_date,
                    day_count: day_count.into(),
                    capitalise,
                }),
            },
            RescheduleJson::ReAge {
                on,
                installments,
                frequency,
                first_due_date,
            } => Self {
                on,
                relief: wit::Relief::ReAge(wit::ReAge {
                    installments,
                    frequency: frequency.into(),
                    first_due_date,
                }),
            },
        }
    }
}

impl From<&wit::Reschedule> for RescheduleJson {
    fn from(r: &wit::Reschedule) -> Self {
        let on = r.on.clone();
        match &r.relief {
            wit::Relief::Restructure(t) => Self::Restructure {
                on,
                annual_rate: t.annual_rate.clone(),
                term: t.term,
                frequency: t.frequency.into(),
                method: t.method.into(),
                first_due_date: t.first_due_date.clone(),
                day_count: t.day_count.into(),
                capitalise: t.capitalise,
            },
            wit::Relief::ReAge(t) => Self::ReAge {
                on,
                installments: t.installments,
                frequency: t.frequency.into(),
                first_due_date: t.first_due_date.clone(),
            },
        }
    }
}

/// How often installments fall due, as posted.
#[derive(Deserialize, Serialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FrequencyJson {
    Monthly,
    Biweekly,
    Weekly,
}

impl From<FrequencyJson> for wit::Frequency {
    fn from(f: FrequencyJson) -> Self {
        match f {
            FrequencyJson::Monthly => Self::Monthly,
            FrequencyJson::Biweekly => Self::Biweekly,
            FrequencyJson::Weekly => Self::Weekly,
        }
    }
}

impl From<wit::Frequency> for FrequencyJson {
    fn from(f: wit::Frequency) -> Self {
        match f {
            wit::Frequency::Monthly => Self::Monthly,
            wit::Frequency::Biweekly => Self::Biweekly,
            wit::Frequency::Weekly => Self::Weekly,
        }
    }
}

/// How principal is repaid, as posted.
#[derive(Deserialize, Serialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MethodJson {
    Annuity,
    EqualPrincipal,
    InterestOnly,
    Bullet,
}

impl From<MethodJson> for wit::RepaymentMethod {
    fn from(m: MethodJson) -> Self {
        match m {
            MethodJson::Annuity => Self::Annuity,
            MethodJson::EqualPrincipal => Self::EqualPrincipal,
            MethodJson::InterestOnly => Self::InterestOnly,
            MethodJson::Bullet => Self::Bullet,
        }
    }
}

impl From<wit::RepaymentMethod> for MethodJson {
    fn from(m: wit::RepaymentMethod) -> Self {
        match m {
            wit::RepaymentMethod::Annuity => Self::Annuity,
            wit::RepaymentMethod::EqualPrincipal => Self::EqualPrincipal,
            wit::RepaymentMethod::InterestOnly => Self::InterestOnly,
            wit::RepaymentMethod::Bullet => Self::Bullet,
        }
    }
}

/// A day-count convention, as posted.
#[derive(Deserialize, Serialize, Clone, Copy, PartialEq)]
pub(crate) enum DayCountJson {
    #[serde(rename = "30/360")]
    Thirty360,
    #[serde(rename = "actual/365")]
    Actual365,
    #[serde(rename = "actual/360")]
    Actual360,
}

impl From<DayCountJson> for wit::DayCount {
    fn from(d: DayCountJson) -> Self {
        match d {
            DayCountJson::Thirty360 => Self::Thirty360,
            DayCountJson::Actual365 => Self::Actual365,
            DayCountJson::Actual360 => Self::Actual360,
        }
    }
}

impl From<wit::DayCount> for DayCountJson {
    fn from(d: wit::DayCount) -> Self {
        match d {
            wit::DayCount::Thirty360 => Self::Thirty360,
            wit::DayCount::Actual365 => Self::Actual365,
            wit::DayCount::Actual360 => Self::Actual360,
        }
    }
}

impl From<LoanJson> for wit::Loan {
    fn from(loan: LoanJson) -> Self {
        Self {
            id: loan.id,
            currency: loan.currency,
            installments: loan
                .installments
                .into_iter()
                .map(|i| wit::Installment {
                    seq: i.seq,
                    due_date: i.due_date,
                    principal: i.principal,
                    interest: i.interest,
                    fees: i.fees,
                })
                .collect(),
            payments: loan
                .payments
                .into_iter()
                .map(|p| wit::Payment {
                    id: p.id,
                    value_date: p.value_date,
                    amount: p.amount,
                })
                .collect(),
            reversals: loan
                .reversals
                .into_iter()
                .map(|r| wit::Reversal {
                    payment_id: r.payment_id,
                })
                .collect(),
            pauses: loan
                .pauses
                .into_iter()
                .map(|p| wit::Pause {
                    from: p.from,
                    to: p.to,
                    reason: p.reason,
                })
                .collect(),
            reschedules: loan.reschedules.into_iter().map(Into::into).collect(),
        }
    }
}

/// A policy as posted; every field may be left out.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyJson {
    grace_days: u32,
    tolerance: Option<ToleranceJson>,
    allocation: Option<Vec<DuePartJson>>,
    penalty: Option<PenaltyJson>,
    late_fee: Option<LateFeeJson>,
    buckets: Option<Vec<RangeJson>>,
    classification: Option<ClassificationJson>,
    calendar: Option<CalendarJson>,
    contagion: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToleranceJson {
    amount: Option<String>,
    percent: Option<String>,
    floor: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum DuePartJson {
    Penalty,
    Fees,
    Interest,
    Principal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PenaltyJson {
    annual_rate: String,
    #[serde(default)]
    basis: PenaltyBasisJson,
}

/// A late fee as posted: a flat `amount` or a `percent`, exactly one of them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LateFeeJson {
    days_late: u32,
    amount: Option<String>,
    percent: Option<String>,
    cap_per_installment: Option<String>,
    cap_per_loan: Option<String>,
}

impl LateFeeJson {
    fn into_wit(self) -> Result<wit::LateFee, Problem> {
        let charge = match (self.amount, self.percent) {
            (Some(amount), None) => wit::LateFeeCharge::Amount(amount),
            (None, Some(percent)) => wit::LateFeeCharge::Percent(percent),
            (Some(_), Some(_)) => {
                return Err(Problem::invalid_field(
                    "policy.late_fee".to_owned(),
                    "names both an amount and a percent; name one",
                ));
            }
            (None, None) => {
                return Err(Problem::invalid_field(
                    "policy.late_fee".to_owned(),
                    "names neither an amount nor a percent",
                ));
            }
        };
        Ok(wit::LateFee {
            days_late: self.days_late,
            charge,
            cap_per_installment: self.cap_per_installment,
            cap_per_loan: self.cap_per_loan,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case")]
enum PenaltyBasisJson {
    #[default]
    OverduePrincipal,
    OverdueTotal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeJson {
    name: String,
    min_days: u32,
    max_days: Option<u32>,
}

/// Either a preset (with EBA's thresholds) or the lender's own ranges.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassificationJson {
    preset: Option<PresetJson>,
    absolute: Option<String>,
    relative: Option<String>,
    ranges: Option<Vec<RangeJson>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum PresetJson {
    CnFiveCategory,
    FfiecRetail,
    EbaDefault,
}

/// A working-day calendar as posted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarJson {
    #[serde(default)]
    weekend: Vec<WeekdayJson>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    due_date_shift: ShiftJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum WeekdayJson {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case")]
enum ShiftJson {
    #[default]
    None,
    NextWorkingDay,
    PreviousWorkingDay,
}

/// The EU retail materiality thresholds, used when `eba_default` names none.
const EBA_ABSOLUTE: &str = "100";
const EBA_RELATIVE: &str = "0.01";

impl PolicyJson {
    /// The names of the policy's DPD buckets, from current to the latest.
    #[cfg(feature = "spin")]
    pub fn bucket_names(&self) -> Vec<String> {
        match &self.buckets {
            Some(ranges) => ranges.iter().map(|r| r.name.clone()).collect(),
            None => postloan_domain::policy::Ranges::default_buckets()
                .names()
                .map(str::to_owned)
                .collect(),
        }
    }

    /// The WIT policy; a classification naming both a preset and ranges, or neither, is refused.
    pub fn into_wit(self) -> Result<wit::Policy, Problem> {
        Ok(wit::Policy {
            grace_days: self.grace_days,
            tolerance: self.tolerance.map(|t| wit::Tolerance {
                amount: t.amount,
                percent: t.percent,
                floor: t.floor,
            }),
            allocation: self
                .allocation
                .map(|parts| parts.into_iter().map(due_part).collect()),
            penalty: self.penalty.map(|p| wit::Penalty {
                annual_rate: p.annual_rate,
                basis: match p.basis {
                    PenaltyBasisJson::OverduePrincipal => wit::PenaltyBasis::OverduePrincipal,
                    PenaltyBasisJson::OverdueTotal => wit::PenaltyBasis::OverdueTotal,
                },
            }),
            late_fee: self.late_fee.map(LateFeeJson::into_wit).transpose()?,
            buckets: self.buckets.map(ranges),
            classification: self.classification.map(classification).transpose()?,
            calendar: self.calendar.map(CalendarJson::into_wit),
            contagion: self.contagion,
        })
    }
}

fn due_part(part: DuePartJson) -> wit::DuePart {
    match part {
        DuePartJson::Penalty => wit::DuePart::Penalty,
        DuePartJson::Fees => wit::DuePart::Fees,
        DuePartJson::Interest => wit::DuePart::Interest,
        DuePartJson::Principal => wit::DuePart::Principal,
    }
}

fn ranges(list: Vec<RangeJson>) -> Vec<wit::DayRange> {
    list.into_iter()
        .map(|r| wit::DayRange {
            name: r.name,
            min_days: r.min_days,
            max_days: r.max_days,
        })
        .collect()
}

fn classification(c: ClassificationJson) -> Result<wit::ClassificationScheme, Problem> {
    let field = "policy.classification".to_owned();
    match (c.preset, c.ranges) {
        (Some(_), Some(_)) => Err(Problem::invalid_field(
            field,
            "names both a preset and ranges; name one",
        )),
        (None, None) => Err(Problem::invalid_field(
            field,
            "names neither a preset nor ranges",
        )),
        (None, Some(list)) => Ok(wit::ClassificationScheme::Ranges(ranges(list))),
        (Some(PresetJson::CnFiveCategory), None) => Ok(wit::ClassificationScheme::CnFiveCategory),
        (Some(PresetJson::FfiecRetail), None) => Ok(wit::ClassificationScheme::FfiecRetail),
        (Some(PresetJson::EbaDefault), None) => {
            Ok(wit::ClassificationScheme::EbaDefault(wit::Materiality {
                absolute: c.absolute.unwrap_or_else(|| EBA_ABSOLUTE.to_owned()),
                relative: c.relative.unwrap_or_else(|| EBA_RELATIVE.to_owned()),
            }))
        }
    }
}

impl CalendarJson {
    /// The WIT calendar.
    pub fn into_wit(self) -> wit::Calendar {
        wit::Calendar {
            weekend: self
                .weekend
                .into_iter()
                .map(|day| match day {
                    WeekdayJson::Monday => wit::Weekday::Monday,
                    WeekdayJson::Tuesday => wit::Weekday::Tuesday,
                    WeekdayJson::Wednesday => wit::Weekday::Wednesday,
                    WeekdayJson::Thursday => wit::Weekday::Thursday,
                    WeekdayJson::Friday => wit::Weekday::Friday,
                    WeekdayJson::Saturday => wit::Weekday::Saturday,
                    WeekdayJson::Sunday => wit::Weekday::Sunday,
                })
                .collect(),
            holidays: self.holidays,
            due_date_shift: match self.due_date_shift {
                ShiftJson::None => wit::DueDateShift::None,
                ShiftJson::NextWorkingDay => wit::DueDateShift::NextWorkingDay,
                ShiftJson::PreviousWorkingDay => wit::DueDateShift::PreviousWorkingDay,
            },
        }
    }
}

/// What the schedule and payments do not say; every field may be left out.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryJson {
    disbursed_on: Option<String>,
    promises_made: u32,
    promises_broken: u32,
}

impl From<HistoryJson> for crate::postloan::overdue::overdue::LoanHistory {
    fn from(h: HistoryJson) -> Self {
        Self {
            disbursed_on: h.disbursed_on,
            promises_made: h.promises_made,
            promises_broken: h.promises_broken,
        }
    }
}
