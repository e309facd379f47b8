//! Outbound PostgreSQL for `spin:postgres/postgres@4.0.0` (spin-sdk's `pg4`), through
//! `tokio-postgres`.
//!
//! [`PostgresAccess`] is one component's view: it connects only to servers its
//! `allowed_outbound_hosts` allow (`postgres://host:port`, as in Spin) and takes its
//! connections from [`PostgresPools`], one small pool per address shared by every
//! component of the app, so a request does not open a TCP connection (and authenticate)
//! of its own. Connections are made without TLS. Values cross in the WIT types, converted
//! by the column's PostgreSQL type as Spin converts them; a guest sees every failure as an
//! `error` value, never as a trap. The [`binding`] submodule adapts it to the WIT traits.
#![allow(
    clippy::result_large_err,
    reason = "the error is the WIT `error` the guest is answered with, made once per failure"
)]

use std::collections::HashMap;
use std::error::Error as _;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures_util::TryStreamExt;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row, Statement};

use crate::bindings::services::spin::postgres::postgres::{
    Column, DbDataType, DbError, DbValue, Error, ParameterValue, QueryError, RowSet,
};
use crate::outbound::OutboundPolicy;

/// Connections kept per address. PostgreSQL allows 100 by default: 16 leave room for
/// other clients, other addresses and other apps.
const POOL_SIZE: usize = 16;
/// How long `open` waits for a free pooled connection, or for a new one to be made.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a query's rows may hold, counted as PostgreSQL sent them: the host buffers
/// them before the guest gets any.
const MAX_RESULT_BYTES: usize = 64 << 20;

/// The pools of every address some component connected to, shared by the whole app.
#[derive(Default)]
pub struct PostgresPools {
    pools: Mutex<HashMap<String, Pool>>,
}

impl PostgresPools {
    /// The pool of `address` (parsed as `config`), made on first use; it connects lazily.
    fn pool(&self, address: &str, config: tokio_postgres::Config) -> Result<Pool, Error> {
        let mut pools = self
            .pools
            .lock()
            .map_err(|_| Error::Other("the pool map was poisoned by an earlier panic".into()))?;
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        // Before a connection is lent again: end a transaction the last guest left open
        // (one that trapped between `BEGIN` and `COMMIT`), then deadpool's clean-up of the
        // session (settings, temporary tables, advisory locks, listeners).
        let clean = RecyclingMethod::Clean.query().unwrap_or_default();
        let recycling_method = RecyclingMethod::Custom(format!("ROLLBACK; {clean}"));
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| Error::Other(format!("cannot make a connection pool: {e}")))?;
        pools.insert(address.to_owned(), pool.clone());
        Ok(pool)
    }
}

/// Checks what `address` would connect to against `policy`, as Spin does: each TCP
/// server, at its port (the one port given for all, or 5432), must be allowed as
/// `postgres://host:port`. A `hostaddr` is what is connected to, so it is checked in place
/// of its host name. Unix sockets, and `sslmode=require` (there is no TLS), are refused.
fn check_address(policy: &OutboundPolicy, config: &tokio_postgres::Config) -> Result<(), Error> {
    let hosts = config.get_hosts();
    let addrs = config.get_hostaddrs();
    let ports = config.get_ports();
    for i in 0..hosts.len().max(addrs.len()) {
        let host = match (addrs.get(i), hosts.get(i)) {
            (Some(addr), _) => addr.to_string(),
            (None, Some(Host::Tcp(host))) => host.clone(),
            _ => {
                return Err(Error::ConnectionFailed(
                    "Unix sockets are not supported".into(),
                ));
            }
        };
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        if !policy.allows("postgres", &host, Some(port)) {
            eprintln!(
                "postloan-host: postgres connection to postgres://{host}:{port} denied (not in allowed_outbound_hosts)"
            );
            return Err(Error::ConnectionFailed(format!(
                "address postgres://{host}:{port} is not permitted"
            )));
        }
    }
    if config.get_ssl_mode() == SslMode::Require {
        return Err(Error::ConnectionFailed(
            "sslmode=require is not supported: postloan-host connects to PostgreSQL without TLS"
                .into(),
        ));
    }
    Ok(())
}

