//! SQLite databases for `fermyon:spin/sqlite@2.0.0`, one file per label.
//!
//! [`DatabaseFiles`] knows where each label's file lives (under the state
//! directory unless the runtime config says otherwise); [`SqliteAccess`] is
//! one component's view of them, limited to the labels `spin.toml` grants it
//! (`sqlite_databases = [...]`). Files are opened in WAL mode with a busy
//! timeout, so concurrent requests and triggers can share them. The
//! [`binding`] submodule adapts this to the generated WIT traits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};

/// How long a statement waits for another writer before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A value as SQLite stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// A 64-bit integer.
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// SQL `NULL`.
    Null,
}

/// The rows a statement produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Column names.
    pub columns: Vec<String>,
    /// One list of values per row, in column order.
    pub rows: Vec<Vec<SqlValue>>,
}

/// Why a database call failed, as the guest sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteError {
    /// No database with this label is configured.
    NoSuchDatabase,
    /// The component was not granted this label.
    AccessDenied,
    /// The database reported an error (SQL, I/O, ...).
    Io(String),
}

impl From<rusqlite::Error> for SqliteError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;

/// Opens (creating if needed) the SQLite file at `path` in WAL mode.
pub fn open_database_file(path: &Path) -> Result<rusqlite::Connection, SqliteError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| SqliteError::Io(format!("cannot create {}: {e}", dir.display())))?;
    }
    let connection = rusqlite::Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    enter_wal_mode(&connection)?;
    // A guest runs the same few statements over and over (a nightly close, per loan):
    // compiled once per connection, not once per call.
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

/// Puts the file in WAL mode. Hosts starting at once on a new file race for it, and SQLite
/// answers "database is locked" to the losers without waiting on its busy handler, so the
/// change is tried again until the busy timeout has passed.
fn enter_wal_mode(connection: &rusqlite::Connection) -> Result<(), SqliteError> {
    let until = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match connection.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < until =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result.map_err(SqliteError::from),
        }
    }
}

/// Where each configured label's SQLite file lives.
#[derive(Debug, Clone, Default)]
pub struct DatabaseFiles {
    files: BTreeMap<String, PathBuf>,
}

impl DatabaseFiles {
    /// Files for `labels`: each at its `configured` path if there is one,
    /// else at `<state_dir>/<kind>/<label>.db`.
    pub fn new<'a>(
        labels: impl IntoIterator<Item = &'a str>,
        configured: &BTreeMap<String, PathBuf>,
        state_dir: &Path,
        kind: &str,
    ) -> Self {
        let files = labels
            .into_iter()
            .map(|label| {
                let path = configured
                    .get(label)
                    .cloned()
                    .unwrap_or_else(|| state_dir.join(kind).join(format!("{label}.db")));
                (label.to_owned(), path)
            })
            .collect();
        Self { files }
    }

    /// The file of `label`, if it is configured.
    pub fn path(&self, label: &str) -> Option<&Path> {
        self.files.get(label).map(PathBuf::as_path)
    }

    /// Checks that every file can be opened, so a bad path fails at startup.
    pub fn check(&self, what: &str) -> Result<()> {
        for (label, path) in &self.files {
            open_database_file(path)
                .map_err(|e| anyhow::anyhow!("{e:?}"))
                .with_context(|| format!("{what} `{label}`: cannot open {}", path.display()))?;
        }
        Ok(())
    }
}

/// Why a label cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelRefused {
    /// `spin.toml` does not grant the label to the component.
    NotGranted,
    /// The label is granted but nothing is configured for it.
    NotConfigured,
}

/// One component's access to labelled files: only the labels it was granted.
#[derive(Debug, Clone, Default)]
pub struct LabelAccess {
    granted: Arc<BTreeSet<String>>,
    files: Arc<DatabaseFiles>,
}

impl LabelAccess {
    /// Access to the `granted` labels of `files`.
    pub fn new(granted: &[String], files: Arc<DatabaseFiles>) -> Self {
        Self {
            granted: Arc::new(granted.iter().cloned().collect()),
            files,
        }
    }

    /// The file of `label`, if the component may open it.
    pub fn resolve(&self, label: &str) -> Result<&Path, LabelRefused> {
        if !self.granted.contains(label) {
            return Err(LabelRefused::NotGranted);
        }
        self.files.path(label).ok_or(LabelRefused::NotConfigured)
    }
}

/// One component's SQLite databases.
#[derive(Debug, Clone, Default)]
pub struct SqliteAccess {
    labels: LabelAccess,
}

impl SqliteAccess {
    /// Access through `labels`.
    pub fn new(labels: LabelAccess) -> Self {
        Self { labels }
    }

