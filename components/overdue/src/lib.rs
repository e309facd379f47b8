//! The overdue engine component: a thin adapter between the `postloan:core/overdue` WIT
//! interface and [`postloan_domain::overdue`]. It imports nothing: no clocks, files or network.

mod convert;

use postloan_domain::overdue;

wit_bindgen::generate!({
    world: "overdue-engine",
    path: "../../wit",
});

use exports::postloan::core::overdue::{Error, Guest};
use postloan::core::types::{Assessment, Loan, Policy};

struct OverdueEngine;

impl Guest for OverdueEngine {
    fn assess(loan: Loan, as_of: String, policy: Policy) -> Result<Assessment, Error> {
        let as_of =
            postloan_domain::date::parse_date("as_of", &as_of).map_err(convert::field_error)?;
        let loan = convert::loan(loan).map_err(convert::field_error)?;
        let policy = overdue::Policy {
            grace_days: policy.grace_days,
        };
        Ok(convert::assessment(overdue::assess(&loan, as_of, &policy)))
    }
}

export!(OverdueEngine);
