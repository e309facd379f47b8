//! The wasmtime side: one engine (pooling allocator, epoch interruption),
//! components compiled and pre-instantiated once, one instantiation per
//! request or trigger event, each bounded by the same deadline and memory
//! limit whichever trigger started it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::bindings::cron_trigger::SpinCronPre;
use crate::bindings::cron_trigger::fermyon::spin_cron::cron_types::Metadata;
use crate::bindings::redis_trigger::RedisTriggerPre;
use crate::compose::{LoadedDependency, plan};
use crate::dependencies::{self, DependencyFailed, DependencyInstances, DependencyLinker};
use crate::key_value::KeyValueAccess;
use crate::key_value::binding::KeyValueView;
use crate::memory_budget::{self, Charge, Class, MemoryBudget, OverBudget};
use crate::outbound::OutboundPolicy;
use crate::postgres::PostgresAccess;
use crate::postgres::binding::PostgresView;
use crate::redis::RedisAccess;
use crate::redis::binding::RedisView;
use crate::sqlite::SqliteAccess;
use crate::sqlite::binding::SqliteView;
use crate::variables::ComponentVariables;
use crate::variables::binding::VariablesView;
use crate::{key_value, postgres, redis, sqlite, variables};
use anyhow::{Context, Result};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
    ProfilingStrategy, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap,
    UpdateDeadline,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Default per-request deadline.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default linear-memory limit per request (per store).
pub const DEFAULT_MAX_MEMORY: usize = 128 * 1024 * 1024;
/// Default number of concurrently live component instances.
pub const DEFAULT_MAX_INSTANCES: u32 = 100;
/// Default budget for the linear memory of all the guests running at once
/// ([`crate::memory_budget`]).
pub const DEFAULT_MEMORY_BUDGET: usize = 160 * 1024 * 1024;
/// Component instances the pool holds per `max_instances`: a request's
/// component and up to 15 dependencies.
const COMPONENTS_PER_INSTANCE: u32 = 16;
/// Async stacks (fibers) the pool holds per `max_instances`: the component's call, and
/// the call of the dependency it is calling (dependencies do not nest), which runs on a
/// stack of its own.
const STACKS_PER_INSTANCE: u32 = 2;
/// How often the epoch ticker increments the engine epoch.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Tunables of the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Wall-clock deadline for one request's guest execution.
    pub request_timeout: Duration,
    /// Linear-memory limit of one request's store, in bytes.
    pub max_memory: usize,
    /// Pool size: how many component instances may be live at once.
    pub max_instances: u32,
    /// The linear memory all the guests running at once may hold together, in bytes
    /// ([`crate::memory_budget`]).
    pub memory_budget: usize,
    /// Whether to write a perf map of the compiled guest code, for `perf` profiles.
    pub perfmap: bool,
    /// Whether to compose each component with its dependencies, as Spin does, instead of
    /// running each dependency as an instance of its own: faster calls between them, but a
    /// dependency then shares its parent's WASI and its failures are reported as the
    /// parent's.
    pub compose_dependencies: bool,
    /// Whether to keep compiled components in wasmtime's on-disk cache (its default folder,
    /// `~/.cache/wasmtime` on Linux) and load them from it, as Spin does: a restart, or a
    /// second host of the same app, then skips compiling.
    pub compilation_cache: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_memory: DEFAULT_MAX_MEMORY,
            max_instances: DEFAULT_MAX_INSTANCES,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            perfmap: false,
            compose_dependencies: false,
            compilation_cache: false,
        }
    }
}

/// wasmtime's compilation cache in its default folder, or none, said once, when it cannot
/// start there (no home folder, say): compiling each time is slower, not wrong.
fn compilation_cache() -> Option<Cache> {
    match Cache::new(CacheConfig::new()) {
        Ok(cache) => Some(cache),
        Err(e) => {
            eprintln!("postloan-host: compiling without a cache: {e}");
            None
        }
    }
}

