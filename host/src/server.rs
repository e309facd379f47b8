//! Loading an application from its manifest and serving it over HTTP/1.1.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::app::{DEFAULT_STATE_DIR, LoadOptions, LoadedApp};
use crate::dependencies::DependencyFailed;
use crate::hyper_answers::{BareAnswers, ProblemAnswers, Problems, Watched, answer_head_timeout};
use crate::manifest::Manifest;
use crate::memory_budget::{self, Charge, Class, SMALL_BODY};
use crate::routes::{RouteMatch, Router};
use crate::runtime::{Busy, GuestFailure, PreparedComponent, Runtime, RuntimeConfig};
use crate::runtime_config::RuntimeConfigFile;
use crate::{cron, redis_trigger};

/// Default largest request body: 1 MiB (docs/host.md says what fits in it).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// Default longest request target (path and query).
pub const DEFAULT_MAX_URI: usize = 8 * 1024;
/// Default largest request head (start line and header fields).
pub const DEFAULT_MAX_HEADER: usize = 64 * 1024;
/// Header fields a request head may have: hyper's fixed default.
const MAX_HEADER_FIELDS: usize = 100;
/// Default time a client has to send a request head.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send a request body.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a request waits for a free instance slot.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(1);
/// How much of a body too large to serve is read and thrown away after the `413`.
const DISCARD_LIMIT: u64 = 64 * 1024 * 1024;
/// What a `503` tells the client to wait before trying again, in seconds.
const RETRY_AFTER_SECONDS: u64 = 1;

/// What a client may send, and how slowly. A request's body is read whole, within these
/// limits, before the request takes an instance slot, so a slow or oversized request
/// holds no more than its connection and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest request body, in bytes; a larger one is answered `413`.
    pub max_body: usize,
    /// Longest request target (path and query), in bytes; a longer one is answered `414`.
    pub max_uri: usize,
    /// Largest request head (start line and header fields), in bytes; a larger one, or
    /// one of more than 100 fields, is answered `431` and the connection closed.
    pub max_header: usize,
    /// Time a client has to send a request head, from the moment the connection opens or
    /// its previous answer was written; then the connection is closed.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request body once its head arrived; then `408`.
    pub body_read_timeout: Duration,
    /// Time a request waits for a free instance slot; then `503` with `Retry-After`.
    pub queue_timeout: Duration,
}

/// Which requests the host writes a line for on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RequestLog {
    /// Only the requests answered with a server error (5xx), so that a busy host does not
    /// spend its time writing lines; failures of components and triggers are always logged.
    #[default]
    Errors,
    /// Every request, with its status and duration.
    All,
}

impl RequestLog {
    /// Whether a request answered `status` gets a line.
    pub fn logs(self, status: StatusCode) -> bool {
        self == Self::All || status.is_server_error()
    }
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_body: DEFAULT_MAX_BODY,
            max_uri: DEFAULT_MAX_URI,
            max_header: DEFAULT_MAX_HEADER,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
        }
    }
}

impl HttpLimits {
    /// The problem bodies of the answers hyper gives by itself, naming these limits.
    fn hyper_problems(&self) -> Problems {
        let body = |status: StatusCode, kind: &str, title: &str, detail: String| {
            Bytes::from(problem_json(status, kind, title, &detail, None).to_string())
        };
        Problems {
            headers_too_large: body(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "urn:postloan:problem:headers-too-large",
                "Headers too large",
                format!(
                    "the request's start line and header fields are larger than {} bytes, \
                     or more than {MAX_HEADER_FIELDS} fields",
                    self.max_header
                ),
            ),
            uri_too_long: body(
                StatusCode::URI_TOO_LONG,
                "urn:postloan:problem:uri-too-long",
                "URI too long",
                format!("the request target is longer than {} bytes", self.max_uri),
            ),
            head_timeout: body(
                StatusCode::REQUEST_TIMEOUT,
                "urn:postloan:problem:request-timeout",
                "Request timeout",
                format!(
                    "the request's head did not arrive within {:?}",
                    self.header_read_timeout
                ),
            ),
        }
    }
}