/// One component's outbound PostgreSQL.
#[derive(Clone, Default)]
pub struct PostgresAccess {
    policy: OutboundPolicy,
    pools: Arc<PostgresPools>,
}

impl PostgresAccess {
    /// Access to the servers `policy` allows, over the shared `pools`.
    pub fn new(policy: OutboundPolicy, pools: Arc<PostgresPools>) -> Self {
        Self { policy, pools }
    }

    /// Connects to `address` (a `postgres://` URL or `key=value` pairs), as the guest's
    /// `connection.open` does: a connection from the address's pool.
    pub async fn open(&self, address: &str) -> Result<PostgresConnection, Error> {
        let config: tokio_postgres::Config = address
            .parse()
            .map_err(|e| Error::ConnectionFailed(format!("invalid address: {e}")))?;
        check_address(&self.policy, &config)?;
        let client = self
            .pools
            .pool(address, config)?
            .get()
            .await
            .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
        Ok(PostgresConnection {
            client: Arc::new(client),
        })
    }
}

/// A pooled connection, lent to one guest resource; it goes back to its pool when the
/// guest drops the resource (or its store ends).
#[derive(Clone)]
pub struct PostgresConnection {
    client: Arc<deadpool_postgres::Object>,
}

impl PostgresConnection {
    /// Runs `statement` with `params` and returns its rows, typed by their columns.
    pub async fn query(&self, statement: &str, params: &[ParameterValue]) -> Result<RowSet, Error> {
        let (statement, params) = self.prepare(statement, params).await?;
        let columns = statement
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_owned(),
                data_type: data_type(c.type_()),
            })
            .collect();
        let mut stream = pin!(
            self.client
                .query_raw(&statement, params)
                .await
                .map_err(query_failed)?
        );
        let mut rows = Vec::new();
        let mut size = 0;
        while let Some(row) = stream.try_next().await.map_err(query_failed)? {
            size += row_size(&row);
            if size > MAX_RESULT_BYTES {
                return Err(Error::QueryFailed(QueryError::Text(format!(
                    "the result holds more than the {} MiB the host buffers",
                    MAX_RESULT_BYTES >> 20
                ))));
            }
            rows.push(row_values(&row)?);
        }
        Ok(RowSet { columns, rows })
    }

    /// Runs `statement` with `params` and returns how many rows it affected.
    pub async fn execute(&self, statement: &str, params: &[ParameterValue]) -> Result<u64, Error> {
        let (statement, params) = self.prepare(statement, params).await?;
        self.client
            .execute_raw(&statement, params)
            .await
            .map_err(query_failed)
    }

    /// Prepares `statement` and converts `params` to the types it expects.
    async fn prepare(
        &self,
        statement: &str,
        params: &[ParameterValue],
    ) -> Result<(Statement, Vec<SqlParameter>), Error> {
        let statement = self.client.prepare(statement).await.map_err(query_failed)?;
        let types = statement.params();
        if types.len() != params.len() {
            return Err(Error::BadParameter(format!(
                "the statement takes {} parameters, not {}",
                types.len(),
                params.len()
            )));
        }
        let params = params
            .iter()
            .zip(types)
            .enumerate()
            .map(|(i, (value, ty))| to_sql(i + 1, value, ty))
            .collect::<Result<_, _>>()?;
        Ok((statement, params))
    }
}

/// The error of a failed statement: PostgreSQL's own, field by field, when it sent one.
fn query_failed(e: tokio_postgres::Error) -> Error {
    let Some(db) = e.as_db_error() else {
        return Error::QueryFailed(QueryError::Text(e.to_string()));
    };
    let extras = [
        ("column", db.column()),
        ("constraint", db.constraint()),
        ("routine", db.routine()),
        ("hint", db.hint()),
        ("table", db.table()),
        ("datatype", db.datatype()),
        ("schema", db.schema()),
        ("file", db.file()),
        ("where_", db.where_()),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_owned(), value?.to_owned())))
    .chain(db.line().map(|line| ("line".to_owned(), line.to_string())))
    .collect();
    Error::QueryFailed(QueryError::DbError(DbError {
        as_text: e.to_string(),
        severity: db.severity().to_owned(),
        code: db.code().code().to_owned(),
        message: db.message().to_owned(),
        detail: db.detail().map(str::to_owned),
        extras,
    }))
}