    /// Opens the database `label`, as the guest's `connection.open` does.
    pub fn open(&self, label: &str) -> Result<SqliteConnection, SqliteError> {
        let path = self
            .labels
            .resolve(label)
            .map_err(|refused| match refused {
                LabelRefused::NotGranted => SqliteError::AccessDenied,
                LabelRefused::NotConfigured => SqliteError::NoSuchDatabase,
            })?;
        let connection = open_database_file(path)?;
        Ok(SqliteConnection {
            inner: Arc::new(Mutex::new(connection)),
        })
    }
}

/// An open database.
#[derive(Debug, Clone)]
pub struct SqliteConnection {
    inner: Arc<Mutex<rusqlite::Connection>>,
}

impl SqliteConnection {
    /// Runs `statement` with positional `parameters`. A statement that may wait (for the
    /// write lock, or for the disk on a commit) runs on a blocking thread; inside a
    /// transaction the lock is held already, and reads never wait in WAL mode, so the rest
    /// run in place: a nightly close runs thousands of them, and a thread hop each would
    /// cost more than the statement.
    pub async fn execute(
        &self,
        statement: String,
        parameters: Vec<SqlValue>,
    ) -> Result<Rows, SqliteError> {
        let in_place = self.runs_in_place(&statement)?;
        let inner = self.inner.clone();
        let run = move || {
            let connection = inner
                .lock()
                .map_err(|_| SqliteError::Io("connection poisoned by an earlier panic".into()))?;
            run_statement(&connection, &statement, &parameters)
        };
        if in_place {
            return run();
        }
        tokio::task::spawn_blocking(run)
            .await
            .map_err(|e| SqliteError::Io(format!("statement task failed: {e}")))?
    }

    /// Whether `statement` cannot wait: a statement other than a commit inside an open
    /// transaction, or a read.
    fn runs_in_place(&self, statement: &str) -> Result<bool, SqliteError> {
        let connection = self
            .inner
            .lock()
            .map_err(|_| SqliteError::Io("connection poisoned by an earlier panic".into()))?;
        let first_word = statement.split_whitespace().next().unwrap_or_default();
        let is = |keyword: &str| first_word.eq_ignore_ascii_case(keyword);
        Ok(if is("COMMIT") || is("END") || is("BEGIN") {
            false
        } else {
            is("SELECT") || !connection.is_autocommit()
        })
    }
}

fn run_statement(
    connection: &rusqlite::Connection,
    statement: &str,
    parameters: &[SqlValue],
) -> Result<Rows, SqliteError> {
    let mut prepared = connection.prepare_cached(statement)?;
    let columns: Vec<String> = prepared.column_names().map(str::to_owned).collect();
    let params = rusqlite::params_from_iter(parameters.iter().map(to_sql));
    let mut cursor = prepared.query(params)?;
    let mut rows = Vec::new();
    while let Some(row) = cursor.next()? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).map(from_sql))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

fn to_sql(value: &SqlValue) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match value {
        SqlValue::Integer(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
        SqlValue::Blob(b) => Value::Blob(b.clone()),
        SqlValue::Null => Value::Null,
    }
}

fn from_sql(value: rusqlite::types::ValueRef<'_>) -> SqlValue {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Integer(i) => SqlValue::Integer(i),
        ValueRef::Real(f) => SqlValue::Real(f),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
        ValueRef::Null => SqlValue::Null,
    }
}

/// The adapter between [`SqliteAccess`] and the generated `fermyon:spin/sqlite` traits.
pub mod binding {
    use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

    use super::{Rows, SqlValue, SqliteAccess, SqliteConnection, SqliteError};
    use crate::bindings::services::fermyon::spin2_0_0::sqlite::{
        self, Error, HostConnection, QueryResult, RowResult, Value,
    };