/// Options of `postloan-host up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Path of the Spin manifest.
    pub manifest: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Runtime tunables.
    pub runtime: RuntimeConfig,
    /// What a client may send, and how slowly.
    pub http: HttpLimits,
    /// Which requests get a line on stderr.
    pub request_log: RequestLog,
    /// The runtime config file (`--runtime-config-file`), if any.
    pub runtime_config_file: Option<PathBuf>,
    /// Where SQLite and key-value files live (`--state-dir`); default
    /// `.postloan/` next to the manifest.
    pub state_dir: Option<PathBuf>,
}

impl UpOptions {
    fn load_options(&self, manifest: &Manifest) -> Result<LoadOptions> {
        let runtime_config = match &self.runtime_config_file {
            Some(path) => RuntimeConfigFile::load(path)?,
            None => RuntimeConfigFile::default(),
        };
        let state_dir = self
            .state_dir
            .clone()
            .unwrap_or_else(|| manifest.dir.join(DEFAULT_STATE_DIR));
        Ok(LoadOptions {
            runtime: self.runtime.clone(),
            state_dir,
            runtime_config,
        })
    }
}

/// A loaded application's HTTP side: routes plus pre-instantiated components.
pub struct App {
    manifest: Manifest,
    router: Router,
    components: BTreeMap<String, PreparedComponent>,
    runtime: Arc<Runtime>,
    limits: HttpLimits,
    request_log: RequestLog,
}

impl App {
    /// The HTTP side of `loaded`, routed as `manifest` says, within `limits`, logging the
    /// requests `request_log` names.
    pub fn new(
        manifest: Manifest,
        loaded: &LoadedApp,
        limits: HttpLimits,
        request_log: RequestLog,
    ) -> Result<Self> {
        let router = Router::build(
            manifest
                .http_triggers
                .iter()
                .map(|t| (t.route.as_str(), t.component.as_str())),
        )
        .with_context(|| format!("invalid routes in {}", manifest.path.display()))?;
        Ok(Self {
            manifest,
            router,
            components: loaded.http_components.clone(),
            runtime: loaded.runtime.clone(),
            limits,
            request_log,
        })
    }

    /// The manifest the app was loaded from.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The route table.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Handles one HTTP request: route, read its body, run the component, or answer with
    /// a problem (404, 408, 413, 414, 500, 503).
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        client: SocketAddr,
    ) -> Response<HyperOutgoingBody> {
        let started = Instant::now();
        let method = req.method().clone();
        let path_and_query = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned());
        let (resp, component) = match self.router.route(req.uri().path()) {
            _ if path_and_query.len() > self.limits.max_uri => (
                problem(
                    StatusCode::URI_TOO_LONG,
                    "urn:postloan:problem:uri-too-long",
                    "URI too long",
                    &format!(
                        "the request target is {} bytes, longer than {} bytes",
                        path_and_query.len(),
                        self.limits.max_uri
                    ),
                    None,
                ),
                "-".to_owned(),
            ),
            None => (
                problem(
                    StatusCode::NOT_FOUND,
                    "urn:postloan:problem:not-found",
                    "Not Found",
                    &format!("no route matches {}", req.uri().path()),
                    None,
                ),
                "-".to_owned(),
            ),
            Some(m) => {
                let resp = self.dispatch(req, &m, client).await;
                (resp, m.component)
            }
        };
        if !self.request_log.logs(resp.status()) {
            return resp;
        }
        // A target too long is logged by its start and its length.
        let logged = if path_and_query.len() > self.limits.max_uri {
            let start = &path_and_query[..path_and_query.floor_char_boundary(100)];
            format!("{start}... ({} bytes)", path_and_query.len())
        } else {
            path_and_query
        };
        eprintln!(
            "postloan-host: {method} {logged} component={component} status={} duration_ms={:.1}",
            resp.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
        resp
    }

    async fn dispatch(
        &self,
        req: Request<Incoming>,
        m: &RouteMatch,
        client: SocketAddr,
    ) -> Response<HyperOutgoingBody> {
        let Some(component) = self.components.get(&m.component) else {
            return component_failed(&m.component, "component is not loaded", None);
        };
        let req = match guest_request(req, m, client) {
            Ok(req) => req,
            Err(e) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "urn:postloan:problem:bad-request",
                    "Bad Request",
                    &format!("{e:#}"),
                    None,
                );
            }
        };
        let (req, body_charge) = match self.read_body(req).await {
            Ok(read) => read,
            Err(resp) => return resp,
        };
        // The guest's memory is reserved on the budget by the body it reads, beside the
        // body's own bytes.
        let body_length = hyper::body::Body::size_hint(req.body())
            .exact()
            .unwrap_or(0);
        let (class, estimate) =
            memory_budget::estimate(usize::try_from(body_length).unwrap_or(usize::MAX));
        let mut charge = self.runtime.memory_budget().charge(class);
        charge.absorb(body_charge);
        let slot = match self
            .runtime
            .admit(charge, estimate, self.limits.queue_timeout)
            .await
        {
            Ok(slot) => slot,
            Err(Busy::Slots) => return self.at_capacity(),
            Err(Busy::Memory) => return self.over_budget(Phase::Admission),
        };
        match self.runtime.handle(slot, component, req).await {
            Ok(resp) => resp,
            Err(GuestFailure::OverBudget(over)) => {
                eprintln!(
                    "postloan-host: component `{}` could not grow its memory: {over}",
                    component.id()
                );
                self.over_budget(Phase::Running)
            }
            Err(failure) => {
                eprintln!("postloan-host: component `{}` {failure}", component.id());
                component_failed(component.id(), &failure.to_string(), failure.dependency())
            }
        }
    }
}