/// A parameter converted for `tokio-postgres`.
type SqlParameter = Box<dyn ToSql + Send + Sync>;

/// Converts parameter `n` (1-based) to a value of the type `ty` the statement expects.
fn to_sql(n: usize, value: &ParameterValue, ty: &Type) -> Result<SqlParameter, Error> {
    use ParameterValue as P;
    let bad = |what: String| Error::BadParameter(format!("parameter ${n}: {what}"));
    let unsupported = |kind: &str| bad(format!("{kind} is not supported by postloan-host"));
    let (kind, (accepted, parameter)) = match value {
        P::Boolean(v) => ("boolean", typed(*v, ty)),
        P::Int8(v) => ("int8", typed(*v, ty)),
        P::Int16(v) => ("int16", typed(*v, ty)),
        P::Int32(v) => ("int32", typed(*v, ty)),
        P::Int64(v) => ("int64", typed(*v, ty)),
        P::Floating32(v) => ("floating32", typed(*v, ty)),
        P::Floating64(v) => ("floating64", typed(*v, ty)),
        P::Str(v) => ("str", typed(v.clone(), ty)),
        P::Binary(v) => ("binary", typed(v.clone(), ty)),
        P::Date((y, m, d)) => {
            let date = NaiveDate::from_ymd_opt(*y, (*m).into(), (*d).into())
                .ok_or_else(|| bad(format!("invalid date {y}-{m}-{d}")))?;
            ("date", typed(date, ty))
        }
        P::Time(t) => {
            let time = time(*t).ok_or_else(|| bad(format!("invalid time {t:?}")))?;
            ("time", typed(time, ty))
        }
        P::Datetime((y, mo, d, h, mi, s, ns)) => {
            let datetime = NaiveDate::from_ymd_opt(*y, (*mo).into(), (*d).into())
                .zip(time((*h, *mi, *s, *ns)))
                .map(|(date, time)| NaiveDateTime::new(date, time))
                .ok_or_else(|| bad(format!("invalid datetime {y}-{mo}-{d} {h}:{mi}:{s}.{ns}")))?;
            ("datetime", typed(datetime, ty))
        }
        P::Timestamp(seconds) => {
            let timestamp = DateTime::<Utc>::from_timestamp(*seconds, 0)
                .ok_or_else(|| bad(format!("invalid timestamp {seconds}")))?;
            ("timestamp", typed(timestamp, ty))
        }
        P::Uuid(v) => {
            let uuid =
                uuid::Uuid::parse_str(v).map_err(|e| bad(format!("invalid uuid `{v}`: {e}")))?;
            ("uuid", typed(uuid, ty))
        }
        P::Jsonb(v) => {
            let json: serde_json::Value =
                serde_json::from_slice(v).map_err(|e| bad(format!("invalid JSON: {e}")))?;
            ("jsonb", typed(json, ty))
        }
        P::Decimal(v) if is_decimal(v) => ("decimal", typed(NumericText(v.clone()), ty)),
        P::Decimal(v) => return Err(bad(format!("invalid decimal `{v}`"))),
        P::ArrayInt32(v) => ("array-int32", typed(v.clone(), ty)),
        P::ArrayInt64(v) => ("array-int64", typed(v.clone(), ty)),
        P::ArrayStr(v) => ("array-str", typed(v.clone(), ty)),
        P::DbNull => ("db-null", typed(Null, ty)),
        P::RangeInt32(_) => return Err(unsupported("range-int32")),
        P::RangeInt64(_) => return Err(unsupported("range-int64")),
        P::RangeDecimal(_) => return Err(unsupported("range-decimal")),
        P::ArrayDecimal(_) => return Err(unsupported("array-decimal")),
        P::Interval(_) => return Err(unsupported("interval")),
    };
    if accepted {
        Ok(parameter)
    } else {
        Err(bad(format!(
            "a {kind} cannot be sent as PostgreSQL type {ty}"
        )))
    }
}

/// `value` as a parameter, and whether it can be sent as PostgreSQL type `ty`.
fn typed<T: ToSql + Send + Sync + 'static>(value: T, ty: &Type) -> (bool, SqlParameter) {
    (T::accepts(ty), Box::new(value))
}

