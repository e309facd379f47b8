//! Runs a scorer as postloan runs a dependency: no files, environment, network or
//! arguments, bounded by fuel (a loop cannot run forever) and a memory limit. Every call
//! gets a fresh instance, so one failure does not taint the next check.

use anyhow::{Context, Result};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    world: "postloan:scoring/scorer",
    path: "../../wit",
});

pub use exports::postloan::scoring::scoring::{BehaviourScore, Error, ModelInfo, ScoringInput};
pub use postloan::core::types as wit;

/// Fuel for one instantiation and call: far more than any sane scorer needs (a Python
/// scorer spends well under a tenth of it), far less than a loop that never ends.
const FUEL: u64 = 5_000_000_000;

/// Linear memory one instance may grow to.
const MAX_MEMORY: usize = 256 << 20;

/// What one instance of the scorer sees: WASI with nothing granted, and its limits.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A compiled scorer, ready to be instantiated afresh for every call.
pub struct Sandbox {
    engine: Engine,
    component: Component,
    linker: Linker<State>,
}

impl Sandbox {
    /// Compiles the component at `path`.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config)?;
        let component = Component::from_file(&engine, path)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{} is not a Wasm component", path.display()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        // The shared types interface holds only types; nothing to provide.
        let _ = linker.instance("postloan:core/types@0.1.0");
        Ok(Self {
            engine,
            component,
            linker,
        })
    }

    /// The engine the component was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The compiled component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// Calls `call` on a fresh instance; a trap, fuel running out or the memory limit is an `Err`.
    pub fn call<T>(
        &self,
        call: impl FnOnce(&Scorer, &mut Store<State>) -> wasmtime::Result<T>,
    ) -> Result<T> {
        let state = State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new().memory_size(MAX_MEMORY).build(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_fuel(FUEL)?;
        let scorer = Scorer::instantiate(&mut store, &self.component, &self.linker)?;
        call(&scorer, &mut store).map_err(|e| anyhow::anyhow!("{}", trap_summary(&e)))
    }
}

/// The trap's kind and the guest's own message, without the full backtrace.
fn trap_summary(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => "ran out of fuel (a loop that does not end?)".into(),
        Some(trap) => format!("trapped: {trap}"),
        None => format!("failed: {}", error.root_cause()),
    }
}
