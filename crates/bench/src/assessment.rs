//! The assessment path, per loan: the overdue component's own code compiled natively, and
//! the same component built for wasm32-wasip2 run by wasmtime (instantiated once, called
//! repeatedly). Both take the same string inputs and do the same parsing, checking,
//! allocation and formatting, so the ratio is the cost of running it as Wasm.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::book::{AS_OF, LoanRecord};

mod guest {
    wasmtime::component::bindgen!({ world: "postloan:overdue/engine", path: "../../wit" });
}

use guest::postloan::core::types as host_types;
use postloan_overdue_guest::exports::postloan::overdue::overdue::Guest;
use postloan_overdue_guest::postloan::core::types as native_types;

/// Microseconds per loan over the whole book, natively.
pub fn native(book: &[LoanRecord]) -> Result<f64> {
    natively(book, "assessment", |loan| {
        postloan_overdue_guest::OverdueEngine::assess(loan, AS_OF.into(), native_policy())
            .map(|_| ())
    })
}

/// Microseconds per loan over the whole book for its behavioural features (what scoring
/// reads: the loan replayed as of each payment's eve and value date), natively.
pub fn features_native(book: &[LoanRecord]) -> Result<f64> {
    natively(book, "features", |loan| {
        let history = postloan_overdue_guest::exports::postloan::overdue::overdue::LoanHistory {
            disbursed_on: None,
            promises_made: 0,
            promises_broken: 0,
        };
        postloan_overdue_guest::OverdueEngine::behaviour(
            loan,
            AS_OF.into(),
            native_policy(),
            history,
        )
        .map(|_| ())
    })
}

/// Microseconds per loan of `call` over the whole book, the loans converted beforehand.
fn natively<E: std::fmt::Debug>(
    book: &[LoanRecord],
    what: &str,
    call: impl Fn(native_types::Loan) -> Result<(), E>,
) -> Result<f64> {
    let loans: Vec<native_types::Loan> = book.iter().map(native_loan).collect();
    let started = Instant::now();
    for loan in loans {
        call(loan).map_err(|e| anyhow!("native {what} failed: {e:?}"))?;
    }
    Ok(per_loan(started, book.len()))
}

/// The engine the Wasm sides run on. With `POSTLOAN_BENCH_PERFMAP` set, it writes
/// `/tmp/perf-PID.map` so that `perf record` names the guests' functions.
pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    if std::env::var_os("POSTLOAN_BENCH_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config).map_err(anyhow::Error::from)
}

/// Microseconds per loan over the whole book, through the component in wasmtime.
pub fn wasm(book: &[LoanRecord], component: &Path) -> Result<f64> {
    let engine = engine()?;
    let component = Component::from_file(&engine, component)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot load {}", component.display()))?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
    let mut store = Store::new(&engine, Sandbox::default());
    let instance =
        guest::Engine::instantiate(&mut store, &component, &linker).map_err(anyhow::Error::from)?;
    let overdue = instance.postloan_overdue_overdue();
    let loans: Vec<host_types::Loan> = book.iter().map(host_loan).collect();
    let (policy, as_of) = (host_policy(), AS_OF.to_owned());
    let started = Instant::now();
    for loan in &loans {
        overdue
            .call_assess(&mut store, loan, &as_of, &policy)
            .map_err(anyhow::Error::from)?
            .map_err(|e| anyhow!("wasm assessment failed: {e:?}"))?;
    }
    Ok(per_loan(started, book.len()))
}

fn per_loan(started: Instant, loans: usize) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / loans.max(1) as f64
}

/// The store's data: a WASI context that grants nothing.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The same input, written twice because the guest and host bindings are distinct types.
macro_rules! loan_from_record {
    ($name:ident, $types:ident) => {
        fn $name(r: &LoanRecord) -> $types::Loan {
            $types::Loan {
                id: r.id.clone(),
                currency: r.currency.clone(),
                installments: r
                    .installments
                    .iter()
                    .map(|i| $types::Installment {
                        seq: i.seq,
                        due_date: i.due_date.clone(),
                        principal: i.principal.clone(),
                        interest: i.interest.clone(),
                        fees: i.fees.clone(),
                    })
                    .collect(),
                payments: r
                    .payments
                    .iter()
                    .map(|p| $types::Payment {
                        id: p.id.clone(),
                        value_date: p.value_date.clone(),
                        amount: p.amount.clone(),
                    })
                    .collect(),
                reversals: r
                    .reversals
                    .iter()
                    .map(|v| $types::Reversal {
                        payment_id: v.payment_id.clone(),
                    })
                    .collect(),
                pauses: vec![],
                reschedules: vec![],
            }
        }
    };
}

loan_from_record!(native_loan, native_types);
loan_from_record!(host_loan, host_types);

/// 18% penalty on overdue principal; every other rule at its default.
macro_rules! policy {
    ($name:ident, $types:ident) => {
        fn $name() -> $types::Policy {
            $types::Policy {
                grace_days: 3,
                tolerance: None,
                allocation: None,
                penalty: Some($types::Penalty {
                    annual_rate: "0.18".into(),
                    basis: $types::PenaltyBasis::OverduePrincipal,
                }),
                late_fee: None,
                buckets: None,
                classification: None,
                calendar: None,
                contagion: false,
            }
        }
    };
}

policy!(native_policy, native_types);
policy!(host_policy, host_types);