/// What the host offers one component beyond WASI, limited to what its
/// `spin.toml` table grants it.
#[derive(Clone, Default)]
pub struct ComponentServices {
    /// `allowed_outbound_hosts`, for HTTP.
    pub outbound: OutboundPolicy,
    /// Its `sqlite_databases`.
    pub sqlite: SqliteAccess,
    /// Its `key_value_stores`.
    pub key_value: KeyValueAccess,
    /// Its `[component.ID.variables]`, rendered.
    pub variables: Arc<ComponentVariables>,
    /// Outbound Redis, to `allowed_outbound_hosts`.
    pub redis: RedisAccess,
    /// Outbound PostgreSQL, to `allowed_outbound_hosts`.
    pub postgres: PostgresAccess,
}

/// Per-request store data.
pub struct HostState {
    /// The WASI of whatever runs now: the component's own, or while one of its
    /// dependencies runs, the dependency's capability-less one.
    wasi: WasiCtx,
    /// The other one of the two (the dependency's is made on first use).
    other_wasi: Option<WasiCtx>,
    in_dependency: bool,
    http: WasiHttpCtx,
    table: ResourceTable,
    limits: GuestLimits,
    services: ComponentServices,
    pub(crate) dependencies: DependencyInstances,
}

impl HostState {
    /// Switches WASI to the dependencies' capability-less one, before a
    /// dependency runs. A dependency cannot call back into the component, so
    /// enter and leave nest at most one deep.
    pub(crate) fn enter_dependency(&mut self) {
        debug_assert!(!self.in_dependency, "dependencies do not nest");
        let dependency = self
            .other_wasi
            .take()
            .unwrap_or_else(dependencies::capability_less_wasi);
        self.other_wasi = Some(std::mem::replace(&mut self.wasi, dependency));
        self.in_dependency = true;
    }

    /// Switches WASI back to the component's own, after a dependency ran.
    pub(crate) fn leave_dependency(&mut self) {
        if !self.in_dependency {
            return;
        }
        if let Some(own) = self.other_wasi.take() {
            self.other_wasi = Some(std::mem::replace(&mut self.wasi, own));
        }
        self.in_dependency = false;
    }

    fn sqlite(&mut self) -> SqliteView<'_> {
        SqliteView {
            access: &self.services.sqlite,
            table: &mut self.table,
        }
    }

    fn key_value(&mut self) -> KeyValueView<'_> {
        KeyValueView {
            access: &self.services.key_value,
            table: &mut self.table,
        }
    }

    fn variables(&mut self) -> VariablesView<'_> {
        VariablesView {
            variables: &self.services.variables,
        }
    }

    fn redis(&mut self) -> RedisView<'_> {
        RedisView {
            access: &self.services.redis,
            table: &mut self.table,
        }
    }

    fn postgres(&mut self) -> PostgresView<'_> {
        PostgresView {
            access: &self.services.postgres,
            table: &mut self.table,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.services.outbound,
        }
    }
}

/// What bounds one store's memory: the per-store limit of `--max-memory-mib`, and the
/// store's charge on the host-wide memory budget.
struct GuestLimits {
    store: StoreLimits,
    budget: Charge,
}

impl ResourceLimiter for GuestLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if !self.store.memory_growing(current, desired, maximum)? {
            return Ok(false);
        }
        // Refused by the budget, the growth traps with `OverBudget` (instead of failing the
        // guest's allocation, which a Rust guest turns into an abort that looks like any
        // other trap), so the request is answered `503`, not `500`.
        self.budget
            .grow(desired.saturating_sub(current))
            .map_err(wasmtime::Error::from)?;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.budget.growth_failed();
        self.store.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.store.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.store.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.store.instances()
    }

    fn tables(&self) -> usize {
        self.store.tables()
    }

    fn memories(&self) -> usize {
        self.store.memories()
    }
}

/// A place in the instance pool, and the store's charge on the memory budget. Each store
/// (a request's or a trigger event's component and its dependencies) runs holding one, so
/// no more stores are live than the pool has room for: an HTTP request that finds none
/// free, or no room in the budget for its estimate, is answered before it takes anything
/// from the pool, instead of failing inside wasmtime.
pub struct InstanceSlot {
    _permit: OwnedSemaphorePermit,
    charge: Charge,
}

