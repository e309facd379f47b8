//! A loan's history in, its behavioural features out.

use postloan_domain::date::parse_date;
use postloan_domain::scoring::{Features, History};

use super::field_error;
use crate::exports::postloan::overdue::overdue::{Error, LoanHistory};
use crate::postloan::core::types as wit;

/// Parses and checks the history; field paths start at `history`.
pub fn history(history: LoanHistory) -> Result<History, Error> {
    let disbursed_on = history
        .disbursed_on
        .map(|d| parse_date("history.disbursed_on", &d))
        .transpose()
        .map_err(field_error)?;
    History {
        disbursed_on,
        promises_made: history.promises_made,
        promises_broken: history.promises_broken,
    }
    .check()
    .map_err(field_error)
}

/// The features as their WIT record; the share and ratio keep their 4 decimals.
pub fn features(f: Features) -> wit::BehaviourFeatures {
    wit::BehaviourFeatures {
        current_dpd: f.current_dpd,
        max_dpd_m3: f.max_dpd_m3,
        max_dpd_m6: f.max_dpd_m6,
        max_dpd_m12: f.max_dpd_m12,
        late_installments: f.late_installments,
        on_time_share: f.on_time_share.to_string(),
        partial_payments: f.partial_payments,
        days_since_last_payment: f.days_since_last_payment,
        promises_made: f.promises_made,
        promises_broken: f.promises_broken,
        outstanding_ratio: f.outstanding_ratio.to_string(),
        months_on_book: f.months_on_book,
    }
}
