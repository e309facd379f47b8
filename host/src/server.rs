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
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::app::{DEFAULT_STATE_DIR, LoadOptions, LoadedApp};
use crate::dependencies::DependencyFailed;
use crate::manifest::Manifest;
use crate::routes::{RouteMatch, Router};
use crate::runtime::{PreparedComponent, Runtime, RuntimeConfig};
use crate::runtime_config::RuntimeConfigFile;
use crate::{cron, redis_trigger};

/// Options of `postloan-host up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Path of the Spin manifest.
    pub manifest: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Runtime tunables.
    pub runtime: RuntimeConfig,
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
}

impl App {
    /// The HTTP side of `loaded`, routed as `manifest` says.
    pub fn new(manifest: Manifest, loaded: &LoadedApp) -> Result<Self> {
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

    /// Handles one HTTP request: route, run the component, or answer 404/500.
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
            None => (
                problem(
                    StatusCode::NOT_FOUND,
                    "urn:postloan:problem:not-found",
                    "Not Found",
                    &format!("no route matches {}", req.uri().path()),
                    &[],
                ),
                "-".to_owned(),
            ),
            Some(m) => {
                let resp = self.dispatch(req, &m, client).await;
                (resp, m.component)
            }
        };
        eprintln!(
            "postloan-host: {method} {path_and_query} component={component} status={} duration_ms={:.1}",
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
                    &[],
                );
            }
        };
        match self.runtime.handle(component, req).await {
            Ok(resp) => resp,
            Err(failure) => {
                eprintln!("postloan-host: component `{}` {failure}", component.id());
                component_failed(component.id(), &failure.to_string(), failure.dependency())
            }
        }
    }
}

/// Builds the request the guest sees: absolute URI with the original
/// path+query, and Spin's `spin-*` headers.
fn guest_request(
    req: Request<Incoming>,
    m: &RouteMatch,
    client: SocketAddr,
) -> Result<Request<Incoming>> {
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

/// An RFC 9457 problem response.
fn problem(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: &str,
    members: &[(&str, &str)],
) -> Response<HyperOutgoingBody> {
    let mut body = serde_json::json!({
        "type": kind,
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let Some(map) = body.as_object_mut() {
        for (name, value) in members {
            map.insert((*name).into(), (*value).into());
        }
    }
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
    let mut members = vec![("component", component)];
    if let Some(dependency) = dependency {
        members.push(("dependency", &dependency.name));
    }
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "urn:postloan:problem:component-failed",
        "Component failed",
        &format!("component `{component}` {what}"),
        &members,
    )
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight
/// connections finish (bounded by the request timeout plus a grace second).
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
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
        let app = app.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let app = app.clone();
            async move { Ok::<_, std::convert::Infallible>(app.handle(req, client).await) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                eprintln!("postloan-host: connection from {client}: {e}");
            }
        });
    }
    eprintln!("postloan-host: shutting down");
    let grace = app.runtime.config().request_timeout + Duration::from_secs(1);
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
    let app = App::new(manifest, &loaded)?;
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