/// Why an HTTP request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// The memory budget had no room for its estimate.
    Memory,
    /// Every instance slot stayed busy.
    Slots,
}

/// The shared engine plus the epoch ticker thread.
pub struct Runtime {
    engine: Engine,
    /// One permit per store the pool has room for (`max_instances`).
    slots: Arc<Semaphore>,
    /// What the live stores' linear memories may hold together.
    budget: Arc<MemoryBudget>,
    pub(crate) linker: Linker<HostState>,
    /// WASI alone, for dependencies (whose WASI context grants nothing).
    pub(crate) dependency_linker: DependencyLinker,
    config: RuntimeConfig,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Which export of a component a trigger calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TriggerKind {
    /// `wasi:http/incoming-handler.handle`.
    Http,
    /// `fermyon:spin/inbound-redis.handle-message`.
    Redis,
    /// `handle-cron-event` of `fermyon:spin-cron/spin-cron@2.0.0`.
    Cron,
}

#[derive(Clone)]
enum Entrypoint {
    Http(ProxyPre<HostState>),
    Redis(RedisTriggerPre<HostState>),
    Cron(SpinCronPre<HostState>),
}

/// A component compiled and pre-instantiated, ready to handle events of one trigger kind.
#[derive(Clone)]
pub struct PreparedComponent {
    id: Arc<str>,
    entrypoint: Entrypoint,
    services: ComponentServices,
}

impl PreparedComponent {
    /// The component id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Why a guest failed to produce a response.
#[derive(Debug)]
pub enum GuestFailure {
    /// The guest trapped (panic, unreachable, out of memory, ...).
    Trap(String),
    /// The guest ran past the request deadline.
    Timeout(Duration),
    /// The guest returned without setting a response, or answered with an error code.
    NoResponse(String),
    /// A trigger handler returned an error value.
    Failed(String),
    /// The guest's memory could not grow: the host's memory budget was used up by the
    /// guests running at once.
    OverBudget(OverBudget),
    /// The component does not export what the trigger calls.
    WrongTrigger(TriggerKind),
    /// One of the component's dependencies failed (trapped or ran past the
    /// deadline) while the component called it.
    Dependency {
        /// The dependency's manifest key and file.
        dependency: DependencyFailed,
        /// How it failed.
        failure: Box<GuestFailure>,
    },
}

impl GuestFailure {
    /// The dependency that failed, when it was one of the component's.
    pub fn dependency(&self) -> Option<&DependencyFailed> {
        match self {
            Self::Dependency { dependency, .. } => Some(dependency),
            _ => None,
        }
    }
}

impl std::fmt::Display for GuestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Trap(msg) => write!(f, "trapped: {msg}"),
            Self::Timeout(d) => write!(f, "exceeded the request deadline of {d:?}"),
            Self::NoResponse(msg) => write!(f, "did not produce a response: {msg}"),
            Self::Failed(msg) => write!(f, "returned an error: {msg}"),
            Self::OverBudget(over) => write!(f, "could not grow its memory: {over}"),
            Self::WrongTrigger(kind) => write!(f, "cannot handle {kind:?} events"),
            Self::Dependency {
                dependency,
                failure,
            } => write!(f, "failed: its {dependency} {failure}"),
        }
    }
}

/// Marker error returned from the epoch callback when the deadline passes.
#[derive(Debug)]
struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request deadline exceeded")
    }
}

impl std::error::Error for DeadlineExceeded {}

