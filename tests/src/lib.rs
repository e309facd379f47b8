//! Shared helpers for the end-to-end tests: where the built artifacts are, a running
//! `postloan-host` on an ephemeral loopback port, and a throwaway `redis-server`.
//!
//! The tests run what `scripts/build` produced; run `scripts/test` (or `scripts/build` first).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository root")
        .to_path_buf()
}

/// A built artifact, relative to the root; panics with how to build it when it is missing.
pub fn artifact(relative: &str) -> PathBuf {
    let path = root().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run scripts/build (scripts/test does) before cargo test",
        path.display()
    );
    path
}

/// The release `postloan-host` binary that scripts/build wrote.
pub fn host_binary() -> PathBuf {
    artifact("target/release/postloan-host")
}

/// A fixture component that `postloan-host build --from tests/fixtures/spin.toml` built,
/// by its crate's library name (e.g. `state_fixture`).
pub fn fixture_wasm(name: &str) -> PathBuf {
    artifact(&format!(
        "tests/fixtures/target/wasm32-wasip2/release/{name}.wasm"
    ))
}

/// A fresh, empty temporary folder named after `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("postloan-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary folder");
    dir
}

/// A loopback TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A `redis-server` on a free loopback port, without persistence; killed when dropped.
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts `redis-server` (scripts/test installs it) and waits until it answers PING.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Stops this server and starts a fresh one on the same port.
    pub fn restart(mut self) -> Self {
        let _ = self.child.kill();
        let _ = self.child.wait();
        Self::start_on(self.port)
    }

    fn start_on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts (scripts/test installs it)");
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.ping().is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn ping(&self) -> redis::RedisResult<()> {
        redis::cmd("PING").query(&mut self.connection_result()?)
    }

    fn connection_result(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection()
    }

    /// Its URL, `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A new client connection.
    pub fn connection(&self) -> redis::Connection {
        self.connection_result()
            .expect("redis-server accepts connections")
    }

    /// Publishes `payload` on `channel` again and again until some subscriber receives it
    /// (a host subscribes shortly after it starts), so it is delivered exactly once.
    pub fn publish_when_subscribed(&self, channel: &str, payload: &str) {
        let mut connection = self.connection();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let receivers: i64 = redis::cmd("PUBLISH")
                .arg(channel)
                .arg(payload)
                .query(&mut connection)
                .expect("PUBLISH works");
            if receivers > 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nobody subscribed to `{channel}`"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls `check` every 100 ms until it returns a value, or panics with `what` after `limit`.
pub fn eventually<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes `manifest` as `spin.toml` in a fresh temporary folder named after `name`.
pub fn write_manifest(name: &str, manifest: &str) -> PathBuf {
    let path = temp_dir(name).join("spin.toml");
    std::fs::write(&path, manifest).expect("manifest written");
    path
}

/// A manifest serving one component from `source` on `route`.
pub fn single_component_manifest(route: &str, source: &Path) -> String {
    format!(
        "spin_manifest_version = 2\n\
         [application]\nname = \"test\"\n\
         [[trigger.http]]\nroute = {route:?}\ncomponent = \"main\"\n\
         [component.main]\nsource = {:?}\n",
        source.display().to_string()
    )
}

/// A `postloan-host up` process serving a manifest; killed when dropped.
pub struct Host {
    child: Child,
    base_url: String,
}

impl Host {
    /// Starts the release host on `manifest` at 127.0.0.1 on a free port, and waits until it listens.
    pub fn start(manifest: &Path) -> Self {
        Self::start_with(manifest, &[])
    }

    /// Like [`Host::start`], with more `postloan-host up` options.
    pub fn start_with(manifest: &Path, options: &[&str]) -> Self {
        Self::start_with_env(manifest, options, &[])
    }

    /// Like [`Host::start_with`], with more environment variables for the host.
    pub fn start_with_env(manifest: &Path, options: &[&str], env: &[(&str, &str)]) -> Self {
        Self::spawn(manifest, options, env, Stdio::inherit())
    }

    /// Like [`Host::start_with`], the host's stderr written to `stderr`.
    pub fn start_logging_to(manifest: &Path, options: &[&str], stderr: std::fs::File) -> Self {
        Self::spawn(manifest, options, &[], Stdio::from(stderr))
    }

    fn spawn(manifest: &Path, options: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Self {
        let mut child = Command::new(host_binary())
            .args(["up", "--from"])
            .arg(manifest)
            .args(["--listen", "127.0.0.1:0"])
            .args(options)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("postloan-host starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let base_url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("postloan-host listening on ")
                    .map(str::to_owned)
            })
            .expect("postloan-host prints the address it listens on");
        // Keep draining stdout so the host never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base_url }
    }

    /// The URL of `path` on this host.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The host's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status, content type and JSON body of a POST of `body` to `url`.
pub fn post(
    url: &str,
    body: impl Into<reqwest::blocking::Body>,
) -> (u16, String, serde_json::Value) {
    let response = reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .expect("the host answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let json = response.json().expect("the body is JSON");
    (status, content_type, json)
}

/// The status and text body of a request.
pub fn send(request: reqwest::blocking::RequestBuilder) -> (u16, String) {
    let response = request.send().expect("the host answers");
    let status = response.status().as_u16();
    (status, response.text().expect("a text body"))
}

/// The status and text body of a GET of `url`.
pub fn get_text(url: &str) -> (u16, String) {
    send(reqwest::blocking::Client::new().get(url))
}

/// The status and text body of a PUT of `body` to `url`.
pub fn put_text(url: &str, body: &str) -> (u16, String) {
    send(
        reqwest::blocking::Client::new()
            .put(url)
            .body(body.to_owned()),
    )
}

/// The default scorer's path in `spin.toml`.
const DEFAULT_SCORER: &str = "target/wasm32-wasip2/release/postloan_scoring.wasm";

/// `manifest` with the scorer plugged in swapped for the component at `scorer`: the one
/// line that names it changes, as an integrator would change it.
fn with_scorer(manifest: &str, scorer: &Path) -> String {
    assert_eq!(
        manifest.matches(DEFAULT_SCORER).count(),
        1,
        "spin.toml names the default scorer on one line, for every component"
    );
    manifest.replace(DEFAULT_SCORER, &scorer.display().to_string())
}

/// The app's own `spin.toml` with the scorer swapped for the component at `scorer`, written
/// to a temporary folder named after `name`; every other path points at the repository's
/// build.
pub fn app_manifest_with_scorer(name: &str, scorer: &Path) -> PathBuf {
    let manifest = std::fs::read_to_string(root().join("spin.toml")).expect("spin.toml");
    let absolute = with_scorer(&manifest, scorer)
        .replace("\"target/", &format!("\"{}/target/", root().display()));
    write_manifest(name, &absolute)
}

/// The app's own `spin.toml` for a test of the loan book: its Redis (trigger, outbound and
/// `redis_address`) is `redis_url`, and every path points at the repository's build. The
/// cron trigger runs on `cron` instead of every 10 minutes, or is left out when `None` (a
/// test closes business dates itself, and the nightly trigger would close the real
/// yesterday). Written to a temporary folder named after `name`.
pub fn book_manifest(name: &str, redis_url: &str, cron: Option<&str>) -> PathBuf {
    let manifest = std::fs::read_to_string(root().join("spin.toml")).expect("spin.toml");
    write_manifest(name, &for_the_book(&manifest, redis_url, cron))
}

/// Like [`book_manifest`], with the scorer swapped for the component at `scorer` (one line).
pub fn book_manifest_with_scorer(
    name: &str,
    redis_url: &str,
    cron: Option<&str>,
    scorer: &Path,
) -> PathBuf {
    let manifest = std::fs::read_to_string(root().join("spin.toml")).expect("spin.toml");
    write_manifest(
        name,
        &for_the_book(&with_scorer(&manifest, scorer), redis_url, cron),
    )
}

fn for_the_book(manifest: &str, redis_url: &str, cron: Option<&str>) -> String {
    const EXPRESSION: &str = "cron_expression = \"0 0/10 * * * *\"";
    assert!(
        manifest.contains(EXPRESSION),
        "spin.toml runs the nightly every 10 minutes"
    );
    let mut kept = Vec::new();
    let mut in_cron = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_cron = line == "[[trigger.cron]]";
        }
        if !in_cron || cron.is_some() {
            kept.push(line);
        }
    }
    kept.join("\n")
        .replace(
            EXPRESSION,
            &format!("cron_expression = {:?}", cron.unwrap_or_default()),
        )
        .replace("redis://127.0.0.1:6379", redis_url)
        .replace("\"target/", &format!("\"{}/target/", root().display()))
}

/// The book's database for one test: SQLite's file in the test's folder, or, when
/// `POSTLOAN_TEST_POSTGRES` names a PostgreSQL server (`postgres://postgres@127.0.0.1:5432`),
/// a database of its own on it, named after the test's folder, so that tests run side by
/// side. scripts/test runs the book's tests once on each.
#[derive(Debug, Clone)]
pub enum TestDatabase {
    /// The SQLite file `state/sqlite/default.db` of the folder.
    Sqlite(PathBuf),
    /// The URL of a PostgreSQL database.
    Postgres(String),
}

/// The variable naming the PostgreSQL server the book's tests use instead of SQLite.
pub const TEST_POSTGRES: &str = "POSTLOAN_TEST_POSTGRES";

impl TestDatabase {
    /// The database of the book in folder `dir`. On PostgreSQL it is created, empty, when
    /// `fresh` (dropping one of an earlier run), and when it does not exist yet.
    fn for_folder(dir: &Path, fresh: bool) -> Self {
        Self::on_server(dir, fresh, std::env::var(TEST_POSTGRES).ok().as_deref())
    }

    /// Like [`TestDatabase::for_folder`], on the PostgreSQL `server` when given, else SQLite.
    fn on_server(dir: &Path, fresh: bool, server: Option<&str>) -> Self {
        let Some(server) = server else {
            return Self::Sqlite(dir.join("state/sqlite/default.db"));
        };
        let server = server.trim_end_matches('/');
        let name = database_name(dir);
        let mut admin = pg_admin(server);
        let exists = !admin
            .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .expect("the databases")
            .is_empty();
        if fresh || !exists {
            create_database(&mut admin, &name, None);
        }
        Self::Postgres(format!("{server}/{name}"))
    }

    /// The environment a host needs to keep the book in this database.
    fn host_env(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Sqlite(_) => Vec::new(),
            Self::Postgres(url) => vec![("SPIN_VARIABLE_DATABASE_URL", url.clone())],
        }
    }

    /// Runs `sql` (parameters `$1`, `$2`, … read by both databases) and answers the rows
    /// changed.
    pub fn execute(&self, sql: &str, params: &[&str]) -> u64 {
        match self {
            Self::Sqlite(path) => {
                let db = rusqlite::Connection::open(path).expect("the book's SQLite file");
                db.execute(sql, rusqlite::params_from_iter(params))
                    .expect("a statement") as u64
            }
            Self::Postgres(url) => pg_connect(url)
                .execute(sql, &pg_params(params))
                .expect("a statement"),
        }
    }

    /// The rows `sql` answers, each column as text (`None` for `NULL`).
    pub fn query(&self, sql: &str, params: &[&str]) -> Vec<Vec<Option<String>>> {
        match self {
            Self::Sqlite(path) => {
                let db = rusqlite::Connection::open(path).expect("the book's SQLite file");
                let mut statement = db.prepare(sql).expect("a query");
                let columns = statement.column_count();
                statement
                    .query_map(rusqlite::params_from_iter(params), |row| {
                        (0..columns)
                            .map(|i| {
                                Ok(match row.get::<_, rusqlite::types::Value>(i)? {
                                    rusqlite::types::Value::Null => None,
                                    rusqlite::types::Value::Integer(v) => Some(v.to_string()),
                                    rusqlite::types::Value::Text(t) => Some(t),
                                    other => Some(format!("{other:?}")),
                                })
                            })
                            .collect()
                    })
                    .expect("rows")
                    .collect::<Result<_, _>>()
                    .expect("rows")
            }
            Self::Postgres(url) => pg_connect(url)
                .query(sql, &pg_params(params))
                .expect("a query")
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| {
                            let kind = row.columns()[i].type_();
                            if *kind == postgres::types::Type::INT8 {
                                row.get::<_, Option<i64>>(i).map(|v| v.to_string())
                            } else if *kind == postgres::types::Type::INT4 {
                                row.get::<_, Option<i32>>(i).map(|v| v.to_string())
                            } else {
                                row.get::<_, Option<String>>(i)
                            }
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// A copy of this book's database for the book in folder `to`, taken while no host
    /// runs (the folder's manifest is copied by the caller).
    pub fn copy_to(&self, to: &Path) -> Self {
        match self {
            Self::Sqlite(path) => {
                let sqlite = to.join("state/sqlite");
                std::fs::create_dir_all(&sqlite).expect("a folder");
                let from = path.parent().expect("the SQLite folder");
                for file in std::fs::read_dir(from).expect("the book's files") {
                    let file = file.expect("a file").path();
                    std::fs::copy(&file, sqlite.join(file.file_name().expect("a name")))
                        .expect("a copy");
                }
                Self::Sqlite(sqlite.join("default.db"))
            }
            Self::Postgres(url) => {
                let (server, from) = url.rsplit_once('/').expect("a PostgreSQL URL");
                let name = database_name(to);
                create_database(&mut pg_admin(server), &name, Some(from));
                Self::Postgres(format!("{server}/{name}"))
            }
        }
    }
}

/// The PostgreSQL database of the book in folder `dir`: the folder's name in lower case,
/// `_` for anything but letters and digits, its last 63 bytes (PostgreSQL's limit; the
/// process id at the end keeps tests apart).
fn database_name(dir: &Path) -> String {
    let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("book");
    let name: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    name[name.len().saturating_sub(63)..].to_owned()
}

/// A connection to the `postgres` database of `server`, to create and drop others.
fn pg_admin(server: &str) -> postgres::Client {
    postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
        .unwrap_or_else(|e| panic!("{TEST_POSTGRES}={server}: PostgreSQL answers: {e}"))
}

/// Creates database `name` afresh (dropping one of an earlier run), as a copy of
/// `template` when given.
fn create_database(admin: &mut postgres::Client, name: &str, template: Option<&str>) {
    let copy = template.map_or_else(String::new, |from| format!(" TEMPLATE \"{from}\""));
    // Two statements: PostgreSQL runs neither inside a transaction block.
    for statement in [
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{name}\"{copy}"),
    ] {
        admin.batch_execute(&statement).expect("a fresh database");
    }
}

/// A connection to the book's PostgreSQL database at `url`.
fn pg_connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("the book's PostgreSQL database")
}

/// Text parameters as the postgres client takes them.
fn pg_params<'a>(params: &'a [&'a str]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// Loan `n` of a test book: `L` and `n` in five digits, borrower `B…`, one installment of
/// 1000.00 and 10.00 interest due on one of 90 days from 2025-12-01, so that on 2026-03-01
/// the book stands in several buckets and stages and plans several kinds of action.
pub fn spread_loan(n: usize) -> serde_json::Value {
    let due = chrono::NaiveDate::from_ymd_opt(2025, 12, 1)
        .and_then(|d| d.checked_add_days(chrono::Days::new((n % 90) as u64)))
        .expect("a date");
    serde_json::json!({
        "id": format!("L{n:05}"),
        "borrower": { "id": format!("B{n:05}"), "profile": {
            "name": "Borrower", "language": "en", "time_zone": "Asia/Shanghai",
            "contact_points": [{ "channel": "sms", "address": "+8613800138000" }]
        } },
        "currency": "CNY",
        "disbursed_on": "2025-11-01",
        "installments": [{ "seq": 1, "due_date": due.to_string(), "principal": "1000.00", "interest": "10.00" }]
    })
}

/// A copy of a book's folder `from` (its manifest, and `database`) at `to`, taken while no
/// host runs on it; [`Book::serve`] then serves the copy.
pub fn copy_book(from: &Path, database: &TestDatabase, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("a folder");
    std::fs::copy(from.join("spin.toml"), to.join("spin.toml")).expect("the manifest");
    database.copy_to(to);
}

/// The platform token the book tests start the host with: the README's.
pub const PLATFORM_TOKEN: &str = "dev-platform-token";

/// A host serving the loan book on a fresh SQLite file, with its own Redis.
pub struct Book {
    /// The host.
    pub host: Host,
    /// Its folder: the manifest and the state directory (the SQLite file).
    pub dir: PathBuf,
    /// Where the book is kept.
    pub database: TestDatabase,
}

impl Book {
    /// Starts the app for test `name` against `redis`, state in a fresh folder, without the
    /// nightly cron trigger.
    pub fn start(name: &str, redis: &RedisServer) -> Self {
        Self::start_with_cron(name, redis, None)
    }

    /// Like [`Book::start`], with the nightly cron trigger on expression `cron`.
    pub fn start_with_cron(name: &str, redis: &RedisServer, cron: Option<&str>) -> Self {
        let manifest = book_manifest(name, &redis.url(), cron);
        let dir = manifest.parent().expect("a folder").to_path_buf();
        let database = TestDatabase::for_folder(&dir, true);
        let host = Self::host(&manifest, &dir, &database, &[]);
        Self {
            host,
            dir,
            database,
        }
    }

    /// Serves `manifest` with the state (the SQLite file, or the PostgreSQL database) of the
    /// folder `dir`, which may be another host's: so a test can go on with the same book on
    /// another manifest, or run a second host on it.
    pub fn serve(manifest: &Path, dir: &Path) -> Self {
        let database = TestDatabase::for_folder(dir, false);
        let host = Self::host(manifest, dir, &database, &[]);
        Self {
            host,
            dir: dir.to_path_buf(),
            database,
        }
    }

    /// Starts a host again on the same manifest and state, as after a crash.
    pub fn restart(self) -> Self {
        let Self {
            host,
            dir,
            database,
        } = self;
        drop(host);
        let host = Self::host(&dir.join("spin.toml"), &dir, &database, &[]);
        Self {
            host,
            dir,
            database,
        }
    }

    /// Like [`Book::start`], the book in a fresh database on the PostgreSQL `server` when
    /// given, else in SQLite, whatever `POSTLOAN_TEST_POSTGRES` says.
    pub fn start_on(name: &str, redis: &RedisServer, server: Option<&str>) -> Self {
        let manifest = book_manifest(name, &redis.url(), None);
        let dir = manifest.parent().expect("a folder").to_path_buf();
        let database = TestDatabase::on_server(&dir, true, server);
        let host = Self::host(&manifest, &dir, &database, &[]);
        Self {
            host,
            dir,
            database,
        }
    }

    /// Like [`Book::start`], the host's environment extended (or overridden) by `env`.
    pub fn start_with_env(name: &str, redis: &RedisServer, env: &[(&str, &str)]) -> Self {
        let manifest = book_manifest(name, &redis.url(), None);
        let dir = manifest.parent().expect("a folder").to_path_buf();
        let database = TestDatabase::for_folder(&dir, true);
        let host = Self::host(&manifest, &dir, &database, env);
        Self {
            host,
            dir,
            database,
        }
    }

    fn host(manifest: &Path, dir: &Path, database: &TestDatabase, extra: &[(&str, &str)]) -> Host {
        let state = dir.join("state");
        let mut env = vec![
            ("SPIN_VARIABLE_PLATFORM_TOKEN", PLATFORM_TOKEN.to_owned()),
            // Small pages of work per call, so a test sees a run in progress.
            ("SPIN_VARIABLE_JOB_BUDGET_SECONDS", "5".to_owned()),
            // A killed host's claims are taken over after 10 s, not the default minute.
            ("SPIN_VARIABLE_JOB_LEASE_SECONDS", "10".to_owned()),
        ];
        env.extend(database.host_env());
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(extra.iter().copied())
            .collect();
        Host::start_with_env(
            manifest,
            &["--state-dir", &state.display().to_string()],
            &env,
        )
    }

    /// The host's process id.
    pub fn pid(&self) -> u32 {
        self.host.child.id()
    }

    /// Kills the host with SIGKILL, as a crash would.
    pub fn kill_hard(&mut self) {
        let _ = self.host.child.kill();
        let _ = self.host.child.wait();
    }

    /// Creates tenant `id` with `settings` and returns its first admin key.
    pub fn create_tenant(&self, id: &str, settings: serde_json::Value) -> String {
        let (status, body) = self.call(
            "POST",
            "/v1/tenants",
            PLATFORM_TOKEN,
            Some(serde_json::json!({ "id": id, "name": id, "settings": settings })),
        );
        assert_eq!(status, 201, "tenant {id} created: {body}");
        body["admin_key"].as_str().expect("an admin key").to_owned()
    }

    /// Sends `method path` with `key` as bearer and `body` as JSON; the status and JSON
    /// body (`null` when the body is not JSON).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (status, text) = self.call_text(method, path, key, body);
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Like [`Book::call`], the body as text.
    pub fn call_text(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a client")
            .request(method, self.host.url(path))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        send(request)
    }

    /// Every action in the outbox, sorted, without its id and time: loan, kind, rule, and
    /// channel or queue; so that two runs' outboxes compare.
    pub fn outbox(&self, key: &str) -> Vec<(String, String, String, String)> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let (_, body) = self.call(
                "GET",
                &format!("/v1/actions?after={after}&limit=1000"),
                key,
                None,
            );
            let page = body["items"].as_array().cloned().unwrap_or_default();
            let Some(last) = page.last() else { break };
            after = last["id"].as_i64().expect("an id");
            all.extend(page.iter().map(|a| {
                let field = |name: &str| a[name].as_str().unwrap_or_default().to_owned();
                let target = a["channel"].as_str().or(a["queue"].as_str());
                (
                    field("loan_id"),
                    field("kind"),
                    field("rule"),
                    target.unwrap_or_default().to_owned(),
                )
            }));
        }
        all.sort();
        all
    }

    /// The run of business date `date` as stored: its status and the loans processed so
    /// far (`None` before it starts).
    pub fn job_progress(&self, date: &str) -> Option<(String, i64)> {
        let rows = self.database.query(
            "SELECT status, processed FROM job_runs WHERE business_date = $1",
            &[date],
        );
        let row = rows.first()?;
        Some((row[0].clone()?, row[1].as_deref()?.parse().ok()?))
    }

    /// Closes business dates up to `date`, calling again while the job answers 202.
    pub fn close(&self, key: &str, date: &str) -> serde_json::Value {
        let path = format!("/v1/jobs/close-of-business?date={date}");
        loop {
            let (status, body) = self.call("POST", &path, key, None);
            match status {
                200 => return body,
                202 => continue,
                _ => panic!("closing {date} answered {status}: {body}"),
            }
        }
    }
}