    /// What a store lends the sqlite binding for one call.
    pub struct SqliteView<'a> {
        /// The component's database access.
        pub access: &'a SqliteAccess,
        /// Where open connections live.
        pub table: &'a mut ResourceTable,
    }

    struct Binding;

    impl HasData for Binding {
        type Data<'a> = SqliteView<'a>;
    }

    /// Adds `fermyon:spin/sqlite@2.0.0` to `linker`.
    pub fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> SqliteView<'_>,
    ) -> wasmtime::Result<()> {
        sqlite::add_to_linker::<T, Binding>(linker, view)
    }

    impl sqlite::Host for SqliteView<'_> {}

    impl HostConnection for SqliteView<'_> {
        async fn open(
            &mut self,
            database: String,
        ) -> wasmtime::Result<Result<Resource<SqliteConnection>, Error>> {
            match self.access.open(&database) {
                Ok(connection) => Ok(Ok(self.table.push(connection)?)),
                Err(e) => Ok(Err(to_wit_error(e))),
            }
        }

        async fn execute(
            &mut self,
            connection: Resource<SqliteConnection>,
            statement: String,
            parameters: Vec<Value>,
        ) -> wasmtime::Result<Result<QueryResult, Error>> {
            let connection = self.table.get(&connection)?.clone();
            let parameters = parameters.into_iter().map(from_wit_value).collect();
            Ok(connection
                .execute(statement, parameters)
                .await
                .map(to_wit_rows)
                .map_err(to_wit_error))
        }

        async fn drop(&mut self, connection: Resource<SqliteConnection>) -> wasmtime::Result<()> {
            self.table.delete(connection)?;
            Ok(())
        }
    }

    fn to_wit_error(e: SqliteError) -> Error {
        match e {
            SqliteError::NoSuchDatabase => Error::NoSuchDatabase,
            SqliteError::AccessDenied => Error::AccessDenied,
            SqliteError::Io(message) => Error::Io(message),
        }
    }

    fn from_wit_value(value: Value) -> SqlValue {
        match value {
            Value::Integer(i) => SqlValue::Integer(i),
            Value::Real(f) => SqlValue::Real(f),
            Value::Text(s) => SqlValue::Text(s),
            Value::Blob(b) => SqlValue::Blob(b),
            Value::Null => SqlValue::Null,
        }
    }

    fn to_wit_value(value: SqlValue) -> Value {
        match value {
            SqlValue::Integer(i) => Value::Integer(i),
            SqlValue::Real(f) => Value::Real(f),
            SqlValue::Text(s) => Value::Text(s),
            SqlValue::Blob(b) => Value::Blob(b),
            SqlValue::Null => Value::Null,
        }
    }

    fn to_wit_rows(rows: Rows) -> QueryResult {
        QueryResult {
            columns: rows.columns,
            rows: rows
                .rows
                .into_iter()
                .map(|values| RowResult {
                    values: values.into_iter().map(to_wit_value).collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("postloan-sqlite-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn hosts_starting_at_once_all_open_a_new_file() {
        // As when tests start several hosts on one state folder: 8 at once, 20 new files.
        let dir = temp_dir("race");
        for round in 0..20 {
            let path = dir.join(format!("{round}.db"));
            let start = std::sync::Barrier::new(8);
            std::thread::scope(|scope| {
                let opened: Vec<_> = (0..8)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            open_database_file(&path).map(drop)
                        })
                    })
                    .collect();
                for open in opened {
                    assert!(open.join().unwrap().is_ok(), "round {round}");
                }
            });
        }
    }

    fn access(granted: &[&str], dir: &Path) -> SqliteAccess {
        let files = DatabaseFiles::new(["default", "other"], &BTreeMap::new(), dir, "sqlite");
        let granted: Vec<String> = granted.iter().map(|s| s.to_string()).collect();
        SqliteAccess::new(LabelAccess::new(&granted, Arc::new(files)))
    }

    #[test]
    fn a_label_not_granted_is_denied_even_if_it_exists() {
        let access = access(&["default"], &temp_dir("denied"));
        assert_eq!(access.open("other").err(), Some(SqliteError::AccessDenied));
    }

    #[test]
    fn a_granted_label_without_a_database_is_no_such_database() {
        let access = access(&["default", "ghost"], &temp_dir("ghost"));
        assert_eq!(
            access.open("ghost").err(),
            Some(SqliteError::NoSuchDatabase)
        );
    }

    #[tokio::test]
    async fn statements_round_trip_every_value_type() {
        let dir = temp_dir("values");
        let connection = access(&["default"], &dir).open("default").unwrap();
        connection
            .execute("CREATE TABLE t (i, r, s, b, n)".into(), vec![])
            .await
            .unwrap();
        let row = vec![
            SqlValue::Integer(-7),
            SqlValue::Real(2.5),
            SqlValue::Text("héllo".into()),
            SqlValue::Blob(vec![0, 255]),
            SqlValue::Null,
        ];
        connection
            .execute(
                "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)".into(),
                row.clone(),
            )
            .await
            .unwrap();
        let rows = connection
            .execute("SELECT i, r, s, b, n FROM t".into(), vec![])
            .await
            .unwrap();
        assert_eq!(rows.columns, ["i", "r", "s", "b", "n"]);
        assert_eq!(rows.rows, vec![row]);
        assert!(dir.join("sqlite/default.db").exists());
    }

    #[tokio::test]
    async fn bad_sql_is_an_io_error_value() {
        let connection = access(&["default"], &temp_dir("bad"))
            .open("default")
            .unwrap();
        let err = connection
            .execute("SELEC 1".into(), vec![])
            .await
            .unwrap_err();
        assert!(matches!(err, SqliteError::Io(m) if m.contains("syntax error")));
    }
}