impl Runtime {
    /// Creates the engine (pooling allocator, epoch interruption), the WASI +
    /// wasi-http linker, and starts the epoch ticker thread.
    pub fn new(config: RuntimeConfig) -> Result<Self> {
        let mut pool = PoolingAllocationConfig::new();
        let instances = config.max_instances.max(1);
        // A request instantiates its component and, lazily, each of the
        // component's dependencies: room for up to 15 of them.
        pool.total_component_instances(instances.saturating_mul(COMPONENTS_PER_INSTANCE))
            .total_core_instances(instances * 20)
            .total_memories(instances * 4)
            .total_tables(instances * 20)
            .total_stacks(instances * STACKS_PER_INSTANCE)
            .total_gc_heaps(instances)
            .max_core_instances_per_component(50)
            .max_memories_per_component(10)
            .max_tables_per_component(50)
            .max_memory_size(config.max_memory);

        let mut wasm = Config::new();
        // Without the component-model-async machinery a host function may call
        // into another component instance of its store (a dependency), which
        // `Func::call_async` under concurrency support forbids (no nested
        // event loops). Nothing the host runs uses async lifts or lowers.
        wasm.concurrency_support(false);
        if config.perfmap {
            wasm.profiler(ProfilingStrategy::PerfMap);
        }
        if config.compilation_cache {
            wasm.cache(compilation_cache());
        }
        wasm.epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = wt(Engine::new(&wasm)).context("cannot create the wasmtime engine")?;

        let mut linker = Linker::new(&engine);
        wt(wasmtime_wasi::p2::add_to_linker_async(&mut linker))
            .context("cannot add WASI to the linker")?;
        wt(wasmtime_wasi_http::p2::add_only_http_to_linker_async(
            &mut linker,
        ))
        .context("cannot add wasi-http to the linker")?;
        wt(add_spin_services(&mut linker))
            .context("cannot add the Spin interfaces to the linker")?;

        let dependency_linker = DependencyLinker::new(&engine)?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.weak();
        let stop = stop_ticker.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match ticker_engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .context("cannot start the epoch ticker thread")?;

        Ok(Self {
            engine,
            slots: Arc::new(Semaphore::new(instances as usize)),
            budget: MemoryBudget::new(config.memory_budget),
            linker,
            dependency_linker,
            config,
            stop_ticker,
        })
    }

    /// The runtime's configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The host-wide memory budget.
    pub fn memory_budget(&self) -> &Arc<MemoryBudget> {
        &self.budget
    }

    /// A free instance slot for a request without a body, waiting at most `wait` for one;
    /// `None` when every slot stayed busy that long, or the memory budget stayed full.
    pub async fn instance_slot(&self, wait: Duration) -> Option<InstanceSlot> {
        let (class, estimate) = memory_budget::estimate(0);
        self.admit(self.budget.charge(class), estimate, wait)
            .await
            .ok()
    }

    /// Admits a request whose guest is expected to need `estimate` bytes: reserves them on
    /// the memory budget beside what `charge` holds already (its body), then takes an
    /// instance slot, waiting at most `wait` for both together.
    pub async fn admit(
        &self,
        mut charge: Charge,
        estimate: usize,
        wait: Duration,
    ) -> Result<InstanceSlot, Busy> {
        let deadline = Instant::now() + wait;
        if !charge.reserve(estimate, deadline).await {
            return Err(Busy::Memory);
        }
        let permit = tokio::time::timeout_at(
            tokio::time::Instant::from_std(deadline),
            self.slots.clone().acquire_owned(),
        )
        .await;
        // The semaphore is never closed, so acquiring fails only by timing out.
        match permit {
            Ok(Ok(permit)) => Ok(InstanceSlot {
                _permit: permit,
                charge,
            }),
            _ => Err(Busy::Slots),
        }
    }

    /// Compiles `bytes` and pre-instantiates it against the host's imports
    /// for a trigger of `kind`. Fails with the component id and the
    /// unsatisfied import if the host cannot provide one of its imports, or
    /// with the missing export if it does not export what `kind` calls.
    pub fn prepare(
        &self,
        id: &str,
        bytes: &[u8],
        services: ComponentServices,
        kind: TriggerKind,
    ) -> Result<PreparedComponent> {
        self.prepare_with_dependencies(id, bytes, &[], services, kind)
    }