/// The time of a WIT `(hour, minute, second, nanosecond)`, if it is one.
fn time((h, m, s, ns): (u8, u8, u8, u32)) -> Option<NaiveTime> {
    NaiveTime::from_hms_nano_opt(h.into(), m.into(), s.into(), ns)
}

/// Whether `text` is a decimal PostgreSQL reads exactly as a NUMERIC: `[+-]digits[.digits]`
/// (or only `.digits`), or one of `NaN`, `Infinity`, `-Infinity`.
fn is_decimal(text: &str) -> bool {
    if matches!(text, "NaN" | "Infinity" | "-Infinity") {
        return true;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction)
}

/// A decimal sent as NUMERIC in PostgreSQL's text format, so any precision arrives exactly.
#[derive(Debug)]
struct NumericText(String);

impl ToSql for NumericText {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    fn encode_format(&self, _: &Type) -> tokio_postgres::types::Format {
        tokio_postgres::types::Format::Text
    }

    to_sql_checked!();
}

/// SQL `NULL`, of whatever type the statement expects.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The WIT type of a column of PostgreSQL type `ty`; [`row_values`] converts its values.
fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSON | Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

/// The values of `row`, each converted by its column's type as [`data_type`] names it;
/// a value of any other type is `unsupported`, with its bytes as PostgreSQL sent them.
fn row_values(row: &Row) -> Result<Vec<DbValue>, Error> {
    (0..row.len()).map(|i| value(row, i)).collect()
}

/// Value `i` of `row`.
fn value(row: &Row, i: usize) -> Result<DbValue, Error> {
    /// Reads value `i` as a `T`, wrapped by `wrap`; `NULL` is `db-null`.
    fn get<'a, T: FromSql<'a>>(
        row: &'a Row,
        i: usize,
        wrap: impl FnOnce(T) -> DbValue,
    ) -> Result<DbValue, tokio_postgres::Error> {
        Ok(row
            .try_get::<_, Option<T>>(i)?
            .map_or(DbValue::DbNull, wrap))
    }
    let column = &row.columns()[i];
    let value = match *column.type_() {
        Type::BOOL => get(row, i, DbValue::Boolean),
        Type::INT2 => get(row, i, DbValue::Int16),
        Type::INT4 => get(row, i, DbValue::Int32),
        Type::INT8 => get(row, i, DbValue::Int64),
        Type::FLOAT4 => get(row, i, DbValue::Floating32),
        Type::FLOAT8 => get(row, i, DbValue::Floating64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => get(row, i, DbValue::Str),
        Type::BYTEA => get(row, i, DbValue::Binary),
        Type::DATE => get(row, i, |d: NaiveDate| DbValue::Date(wit_date(d))),
        Type::TIME => get(row, i, |t: NaiveTime| DbValue::Time(wit_time(t))),
        Type::TIMESTAMP => get(row, i, |t: NaiveDateTime| {
            DbValue::Datetime(wit_datetime(t))
        }),
        Type::TIMESTAMPTZ => get(row, i, |t: DateTime<Utc>| {
            DbValue::Datetime(wit_datetime(t.naive_utc()))
        }),
        Type::UUID => get(row, i, |u: uuid::Uuid| DbValue::Uuid(u.to_string())),
        Type::JSON | Type::JSONB => get(row, i, |j: JsonText| DbValue::Jsonb(j.0)),
        Type::NUMERIC => get(row, i, |n: Numeric| DbValue::Decimal(n.0)),
        Type::INT4_ARRAY => get(row, i, DbValue::ArrayInt32),
        Type::INT8_ARRAY => get(row, i, DbValue::ArrayInt64),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get(row, i, DbValue::ArrayStr)
        }
        _ => get(row, i, |raw: Raw| DbValue::Unsupported(raw.0.to_vec())),
    };
    value.map_err(|e| {
        let cause = e
            .source()
            .map_or_else(|| e.to_string(), ToString::to_string);
        Error::ValueConversionFailed(format!(
            "column `{}` ({}): {cause}",
            column.name(),
            column.type_()
        ))
    })
}

/// How many bytes PostgreSQL sent for `row`'s values.
fn row_size(row: &Row) -> usize {
    (0..row.len())
        .filter_map(|i| row.try_get::<_, Option<Raw>>(i).ok().flatten())
        .map(|raw| raw.0.len())
        .sum()
}