impl App {
    /// Reads the whole body of `req` within the size and time limits, charging its bytes
    /// past [`SMALL_BODY`] on the memory budget as they arrive; or answers `413` (also at
    /// once, when its `content-length` says it is too large), `408`, `503` when the budget
    /// has no room for it, or `400` when the client broke off.
    async fn read_body(
        &self,
        req: Request<Incoming>,
    ) -> Result<(Request<GuestBody>, Charge), Response<HyperOutgoingBody>> {
        let max = self.limits.max_body;
        let (parts, mut body) = req.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > max as u64) {
            self.discard(body, declared);
            return Err(body_too_large(max));
        }
        let mut charge = self.runtime.memory_budget().charge(Class::Large);
        let mut frames = Vec::new();
        let mut length = 0;
        let read = tokio::time::timeout(self.limits.body_read_timeout, async {
            while let Some(frame) = body.frame().await {
                let Ok(data) = frame?.into_data() else {
                    continue; // trailers: the guest reads none
                };
                let before = length;
                length += data.len();
                if length > max {
                    return Ok(Err(body_too_large(max)));
                }
                let past_small =
                    length.saturating_sub(SMALL_BODY) - before.saturating_sub(SMALL_BODY);
                if charge.hold(past_small).is_err() {
                    return Ok(Err(self.over_budget(Phase::Body)));
                }
                frames.push(data);
            }
            Ok::<_, hyper::Error>(Ok(()))
        })
        .await;
        match read {
            Ok(Ok(Ok(()))) => {
                let bytes = match frames.len() {
                    1 => frames.pop().unwrap_or_default(),
                    _ => Bytes::from(frames.concat()),
                };
                Ok((
                    Request::from_parts(parts, Full::new(bytes).map_err(|never| match never {})),
                    charge,
                ))
            }
            Ok(Ok(Err(refused))) => {
                drop((frames, charge));
                self.discard(body, declared);
                Err(refused)
            }
            Ok(Err(e)) => Err(problem(
                StatusCode::BAD_REQUEST,
                "urn:postloan:problem:bad-request",
                "Bad Request",
                &format!("body: the body could not be read: {e}"),
                Some("body"),
            )),
            Err(_elapsed) => Err(problem(
                StatusCode::REQUEST_TIMEOUT,
                "urn:postloan:problem:request-timeout",
                "Request timeout",
                &format!(
                    "body: the body did not arrive within {:?}",
                    self.limits.body_read_timeout
                ),
                Some("body"),
            )),
        }
    }

    /// Reads the rest of a body too large to serve and throws it away, up to
    /// [`DISCARD_LIMIT`] bytes within the body timeout, so that a client still sending it
    /// reads its `413` instead of a reset connection. A body declared larger than that
    /// is not read: its connection is closed after the answer.
    fn discard(&self, mut body: Incoming, declared: Option<u64>) {
        if declared.is_some_and(|length| length > DISCARD_LIMIT) {
            return;
        }
        let timeout = self.limits.body_read_timeout;
        tokio::spawn(tokio::time::timeout(timeout, async move {
            let mut discarded = 0;
            while discarded <= DISCARD_LIMIT {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        discarded += frame.data_ref().map_or(0, |data| data.len() as u64);
                    }
                    Some(Err(_)) | None => break,
                }
            }
        }));
    }

    /// A `503`: every instance slot stayed busy for the queue timeout.
    fn at_capacity(&self) -> Response<HyperOutgoingBody> {
        busy(&format!(
            "all {} instance slots stayed busy for {:?}; retry after {RETRY_AFTER_SECONDS} s",
            self.runtime.config().max_instances.max(1),
            self.limits.queue_timeout
        ))
    }

    /// A `503`: the memory budget had no room for the request, at `phase`.
    fn over_budget(&self, phase: Phase) -> Response<HyperOutgoingBody> {
        let mib = self.runtime.memory_budget().limit() / (1024 * 1024);
        let what = match phase {
            Phase::Body => "had no room for the rest of this request's body".to_owned(),
            Phase::Admission => format!(
                "had no room for this request for {:?}",
                self.limits.queue_timeout
            ),
            Phase::Running => "was used up while this request ran".to_owned(),
        };
        busy(&format!(
            "the host's memory budget of {mib} MiB for requests running at once {what}; \
             retry after {RETRY_AFTER_SECONDS} s"
        ))
    }
}