    /// Like [`Runtime::prepare`], with the component's `dependencies` plugged
    /// into its imports as [`crate::compose::plan`] matches them, each run as
    /// its own instance ([`crate::dependencies`]).
    pub fn prepare_with_dependencies(
        &self,
        id: &str,
        bytes: &[u8],
        deps: &[LoadedDependency],
        services: ComponentServices,
        kind: TriggerKind,
    ) -> Result<PreparedComponent> {
        let component = wt(Component::new(&self.engine, bytes))
            .with_context(|| format!("component `{id}`: cannot compile"))?;
        let instance_pre = if deps.is_empty() {
            self.instantiate_pre(id, &self.linker, &component)?
        } else {
            let plugs = plan(id, bytes, deps)?;
            let mut linker = self.linker.clone();
            dependencies::link(
                id,
                &self.engine,
                &component,
                &mut linker,
                &self.dependency_linker,
                deps,
                &plugs,
            )?;
            self.instantiate_pre(id, &linker, &component)?
        };
        let entrypoint = entrypoint(instance_pre, kind)
            .with_context(|| format!("component `{id}` does not export {}", export_name(kind)))?;
        Ok(PreparedComponent {
            id: id.into(),
            entrypoint,
            services,
        })
    }

    fn instantiate_pre(
        &self,
        id: &str,
        linker: &Linker<HostState>,
        component: &Component,
    ) -> Result<InstancePre<HostState>> {
        linker.instantiate_pre(component).map_err(|e| {
            let imports: Vec<String> = component
                .component_type()
                .imports(&self.engine)
                .map(|(name, _)| name.to_owned())
                .collect();
            anyhow::Error::from(e).context(format!(
                "component `{id}` has an import postloan-host cannot satisfy (it imports: {})",
                imports.join(", ")
            ))
        })
    }

    /// A store charged on the memory budget but never refused by it.
    pub(crate) fn new_store(&self, services: ComponentServices) -> Store<HostState> {
        self.new_store_charged(services, self.budget.charge(Class::Unrefused))
    }

    fn new_store_charged(&self, services: ComponentServices, charge: Charge) -> Store<HostState> {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stdout().inherit_stderr();
        let state = HostState {
            wasi: wasi.build(),
            other_wasi: None,
            in_dependency: false,
            dependencies: DependencyInstances::new(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            // The pool bounds the instances, tables and memories of all stores together;
            // a store's own limit is its memory, and its share of the memory budget.
            limits: GuestLimits {
                store: StoreLimitsBuilder::new()
                    .memory_size(self.config.max_memory)
                    .build(),
                budget: charge,
            },
            services,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let deadline = Instant::now() + self.config.request_timeout;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Err(DeadlineExceeded.into())
            } else {
                // Yield to tokio every tick so a busy guest cannot starve others.
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store
    }

    /// Runs one request through `component` in `slot`: one instantiation, one call of
    /// `wasi:http/incoming-handler.handle`. Returns the guest's response, or why
    /// it failed; the slot is freed when the guest is done, also with the body it
    /// streams after answering. Never panics on guest misbehaviour.
    pub async fn handle<B>(
        &self,
        slot: InstanceSlot,
        component: &PreparedComponent,
        req: hyper::Request<B>,
    ) -> Result<hyper::Response<HyperOutgoingBody>, GuestFailure>
    where
        B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let Entrypoint::Http(pre) = &component.entrypoint else {
            return Err(GuestFailure::WrongTrigger(TriggerKind::Http));
        };
        let timeout = self.config.request_timeout;
        let InstanceSlot {
            _permit: slot,
            charge,
        } = slot;
        let mut store = self.new_store_charged(component.services.clone(), charge);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let prepared = (|| -> Result<_> {
            let req = store
                .data_mut()
                .http()
                .new_incoming_request(Scheme::Http, req)?;
            let out = store.data_mut().http().new_response_outparam(sender)?;
            Ok((req, out))
        })();
        let (req, out) = prepared.map_err(|e| GuestFailure::NoResponse(format!("{e:#}")))?;

        let pre = pre.clone();
        let task = tokio::task::spawn(async move {
            let _slot = slot;
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, req, out)
                .await
        });

        // Guard against guests blocked in host I/O, which epochs cannot interrupt.
        let waited = tokio::time::timeout(timeout + Duration::from_millis(500), receiver).await;
        match waited {
            Ok(Ok(Ok(resp))) => Ok(resp),
            Ok(Ok(Err(code))) => Err(GuestFailure::NoResponse(format!(
                "guest answered with error code {code:?}"
            ))),
            Ok(Err(_dropped)) => Err(match task.await {
                Ok(Ok(())) => GuestFailure::NoResponse(
                    "guest returned without calling response-outparam.set".into(),
                ),
                Ok(Err(e)) => classify(e, timeout),
                Err(join) => GuestFailure::Trap(format!("host task failed: {join}")),
            }),
            Err(_elapsed) => {
                task.abort();
                Err(GuestFailure::Timeout(timeout))
            }
        }
    }
}