/// A WIT `(year, month, day)`.
fn wit_date(d: NaiveDate) -> (i32, u8, u8) {
    // chrono's months and days are 1..=12 and 1..=31.
    (d.year(), d.month() as u8, d.day() as u8)
}

/// A WIT `(hour, minute, second, nanosecond)`.
fn wit_time(t: NaiveTime) -> (u8, u8, u8, u32) {
    // chrono's hours, minutes and seconds are below 60.
    (
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    )
}

/// A WIT `(year, month, day, hour, minute, second, nanosecond)`.
fn wit_datetime(t: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let ((y, mo, d), (h, mi, s, ns)) = (wit_date(t.date()), wit_time(t.time()));
    (y, mo, d, h, mi, s, ns)
}

/// A value as PostgreSQL sent it, in its binary format.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A JSON or JSONB value as JSON text, the way PostgreSQL wrote it.
struct JsonText(Vec<u8>);

impl FromSql<'_> for JsonText {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        if *ty == Type::JSON {
            return Ok(Self(raw.to_vec()));
        }
        // JSONB's binary format is a version byte, 1, and the text.
        match raw.split_first() {
            Some((1, text)) => Ok(Self(text.to_vec())),
            _ => Err("unknown JSONB format version".into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }
}

/// A NUMERIC value as exact decimal text, the way PostgreSQL prints it.
struct Numeric(String);