/// When a request found the memory budget full.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// While its body was read.
    Body,
    /// Waiting, with its body read, for room for its guest.
    Admission,
    /// While its guest ran.
    Running,
}

/// A `503` with `Retry-After`: the host is at capacity, as `detail` says.
fn busy(detail: &str) -> Response<HyperOutgoingBody> {
    let mut resp = problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "urn:postloan:problem:at-capacity",
        "At capacity",
        detail,
        None,
    );
    resp.headers_mut().insert(
        http::header::RETRY_AFTER,
        HeaderValue::from(RETRY_AFTER_SECONDS),
    );
    resp
}

/// A request body read whole, as the guest reads it.
type GuestBody =
    http_body_util::combinators::MapErr<Full<Bytes>, fn(std::convert::Infallible) -> hyper::Error>;

/// A `413`, worded as the components word theirs.
fn body_too_large(max: usize) -> Response<HyperOutgoingBody> {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "urn:postloan:problem:too-large",
        "Payload too large",
        &format!("body: the body is longer than {max} bytes"),
        Some("body"),
    )
}

/// Builds the request the guest sees: absolute URI with the original
/// path+query, and Spin's `spin-*` headers.
fn guest_request<B>(req: Request<B>, m: &RouteMatch, client: SocketAddr) -> Result<Request<B>> {
    let (mut parts, body) = req.into_parts();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_owned());
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let full_url = format!("http://{host}{path_and_query}");
    parts.uri = Uri::builder()
        .scheme("http")
        .authority(host.as_str())
        .path_and_query(path_and_query.as_str())
        .build()
        .context("cannot build request URI")?;
    if !parts.headers.contains_key(http::header::HOST) {
        parts
            .headers
            .insert(http::header::HOST, HeaderValue::from_str(&host)?);
    }
    parts.headers.remove(http::header::CONNECTION);

    let mut spin_headers: Vec<(String, String)> = [
        ("spin-full-url", full_url),
        ("spin-path-info", m.path_info.clone()),
        ("spin-matched-route", m.raw_route.clone()),
        ("spin-base-path", "/".to_owned()),
        ("spin-raw-component-route", m.raw_route.clone()),
        ("spin-component-route", m.component_route.clone()),
        ("spin-client-addr", client.to_string()),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v))
    .collect();
    for (name, value) in &m.captures {
        spin_headers.push((
            format!("spin-path-match-{}", name.to_ascii_lowercase()),
            value.clone(),
        ));
    }
    for (name, value) in spin_headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .with_context(|| format!("invalid header name `{name}`"))?;
        parts.headers.remove(&name);
        parts.headers.insert(
            name,
            HeaderValue::from_str(&value).context("invalid header value")?,
        );
    }
    Ok(Request::from_parts(parts, body))
}