impl Runtime {
    /// Delivers one Redis message to `component`'s `handle-message`.
    pub async fn handle_redis_message(
        &self,
        component: &PreparedComponent,
        message: Vec<u8>,
    ) -> Result<(), GuestFailure> {
        let Entrypoint::Redis(pre) = &component.entrypoint else {
            return Err(GuestFailure::WrongTrigger(TriggerKind::Redis));
        };
        let pre = pre.clone();
        let outcome = self
            .run_bounded(component, move |mut store| async move {
                let guest = pre.instantiate_async(&mut store).await?;
                guest
                    .fermyon_spin_inbound_redis()
                    .call_handle_message(&mut store, &message)
                    .await
            })
            .await?;
        outcome.map_err(|e| GuestFailure::Failed(format!("{e:?}")))
    }

    /// Calls `component`'s `handle-cron-event` for the event due at `timestamp`
    /// (seconds since the Unix epoch).
    pub async fn handle_cron_event(
        &self,
        component: &PreparedComponent,
        timestamp: u64,
    ) -> Result<(), GuestFailure> {
        let Entrypoint::Cron(pre) = &component.entrypoint else {
            return Err(GuestFailure::WrongTrigger(TriggerKind::Cron));
        };
        let pre = pre.clone();
        let outcome = self
            .run_bounded(component, move |mut store| async move {
                let guest = pre.instantiate_async(&mut store).await?;
                guest
                    .call_handle_cron_event(&mut store, Metadata { timestamp })
                    .await
            })
            .await?;
        outcome.map_err(|e| GuestFailure::Failed(format!("{e:?}")))
    }

    /// Runs `call` on a fresh store for `component` in its own task, once an
    /// instance slot is free, within the deadline (also when the guest is
    /// blocked in host I/O, which epochs cannot interrupt).
    async fn run_bounded<T, F, Fut>(
        &self,
        component: &PreparedComponent,
        call: F,
    ) -> Result<T, GuestFailure>
    where
        F: FnOnce(Store<HostState>) -> Fut,
        Fut: Future<Output = wasmtime::Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let timeout = self.config.request_timeout;
        // A trigger event has no client to answer "busy": it waits for a slot.
        let slot = self.slots.clone().acquire_owned().await.map_err(|closed| {
            GuestFailure::Trap(format!("the instance pool is closed: {closed}"))
        })?;
        // Charged on the budget, never refused by it.
        let store = self.new_store(component.services.clone());
        let call = call(store);
        let mut task = tokio::task::spawn(async move {
            let _slot = slot;
            call.await
        });
        match tokio::time::timeout(timeout + Duration::from_millis(500), &mut task).await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(classify(e, timeout)),
            Ok(Err(join)) => Err(GuestFailure::Trap(format!("host task failed: {join}"))),
            Err(_elapsed) => {
                task.abort();
                Err(GuestFailure::Timeout(timeout))
            }
        }
    }
}

/// Logs one trigger invocation with its outcome and duration.
pub fn log_invocation(
    trigger: &str,
    component: &PreparedComponent,
    detail: &str,
    started: Instant,
    outcome: &Result<(), GuestFailure>,
) {
    let status = match outcome {
        Ok(()) => "ok".to_owned(),
        Err(failure) => format!("failed ({failure})"),
    };
    eprintln!(
        "postloan-host: {trigger} {detail} component={} status={status} duration_ms={:.1}",
        component.id(),
        started.elapsed().as_secs_f64() * 1000.0
    );
}

