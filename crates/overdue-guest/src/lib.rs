//! The overdue engine's implementation of `postloan:overdue/overdue`: a thin adapter between the
//! WIT interface and [`postloan_domain`]. `components/overdue` exports it as a component that
//! imports no host capability (no clocks, files or network); the benchmarks call the very same
//! code natively.

mod convert;

use postloan_domain::date::parse_date;
use postloan_domain::{overdue, schedule, scoring};

wit_bindgen::generate!({
    world: "postloan:overdue/engine",
    path: "../../wit",
    generate_all,
    pub_export_macro: true,
    default_bindings_module: "postloan_overdue_guest",
});

use exports::postloan::overdue::overdue::{
    AssessedLoan, BorrowerAssessment, Error, Guest, LoanCase, LoanHistory, PaymentAllocation,
    RepaymentSchedule, ScheduleTerms,
};
use postloan::core::types::{Assessment, BehaviourFeatures, Loan, Policy};

/// The implementation of `postloan:overdue/overdue`.
pub struct OverdueEngine;

impl Guest for OverdueEngine {
    fn schedule(terms: ScheduleTerms) -> Result<RepaymentSchedule, Error> {
        let terms = convert::schedule::terms(terms)?;
        let generated = schedule::schedule(&terms).map_err(convert::field_error)?;
        Ok(convert::schedule::repayment_schedule(
            generated,
            terms.currency,
        ))
    }

    fn check_policy(policy: Policy) -> Result<(), Error> {
        convert::policy::policy(policy).map(drop)
    }

    fn assess(loan: Loan, as_of: String, policy: Policy) -> Result<Assessment, Error> {
        let (loan, as_of, policy) = read_call(loan, &as_of, policy)?;
        Ok(convert::assessment::assessment(overdue::assess(
            &loan, as_of, &policy,
        )))
    }

    fn allocate(
        loan: Loan,
        as_of: String,
        policy: Policy,
    ) -> Result<Vec<PaymentAllocation>, Error> {
        let (loan, as_of, policy) = read_call(loan, &as_of, policy)?;
        let allocations = overdue::allocations(&loan, as_of, &policy);
        Ok(convert::assessment::allocations(
            allocations,
            loan.currency(),
        ))
    }

    fn assess_borrower(
        loans: Vec<Loan>,
        as_of: String,
        policy: Policy,
    ) -> Result<BorrowerAssessment, Error> {
        let as_of = parse_date("as_of", &as_of).map_err(convert::field_error)?;
        let loans = loans
            .into_iter()
            .enumerate()
            .map(|(i, loan)| convert::loan::loan(loan, &format!("loans[{i}]")))
            .collect::<Result<Vec<_>, Error>>()?;
        let policy = convert::policy::policy(policy)?;
        let assessed = overdue::assess_borrower(&loans, as_of, &policy);
        Ok(BorrowerAssessment {
            loans: assessed
                .loans
                .into_iter()
                .map(convert::assessment::assessment)
                .collect(),
            worst_classification: assessed.worst_classification,
            contagion_applied: assessed.contagion_applied,
        })
    }

    fn assess_many(
        cases: Vec<LoanCase>,
        policy: Policy,
    ) -> Result<Vec<Result<AssessedLoan, Error>>, Error> {
        let policy = convert::policy::policy(policy)?;
        Ok(cases
            .into_iter()
            .map(|case| assess_case(case, &policy))
            .collect())
    }

    fn behaviour(
        loan: Loan,
        as_of: String,
        policy: Policy,
        history: LoanHistory,
    ) -> Result<BehaviourFeatures, Error> {
        let (loan, as_of, policy) = read_call(loan, &as_of, policy)?;
        let history = convert::behaviour::history(history)?;
        Ok(convert::behaviour::features(scoring::features(
            &loan, as_of, &policy, history,
        )))
    }
}

/// A one-loan call's inputs as the domain takes them.
type Call = (
    postloan_domain::loan::Loan,
    chrono::NaiveDate,
    postloan_domain::policy::Policy,
);

/// The loan, date and policy of a one-loan call, read in that call's field order (`as_of`,
/// then `loan`, then `policy`), so the first field at fault is the one named.
fn read_call(loan: Loan, as_of: &str, policy: Policy) -> Result<Call, Error> {
    let as_of = parse_date("as_of", as_of).map_err(convert::field_error)?;
    let loan = convert::loan::loan(loan, "loan")?;
    let policy = convert::policy::policy(policy)?;
    Ok((loan, as_of, policy))
}

/// One case of `assess-many`, under a policy already read.
fn assess_case(
    case: LoanCase,
    policy: &postloan_domain::policy::Policy,
) -> Result<AssessedLoan, Error> {
    let as_of = parse_date("as_of", &case.as_of).map_err(convert::field_error)?;
    let loan = convert::loan::loan(case.loan, "loan")?;
    let history = convert::behaviour::history(case.history)?;
    let (assessment, features) = scoring::assess_with_features(&loan, as_of, policy, history);
    Ok(AssessedLoan {
        assessment: convert::assessment::assessment(assessment),
        features: convert::behaviour::features(features),
    })
}