impl FromSql<'_> for Numeric {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        numeric_text(raw).map(Self).map_err(Into::into)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// The decimal text of a NUMERIC in PostgreSQL's binary format: a header of four 16-bit
/// words (digit count, weight of the first digit, sign, digits after the point) and the
/// digits, base 10000, the first one worth `10000^weight`.
fn numeric_text(raw: &[u8]) -> Result<String, &'static str> {
    const TRUNCATED: &str = "truncated NUMERIC value";
    let word = |i: usize| {
        raw.get(2 * i..2 * i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(TRUNCATED)
    };
    let (count, weight, sign, scale) = (word(0)?, word(1)? as i16, word(2)?, word(3)?);
    let mut text = match sign {
        0x0000 => String::new(),
        0x4000 => "-".to_owned(),
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => return Err("unknown NUMERIC sign"),
    };
    let digits = (0..usize::from(count))
        .map(|i| word(4 + i))
        .collect::<Result<Vec<_>, _>>()?;
    if digits.iter().any(|&d| d > 9999) {
        return Err("NUMERIC digit out of range");
    }
    // The digit worth 10000^power.
    let digit = |power: i32| {
        usize::try_from(i32::from(weight) - power)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    if weight < 0 {
        text.push('0');
    } else {
        text += &digit(weight.into()).to_string();
        for power in (0..i32::from(weight)).rev() {
            text += &format!("{:04}", digit(power));
        }
    }
    if scale > 0 {
        let mut fraction = String::new();
        let mut power = -1;
        while fraction.len() < usize::from(scale) {
            fraction += &format!("{:04}", digit(power));
            power -= 1;
        }
        fraction.truncate(scale.into());
        text.push('.');
        text += &fraction;
    }
    Ok(text)
}

/// The adapter between [`PostgresAccess`] and the generated `spin:postgres/postgres` traits.
pub mod binding {
    use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

    use super::{PostgresAccess, PostgresConnection};
    use crate::bindings::services::spin::postgres::postgres::{
        self, Error, HostConnection, ParameterValue, RowSet,
    };

    /// What a store lends the PostgreSQL binding for one call.
    pub struct PostgresView<'a> {
        /// The component's outbound PostgreSQL.
        pub access: &'a PostgresAccess,
        /// Where open connections live.
        pub table: &'a mut ResourceTable,
    }

    struct Binding;

    impl HasData for Binding {
        type Data<'a> = PostgresView<'a>;
    }

    /// Adds `spin:postgres/postgres@4.0.0` to `linker`.
    pub fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> PostgresView<'_>,
    ) -> wasmtime::Result<()> {
        postgres::add_to_linker::<T, Binding>(linker, view)
    }

    impl postgres::Host for PostgresView<'_> {}

    type Handle = Resource<PostgresConnection>;
    type Outcome<T> = wasmtime::Result<Result<T, Error>>;

    impl HostConnection for PostgresView<'_> {
        async fn open(&mut self, address: String) -> Outcome<Handle> {
            match self.access.open(&address).await {
                Ok(connection) => Ok(Ok(self.table.push(connection)?)),
                Err(e) => Ok(Err(e)),
            }
        }

        async fn query(
            &mut self,
            c: Handle,
            statement: String,
            params: Vec<ParameterValue>,
        ) -> Outcome<RowSet> {
            let connection = self.table.get(&c)?.clone();
            Ok(connection.query(&statement, &params).await)
        }

        async fn execute(
            &mut self,
            c: Handle,
            statement: String,
            params: Vec<ParameterValue>,
        ) -> Outcome<u64> {
            let connection = self.table.get(&c)?.clone();
            Ok(connection.execute(&statement, &params).await)
        }

        async fn drop(&mut self, c: Handle) -> wasmtime::Result<()> {
            self.table.delete(c)?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A NUMERIC in the binary format: header words, then digits.
    fn numeric(words: &[u16]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn numerics_print_exactly() {
        // 12345678901234567.89 = 1|2345|6789|0123|4567 . 8900, weight 4, scale 2.
        let big = numeric(&[6, 4, 0, 2, 1, 2345, 6789, 123, 4567, 8900]);
        assert_eq!(numeric_text(&big).unwrap(), "12345678901234567.89");
        assert_eq!(numeric_text(&numeric(&[0, 0, 0, 0])).unwrap(), "0");
        // 0.001: one digit 10 worth 10000^-1, scale 3.
        assert_eq!(
            numeric_text(&numeric(&[1, 0xFFFF, 0, 3, 10])).unwrap(),
            "0.001"
        );
        // -50000: digit 5 worth 10000^1, no trailing digit stored.
        assert_eq!(
            numeric_text(&numeric(&[1, 1, 0x4000, 0, 5])).unwrap(),
            "-50000"
        );
        // 1.50 keeps its scale.
        assert_eq!(
            numeric_text(&numeric(&[2, 0, 0, 2, 1, 5000])).unwrap(),
            "1.50"
        );
        assert_eq!(numeric_text(&numeric(&[0, 0, 0xC000, 0])).unwrap(), "NaN");
        assert!(numeric_text(&numeric(&[2, 0, 0, 0, 1])).is_err());
        assert!(numeric_text(&numeric(&[1, 0, 0, 0, 10000])).is_err());
    }

    #[test]
    fn only_plain_decimals_are_sent() {
        for ok in [
            "0",
            "-12.5",
            "+3",
            ".5",
            "7.",
            "12345678901234567.89",
            "NaN",
        ] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", ".", "-", "1e5", "12,5", "1.2.3", "abc", " 1"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    fn refusal(policy: &[&str], address: &str) -> Option<String> {
        let policy = OutboundPolicy::new(&policy.iter().map(|p| p.to_string()).collect::<Vec<_>>());
        match check_address(&policy, &address.parse().unwrap()) {
            Ok(()) => None,
            Err(Error::ConnectionFailed(message)) => Some(message),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn addresses_are_checked_like_spin() {
        let allowed = ["postgres://db.internal:5432"];
        assert_eq!(refusal(&allowed, "postgres://u@db.internal/loans"), None);
        assert_eq!(refusal(&allowed, "host=db.internal user=u"), None);
        assert_eq!(
            refusal(&allowed, "postgres://u@db.internal:6543/loans").as_deref(),
            Some("address postgres://db.internal:6543 is not permitted")
        );
        // A hostaddr is where the connection goes, whatever the host name says.
        assert_eq!(
            refusal(&allowed, "host=db.internal hostaddr=10.0.0.9 user=u").as_deref(),
            Some("address postgres://10.0.0.9:5432 is not permitted")
        );
        // The one port given is every host's.
        assert_eq!(
            refusal(&allowed, "host=db.internal,other port=5432").as_deref(),
            Some("address postgres://other:5432 is not permitted")
        );
        assert!(refusal(&allowed, "host=/run/postgresql user=u").is_some());
        assert!(
            refusal(&allowed, "postgres://u@db.internal/loans?sslmode=require")
                .is_some_and(|m| m.contains("sslmode=require"))
        );
    }
}