/// Adds the Spin interfaces to `linker`, plus the type-only interfaces the
/// trigger worlds `use` (a guest imports them to name its export's types).
fn add_spin_services(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    sqlite::binding::add_to_linker(linker, HostState::sqlite)?;
    key_value::binding::add_to_linker(linker, HostState::key_value)?;
    variables::binding::add_to_linker(linker, HostState::variables)?;
    redis::binding::add_to_linker(linker, HostState::redis)?;
    postgres::binding::add_to_linker(linker, HostState::postgres)?;
    linker.instance("fermyon:spin/redis-types")?;
    linker.instance("fermyon:spin-cron/cron-types@2.0.0")?;
    Ok(())
}

fn entrypoint(pre: InstancePre<HostState>, kind: TriggerKind) -> Result<Entrypoint> {
    Ok(match kind {
        TriggerKind::Http => Entrypoint::Http(wt(ProxyPre::new(pre))?),
        TriggerKind::Redis => Entrypoint::Redis(wt(RedisTriggerPre::new(pre))?),
        TriggerKind::Cron => Entrypoint::Cron(wt(SpinCronPre::new(pre))?),
    })
}

fn export_name(kind: TriggerKind) -> &'static str {
    match kind {
        TriggerKind::Http => "`wasi:http/incoming-handler@0.2.x`",
        TriggerKind::Redis => "`fermyon:spin/inbound-redis` (spin-sdk's #[redis_component])",
        TriggerKind::Cron => "`handle-cron-event` of `fermyon:spin-cron/spin-cron@2.0.0`",
    }
}

/// Converts a wasmtime result into an anyhow one.
fn wt<T>(r: wasmtime::Result<T>) -> Result<T> {
    r.map_err(anyhow::Error::from)
}

pub(crate) fn classify(e: wasmtime::Error, timeout: Duration) -> GuestFailure {
    // Over budget is the host's state, not the guest's or the dependency's fault.
    if let Some(over) = e.downcast_ref::<OverBudget>() {
        return GuestFailure::OverBudget(*over);
    }
    let failure = if e.downcast_ref::<DeadlineExceeded>().is_some()
        || matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt))
    {
        GuestFailure::Timeout(timeout)
    } else {
        // The full chain (with the guest's wasm backtrace) goes to the log; the
        // client only sees the trap itself.
        eprintln!("postloan-host: guest error: {e:#}");
        let summary = match e.downcast_ref::<Trap>() {
            // `Trap`'s own text starts "wasm trap: ".
            Some(trap) => trap.to_string(),
            None => e.root_cause().to_string(),
        };
        GuestFailure::Trap(summary)
    };
    match e.downcast_ref::<DependencyFailed>() {
        Some(dependency) => GuestFailure::Dependency {
            dependency: dependency.clone(),
            failure: Box::new(failure),
        },
        None => failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsatisfiable_import_names_component_and_import() {
        let runtime = Runtime::new(RuntimeConfig {
            max_instances: 2,
            ..RuntimeConfig::default()
        })
        .unwrap();
        let bytes = wat::parse_str(
            r#"(component (import "acme:missing/thing@1.0.0" (instance (export "f" (func)))))"#,
        )
        .unwrap();
        let err = format!(
            "{:#}",
            runtime
                .prepare(
                    "api",
                    &bytes,
                    ComponentServices::default(),
                    TriggerKind::Http
                )
                .err()
                .unwrap()
        );
        assert!(
            err.contains("component `api`") && err.contains("acme:missing/thing@1.0.0"),
            "{err}"
        );
    }

    #[test]
    fn non_http_component_is_rejected() {
        let runtime = Runtime::new(RuntimeConfig {
            max_instances: 2,
            ..RuntimeConfig::default()
        })
        .unwrap();
        let bytes = wat::parse_str("(component)").unwrap();
        let err = format!(
            "{:#}",
            runtime
                .prepare(
                    "worker",
                    &bytes,
                    ComponentServices::default(),
                    TriggerKind::Http
                )
                .err()
                .unwrap()
        );
        assert!(
            err.contains("component `worker`") && err.contains("wasi:http/incoming-handler"),
            "{err}"
        );
    }
}