fn full_body(bytes: impl Into<Bytes>) -> HyperOutgoingBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An RFC 9457 problem body, with the field at fault when one is, as the components'
/// problem bodies have it.
fn problem_json(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: &str,
    field: Option<&str>,
) -> serde_json::Value {
    let mut body = serde_json::json!({
        "type": kind,
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(map), Some(field)) = (body.as_object_mut(), field) {
        map.insert("field".into(), field.into());
    }
    body
}

/// An RFC 9457 problem response.
fn problem(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: &str,
    field: Option<&str>,
) -> Response<HyperOutgoingBody> {
    let body = problem_json(status, kind, title, detail, field);
    problem_response(status, body)
}

fn problem_response(status: StatusCode, body: serde_json::Value) -> Response<HyperOutgoingBody> {
    let mut resp = Response::new(full_body(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

/// A `500` naming the component that failed and, when one of its dependencies
/// failed, the dependency too (`dependency`: its manifest key).
fn component_failed(
    component: &str,
    what: &str,
    dependency: Option<&DependencyFailed>,
) -> Response<HyperOutgoingBody> {
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    let mut body = problem_json(
        status,
        "urn:postloan:problem:component-failed",
        "Component failed",
        &format!("component `{component}` {what}"),
        None,
    );
    if let Some(map) = body.as_object_mut() {
        map.insert("component".into(), component.into());
        if let Some(dependency) = dependency {
            map.insert("dependency".into(), dependency.name.as_str().into());
        }
    }
    problem_response(status, body)
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight
/// connections finish (bounded by the time a request may take: its body, its wait for a
/// slot and its deadline, plus a grace second).
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let limits = &app.limits;
    let problems = Arc::new(limits.hyper_problems());
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header)
        .max_headers(MAX_HEADER_FIELDS);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    eprintln!("postloan-host: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let bare = Arc::new(BareAnswers::default());
        let (stream, watch) = Watched::new(stream);
        let io = ProblemAnswers::new(TokioIo::new(stream), problems.clone(), bare.clone());
        let app = app.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let app = app.clone();
            let bare = bare.clone();
            async move {
                let resp = app.handle(req, client).await;
                bare.note(&resp);
                Ok::<_, std::convert::Infallible>(resp)
            }
        });
        let conn = http1.serve_connection(io, service);
        let conn = graceful.watch(conn);
        let problems = problems.clone();
        tokio::spawn(async move {
            let served = conn.await;
            // hyper has dropped the connection by now; a head it timed out is answered 408
            // here, an idle connection closed unanswered.
            match served {
                Ok(()) => {}
                Err(e) if e.is_timeout() => {
                    if let Some(stream) = watch.take_unanswered() {
                        eprintln!("postloan-host: connection from {client}: {e}: answered 408");
                        answer_head_timeout(stream, &problems).await;
                    }
                }
                Err(e) => eprintln!("postloan-host: connection from {client}: {e}"),
            }
        });
    }
    eprintln!("postloan-host: shutting down");
    let grace = app.limits.body_read_timeout
        + app.limits.queue_timeout
        + app.runtime.config().request_timeout
        + Duration::from_secs(1);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("postloan-host: some connections did not finish within {grace:?}");
    }
    Ok(())
}

/// `postloan-host up`: load, start the Redis and cron triggers, bind, print
/// the listening line, serve HTTP until Ctrl-C.
pub async fn up(opts: UpOptions) -> Result<()> {
    let manifest = Manifest::load(&opts.manifest)?;
    let load_options = opts.load_options(&manifest)?;
    let (manifest, loaded) = tokio::task::spawn_blocking(move || {
        LoadedApp::load(&manifest, &load_options).map(|loaded| (manifest, loaded))
    })
    .await
    .context("loading the application panicked")??;
    let app = App::new(manifest, &loaded, opts.http.clone(), opts.request_log)?;
    start_triggers(loaded);
    let listener = TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let addr = listener.local_addr().context("cannot read local address")?;
    for trigger in &app.manifest.http_triggers {
        eprintln!(
            "postloan-host: route {} -> component `{}`",
            trigger.route, trigger.component
        );
    }
    println!("postloan-host listening on http://{addr}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    serve(Arc::new(app), listener, shutdown_signal()).await
}

/// Spawns one task per Redis subscription and per cron schedule.
fn start_triggers(loaded: LoadedApp) {
    for subscription in loaded.subscriptions {
        tokio::spawn(redis_trigger::run_subscription(
            loaded.runtime.clone(),
            subscription,
        ));
    }
    for (component, schedule) in loaded.schedules {
        eprintln!(
            "postloan-host: cron `{}` -> component `{}`",
            schedule.expression(),
            component.id()
        );
        tokio::spawn(cron::run_schedule(
            loaded.runtime.clone(),
            component,
            schedule,
        ));
    }
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
