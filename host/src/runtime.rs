//! The wasmtime side: one engine (pooling allocator, epoch interruption),
//! components compiled and pre-instantiated once, one instantiation per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::outbound::OutboundPolicy;
use anyhow::{Context, Result};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits,
    StoreLimitsBuilder, Trap, UpdateDeadline,
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
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_memory: DEFAULT_MAX_MEMORY,
            max_instances: DEFAULT_MAX_INSTANCES,
        }
    }
}

/// Per-request store data.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    limits: StoreLimits,
    outbound: OutboundPolicy,
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
            hooks: &mut self.outbound,
        }
    }
}

/// The shared engine plus the epoch ticker thread.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    config: RuntimeConfig,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// A component compiled and pre-instantiated, ready to handle requests.
#[derive(Clone)]
pub struct PreparedComponent {
    id: Arc<str>,
    pre: ProxyPre<HostState>,
    outbound: OutboundPolicy,
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
}

impl std::fmt::Display for GuestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Trap(msg) => write!(f, "trapped: {msg}"),
            Self::Timeout(d) => write!(f, "exceeded the request deadline of {d:?}"),
            Self::NoResponse(msg) => write!(f, "did not produce a response: {msg}"),
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
        pool.total_component_instances(instances)
            .total_core_instances(instances * 20)
            .total_memories(instances * 4)
            .total_tables(instances * 20)
            .total_stacks(instances)
            .total_gc_heaps(instances)
            .max_core_instances_per_component(50)
            .max_memories_per_component(10)
            .max_tables_per_component(50)
            .max_memory_size(config.max_memory);

        let mut wasm = Config::new();
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
            linker,
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

    /// Compiles `bytes` and pre-instantiates it against the host's imports.
    /// Fails with the component id and the unsatisfied import if the host
    /// cannot provide one of its imports, or if it is not a `wasi:http` proxy.
    ///
    /// `allowed_outbound_hosts` are the patterns its outgoing HTTP requests
    /// must match (empty: none allowed).
    pub fn prepare(
        &self,
        id: &str,
        bytes: &[u8],
        allowed_outbound_hosts: &[String],
    ) -> Result<PreparedComponent> {
        let component = wt(Component::new(&self.engine, bytes))
            .with_context(|| format!("component `{id}`: cannot compile"))?;
        let ty = component.component_type();
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|e| {
            let imports: Vec<String> = ty
                .imports(&self.engine)
                .map(|(name, _)| name.to_owned())
                .collect();
            e.context(format!(
                "component `{id}` has an import postloan-host cannot satisfy (it imports: {})",
                imports.join(", ")
            ))
        })?;
        let pre = wt(ProxyPre::new(instance_pre)).with_context(|| {
            format!("component `{id}` does not export `wasi:http/incoming-handler@0.2.x`")
        })?;
        Ok(PreparedComponent {
            id: id.into(),
            pre,
            outbound: OutboundPolicy::new(allowed_outbound_hosts),
        })
    }

    fn new_store(&self, outbound: OutboundPolicy) -> Store<HostState> {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stdout().inherit_stderr();
        let state = HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(self.config.max_memory)
                .instances(self.config.max_instances as usize)
                .build(),
            outbound,
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

    /// Runs one request through `component`: one instantiation, one call of
    /// `wasi:http/incoming-handler.handle`. Returns the guest's response, or why
    /// it failed. Never panics on guest misbehaviour.
    pub async fn handle<B>(
        &self,
        component: &PreparedComponent,
        req: hyper::Request<B>,
    ) -> Result<hyper::Response<HyperOutgoingBody>, GuestFailure>
    where
        B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let timeout = self.config.request_timeout;
        let mut store = self.new_store(component.outbound.clone());
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

        let pre = component.pre.clone();
        let task = tokio::task::spawn(async move {
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

/// Converts a wasmtime result into an anyhow one.
fn wt<T>(r: wasmtime::Result<T>) -> Result<T> {
    r.map_err(anyhow::Error::from)
}

fn classify(e: wasmtime::Error, timeout: Duration) -> GuestFailure {
    if e.downcast_ref::<DeadlineExceeded>().is_some()
        || matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt))
    {
        return GuestFailure::Timeout(timeout);
    }
    // The full chain (with the guest's wasm backtrace) goes to the log; the
    // client only sees the trap itself.
    eprintln!("postloan-host: guest error: {e:#}");
    let summary = match e.downcast_ref::<Trap>() {
        Some(trap) => format!("wasm trap: {trap}"),
        None => e.root_cause().to_string(),
    };
    GuestFailure::Trap(summary)
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
        let err = format!("{:#}", runtime.prepare("api", &bytes, &[]).err().unwrap());
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
            runtime.prepare("worker", &bytes, &[]).err().unwrap()
        );
        assert!(
            err.contains("component `worker`") && err.contains("wasi:http/incoming-handler"),
            "{err}"
        );
    }
}