/// A manifest of the repository (`spin.toml`, `deploy/akamai/spin.toml`, ...) as TOML.
pub fn spin_toml(relative: &str) -> toml::Table {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
        .parse()
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Replaces every string in `value`, however deep, with `change` of it.
pub fn map_strings(value: &mut toml::Value, change: &dyn Fn(&str) -> String) {
    match value {
        toml::Value::String(text) => *text = change(text),
        toml::Value::Array(items) => items.iter_mut().for_each(|v| map_strings(v, change)),
        toml::Value::Table(table) => table.iter_mut().for_each(|(_, v)| map_strings(v, change)),
        _ => {}
    }
}

/// The README's worked example for `POST /v1/assess`: 23 days past due after a partial
/// payment, on 2026-03-10.
pub fn readme_request() -> serde_json::Value {
    serde_json::json!({
        "as_of": "2026-03-10",
        "loan": {
            "id": "L-1001", "currency": "CNY",
            "installments": [
                { "seq": 1, "due_date": "2026-01-15", "principal": "1000.00", "interest": "50.00", "fees": "10.00" },
                { "seq": 2, "due_date": "2026-02-15", "principal": "1000.00", "interest": "40.00", "fees": "10.00" },
                { "seq": 3, "due_date": "2026-03-15", "principal": "1000.00", "interest": "30.00", "fees": "10.00" }
            ],
            "payments": [
                { "id": "P1", "value_date": "2026-01-15", "amount": "1060.00" },
                { "id": "P2", "value_date": "2026-02-20", "amount": "500.00" },
                { "id": "P3", "value_date": "2026-03-12", "amount": "550.00" }
            ]
        },
        "policy": { "grace_days": 5 }
    })
}
