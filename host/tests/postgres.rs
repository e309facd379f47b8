//! `spin:postgres/postgres@4.0.0` against the machine's PostgreSQL (127.0.0.1:5432, trust
//! auth, user `postgres`), through the WIT trait a guest's calls arrive at. Each test makes
//! a database of its own and drops it after; without a reachable server the tests fail.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use postloan_host::bindings::services::spin::postgres::postgres::{
    Column, DbDataType, DbError, DbValue, Error, HostConnection, ParameterValue, QueryError, RowSet,
};
use postloan_host::outbound::OutboundPolicy;
use postloan_host::postgres::binding::PostgresView;
use postloan_host::postgres::{PostgresAccess, PostgresConnection, PostgresPools};
use tokio_postgres::NoTls;
use wasmtime::component::{Resource, ResourceTable};

/// The server's maintenance database, through which test databases are made and dropped.
const ADMIN: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";

/// A database of one test, dropped (with its connections) when the test ends.
struct TestDatabase {
    name: String,
}

impl TestDatabase {
    /// Creates a database named after this process and a counter.
    async fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "postloan_host_pg_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin(&format!("CREATE DATABASE {name}")).await;
        Self { name }
    }

    /// Its address, as a guest would write it.
    fn address(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on a future: another
        // thread with a runtime of its own drops the database.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database")
                .block_on(admin(&sql));
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("could not drop database {}", self.name);
        }
    }
}

/// Runs `sql` on the maintenance database.
async fn admin(sql: &str) {
    let (client, connection) = tokio_postgres::connect(ADMIN, NoTls).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at 127.0.0.1:5432 as user postgres ({e}); these tests need it")
    });
    let task = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = task.await;
}

/// A component's PostgreSQL as a store holds it: its access and its resource table.
struct Guest {
    access: PostgresAccess,
    table: ResourceTable,
}

/// A connection as the guest holds it.
type Handle = Resource<PostgresConnection>;

impl Guest {
    /// A component allowed to reach `allowed`, over its own pools.
    fn new(allowed: &[&str]) -> Self {
        Self::sharing(allowed, Arc::new(PostgresPools::default()))
    }

    /// A component allowed to reach `allowed`, over `pools`.
    fn sharing(allowed: &[&str], pools: Arc<PostgresPools>) -> Self {
        let allowed: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
        Self {
            access: PostgresAccess::new(OutboundPolicy::new(&allowed), pools),
            table: ResourceTable::new(),
        }
    }

    /// What the store lends the binding for one call.
    fn view(&mut self) -> PostgresView<'_> {
        PostgresView {
            access: &self.access,
            table: &mut self.table,
        }
    }

    /// `connection.open(address)`.
    async fn open(&mut self, address: &str) -> Result<Handle, Error> {
        self.view().open(address.to_owned()).await.expect("no trap")
    }

    /// `c.query(sql, params)`.
    async fn query(
        &mut self,
        c: &Handle,
        sql: &str,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let c = Resource::new_borrow(c.rep());
        self.view()
            .query(c, sql.into(), params)
            .await
            .expect("no trap")
    }

    /// `c.execute(sql, params)`.
    async fn execute(
        &mut self,
        c: &Handle,
        sql: &str,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let c = Resource::new_borrow(c.rep());
        self.view()
            .execute(c, sql.into(), params)
            .await
            .expect("no trap")
    }

    /// Drops `c`, as the guest does.
    async fn close(&mut self, c: Handle) {
        self.view().drop(c).await.expect("no trap");
    }
}

/// `allowed_outbound_hosts` granting the test server.
const LOCAL: &[&str] = &["postgres://127.0.0.1:5432"];

/// A column of the expected results.
fn column(name: &str, data_type: DbDataType) -> Column {
    Column {
        name: name.into(),
        data_type,
    }
}

#[tokio::test]
async fn values_round_trip_exactly() {
    let db = TestDatabase::new().await;
    let mut guest = Guest::new(LOCAL);
    let c = guest.open(&db.address()).await.unwrap();
    guest
        .execute(
            &c,
            "CREATE TABLE loans (id int8 PRIMARY KEY, principal numeric(20, 2), due date, note text)",
            vec![],
        )
        .await
        .unwrap();
    let inserted = guest
        .execute(
            &c,
            "INSERT INTO loans VALUES ($1, $2, $3, $4)",
            vec![
                ParameterValue::Int64(9_007_199_254_740_993),
                ParameterValue::Decimal("12345678901234567.89".into()),
                ParameterValue::Date((2026, 3, 13)),
                ParameterValue::DbNull,
            ],
        )
        .await;
    assert_eq!(inserted, Ok(1));
    let rows = guest
        .query(&c, "SELECT id, principal, due, note FROM loans", vec![])
        .await
        .unwrap();
    assert_eq!(
        rows.columns,
        [
            column("id", DbDataType::Int64),
            column("principal", DbDataType::Decimal),
            column("due", DbDataType::Date),
            column("note", DbDataType::Str),
        ]
    );
    assert_eq!(
        rows.rows,
        [vec![
            DbValue::Int64(9_007_199_254_740_993),
            DbValue::Decimal("12345678901234567.89".into()),
            DbValue::Date((2026, 3, 13)),
            DbValue::DbNull,
        ]]
    );
    // The sum is PostgreSQL's, exact past what an f64 or a 64-bit integer holds.
    let sum = guest
        .query(
            &c,
            "SELECT principal + $1 AS total FROM loans WHERE due = $2",
            vec![
                ParameterValue::Decimal("0.11".into()),
                ParameterValue::Date((2026, 3, 13)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        sum.rows,
        [vec![DbValue::Decimal("12345678901234568.00".into())]]
    );
    // The columns are known when no row is.
    let none = guest
        .query(&c, "SELECT id FROM loans WHERE false", vec![])
        .await
        .unwrap();
    assert_eq!(none.columns, [column("id", DbDataType::Int64)]);
    assert!(none.rows.is_empty());
    guest.close(c).await;
}

#[tokio::test]
async fn each_column_type_has_its_value() {
    let db = TestDatabase::new().await;
    let mut guest = Guest::new(LOCAL);
    let c = guest.open(&db.address()).await.unwrap();
    let rows = guest
        .query(
            &c,
            "SELECT true AS b, (-7)::int2 AS i2, 123456::int4 AS i4, 1.5::float4 AS f4, \
             (-0.25)::float8 AS f8, 'x'::char(3) AS padded, 'v'::varchar AS v, \
             current_user AS who, '\\x00ff07'::bytea AS bytes, '23:59:58.123456'::time AS t, \
             '2026-03-13 08:30:05.25'::timestamp AS ts, \
             '2026-03-13 08:30:05+02'::timestamptz AS tstz, \
             '67e55044-10b1-426f-9247-bb680e5fe0c8'::uuid AS id, \
             '{\"b\":1,\"a\":[true]}'::jsonb AS jb, '{\"b\":1}'::json AS j, \
             0.001::numeric AS small, (-50000)::numeric AS negative, \
             ARRAY[1, NULL]::int8[] AS longs, ARRAY['a', NULL] AS strs, \
             '1 day'::interval AS other",
            vec![],
        )
        .await
        .unwrap();
    let types: Vec<DbDataType> = rows.columns.into_iter().map(|c| c.data_type).collect();
    assert_eq!(
        types,
        [
            DbDataType::Boolean,
            DbDataType::Int16,
            DbDataType::Int32,
            DbDataType::Floating32,
            DbDataType::Floating64,
            DbDataType::Str,
            DbDataType::Str,
            DbDataType::Str,
            DbDataType::Binary,
            DbDataType::Time,
            DbDataType::Datetime,
            DbDataType::Datetime,
            DbDataType::Uuid,
            DbDataType::Jsonb,
            DbDataType::Jsonb,
            DbDataType::Decimal,
            DbDataType::Decimal,
            DbDataType::ArrayInt64,
            DbDataType::ArrayStr,
            DbDataType::Other("interval".into()),
        ]
    );
    assert_eq!(
        rows.rows,
        [vec![
            DbValue::Boolean(true),
            DbValue::Int16(-7),
            DbValue::Int32(123_456),
            DbValue::Floating32(1.5),
            DbValue::Floating64(-0.25),
            DbValue::Str("x  ".into()),
            DbValue::Str("v".into()),
            DbValue::Str("postgres".into()),
            DbValue::Binary(vec![0, 255, 7]),
            DbValue::Time((23, 59, 58, 123_456_000)),
            DbValue::Datetime((2026, 3, 13, 8, 30, 5, 250_000_000)),
            // +02 is two hours ahead of UTC.
            DbValue::Datetime((2026, 3, 13, 6, 30, 5, 0)),
            DbValue::Uuid("67e55044-10b1-426f-9247-bb680e5fe0c8".into()),
            // JSONB keeps keys sorted (by length, then bytes) and prints them spaced.
            DbValue::Jsonb(br#"{"a": [true], "b": 1}"#.to_vec()),
            // JSON keeps the text as written.
            DbValue::Jsonb(br#"{"b":1}"#.to_vec()),
            DbValue::Decimal("0.001".into()),
            DbValue::Decimal("-50000".into()),
            DbValue::ArrayInt64(vec![Some(1), None]),
            DbValue::ArrayStr(vec![Some("a".into()), None]),
            // An interval in the binary format: 0 microseconds, 1 day, 0 months.
            DbValue::Unsupported(vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
        ]]
    );
}

#[tokio::test]
async fn parameters_of_each_type_arrive() {
    let db = TestDatabase::new().await;
    let mut guest = Guest::new(LOCAL);
    let c = guest.open(&db.address()).await.unwrap();
    let rows = guest
        .query(
            &c,
            "SELECT $1::bool, $2::int2, $3::int4, $4::float4, $5::float8, $6::text, $7::bytea, \
             $8::time, $9::timestamp, $10::timestamptz, $11::uuid, $12::jsonb, $13::int4[], \
             $14::text[], $15::int8",
            vec![
                ParameterValue::Boolean(false),
                ParameterValue::Int16(i16::MIN),
                ParameterValue::Int32(-1),
                ParameterValue::Floating32(0.5),
                ParameterValue::Floating64(1e300),
                ParameterValue::Str("Zoë".into()),
                ParameterValue::Binary(vec![1, 2]),
                ParameterValue::Time((8, 0, 1, 500)),
                ParameterValue::Datetime((2026, 12, 31, 23, 59, 59, 0)),
                // 2026-03-13 08:30:05 UTC: 20525 days (56 years of 365 days, 14 of them
                // leap years, then 31 + 28 + 12 days) of 86400 s, and 30605 s.
                ParameterValue::Timestamp(1_773_390_605),
                ParameterValue::Uuid("67E55044-10B1-426F-9247-BB680E5FE0C8".into()),
                ParameterValue::Jsonb(br#"{"x": null}"#.to_vec()),
                ParameterValue::ArrayInt32(vec![None, Some(3)]),
                ParameterValue::ArrayStr(vec![Some("q".into())]),
                ParameterValue::DbNull,
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        rows.rows,
        [vec![
            DbValue::Boolean(false),
            DbValue::Int16(i16::MIN),
            DbValue::Int32(-1),
            DbValue::Floating32(0.5),
            DbValue::Floating64(1e300),
            DbValue::Str("Zoë".into()),
            DbValue::Binary(vec![1, 2]),
            // PostgreSQL keeps microseconds: 500 ns is lost.
            DbValue::Time((8, 0, 1, 0)),
            DbValue::Datetime((2026, 12, 31, 23, 59, 59, 0)),
            DbValue::Datetime((2026, 3, 13, 8, 30, 5, 0)),
            DbValue::Uuid("67e55044-10b1-426f-9247-bb680e5fe0c8".into()),
            DbValue::Jsonb(br#"{"x": null}"#.to_vec()),
            DbValue::ArrayInt32(vec![None, Some(3)]),
            DbValue::ArrayStr(vec![Some("q".into())]),
            DbValue::DbNull,
        ]]
    );
}

#[tokio::test]
async fn execute_counts_the_rows_affected() {
    let db = TestDatabase::new().await;
    let mut guest = Guest::new(LOCAL);
    let c = guest.open(&db.address()).await.unwrap();
    guest
        .execute(
            &c,
            "CREATE TABLE t (id int4 PRIMARY KEY, paid bool)",
            vec![],
        )
        .await
        .unwrap();
    let inserted = guest
        .execute(
            &c,
            "INSERT INTO t SELECT g, false FROM generate_series(1, 5) g",
            vec![],
        )
        .await;
    assert_eq!(inserted, Ok(5));
    let updated = guest
        .execute(
            &c,
            "UPDATE t SET paid = true WHERE id > $1",
            vec![ParameterValue::Int32(3)],
        )
        .await;
    assert_eq!(updated, Ok(2));
    assert_eq!(
        guest
            .execute(&c, "DELETE FROM t WHERE id > 99", vec![])
            .await,
        Ok(0)
    );
}

#[tokio::test]
async fn database_errors_arrive_as_values() {
    let db = TestDatabase::new().await;
    let mut guest = Guest::new(LOCAL);
    let c = guest.open(&db.address()).await.unwrap();
    guest
        .execute(&c, "CREATE TABLE t (id int4 PRIMARY KEY)", vec![])
        .await
        .unwrap();
    guest
        .execute(&c, "INSERT INTO t VALUES (1)", vec![])
        .await
        .unwrap();
    let Err(Error::QueryFailed(QueryError::DbError(DbError {
        severity,
        code,
        message,
        detail,
        extras,
        ..
    }))) = guest.execute(&c, "INSERT INTO t VALUES (1)", vec![]).await
    else {
        panic!("a unique violation is a db-error");
    };
    assert_eq!((severity.as_str(), code.as_str()), ("ERROR", "23505"));
    assert!(message.contains("t_pkey"), "{message}");
    assert_eq!(detail.as_deref(), Some("Key (id)=(1) already exists."));
    assert!(
        extras.contains(&("constraint".into(), "t_pkey".into())),
        "{extras:?}"
    );

    let bad_sql = guest.query(&c, "SELEC 1", vec![]).await;
    assert!(
        matches!(&bad_sql, Err(Error::QueryFailed(QueryError::DbError(e))) if e.code == "42601"),
        "{bad_sql:?}"
    );
    // PostgreSQL's infinite date has no WIT date.
    let infinity = guest
        .query(&c, "SELECT 'infinity'::date AS due", vec![])
        .await;
    assert!(
        matches!(&infinity, Err(Error::ValueConversionFailed(m)) if m.contains("`due`")),
        "{infinity:?}"
    );
    // The connection goes on after an error.
    let one = guest.query(&c, "SELECT 1::int4", vec![]).await.unwrap();
    assert_eq!(one.rows, [vec![DbValue::Int32(1)]]);
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    let db = TestDatabase::new().await;
    let mut guest = Guest::new(LOCAL);
    let c = guest.open(&db.address()).await.unwrap();
    let refusal = async |guest: &mut Guest, sql: &str, param: ParameterValue| match guest
        .query(&c, sql, vec![param])
        .await
    {
        Err(Error::BadParameter(message)) => message,
        other => panic!("{other:?}"),
    };
    let interval = ParameterValue::Interval(
        postloan_host::bindings::services::spin::postgres::postgres::Interval {
            micros: 0,
            days: 1,
            months: 0,
        },
    );
    assert!(
        refusal(&mut guest, "SELECT $1::interval", interval)
            .await
            .contains("interval")
    );
    let comma = refusal(
        &mut guest,
        "SELECT $1::numeric",
        ParameterValue::Decimal("12,5".into()),
    )
    .await;
    assert!(comma.contains("$1") && comma.contains("12,5"), "{comma}");
    let float = refusal(
        &mut guest,
        "SELECT $1::int4",
        ParameterValue::Floating64(1.5),
    )
    .await;
    assert!(
        float.contains("floating64") && float.contains("int4"),
        "{float}"
    );
    let date = refusal(
        &mut guest,
        "SELECT $1::date",
        ParameterValue::Date((2026, 2, 30)),
    )
    .await;
    assert!(date.contains("2026-2-30"), "{date}");
    let missing = guest
        .query(
            &c,
            "SELECT $1::int4, $2::int4",
            vec![ParameterValue::Int32(1)],
        )
        .await;
    assert!(
        matches!(missing, Err(Error::BadParameter(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn addresses_outside_allowed_outbound_hosts_are_refused() {
    let db = TestDatabase::new().await;
    let mut guest = Guest::new(&["postgres://127.0.0.1:6543"]);
    assert_eq!(
        guest.open(&db.address()).await.err(),
        Some(Error::ConnectionFailed(
            "address postgres://127.0.0.1:5432 is not permitted".into()
        ))
    );
    let mut nothing = Guest::new(&[]);
    assert!(matches!(
        nothing.open(&format!("host=127.0.0.1 user=postgres dbname={}", db.name)).await,
        Err(Error::ConnectionFailed(m)) if m.contains("not permitted")
    ));
    let tls = format!("{}?sslmode=require", db.address());
    assert!(matches!(
        Guest::new(LOCAL).open(&tls).await,
        Err(Error::ConnectionFailed(m)) if m.contains("sslmode=require")
    ));
    // Allowed, but nothing listens there.
    let mut closed = Guest::new(&["postgres://127.0.0.1:1"]);
    assert!(matches!(
        closed.open("postgres://postgres@127.0.0.1:1/x").await,
        Err(Error::ConnectionFailed(_))
    ));
}

#[tokio::test]
async fn dropped_connections_are_reused_clean() {
    let db = TestDatabase::new().await;
    let pools = Arc::new(PostgresPools::default());
    let mut first = Guest::sharing(LOCAL, pools.clone());
    let c = first.open(&db.address()).await.unwrap();
    first
        .execute(&c, "CREATE TABLE t (id int4)", vec![])
        .await
        .unwrap();
    let pid = first
        .query(&c, "SELECT pg_backend_pid()", vec![])
        .await
        .unwrap()
        .rows;
    // A guest that stops inside a transaction.
    first.execute(&c, "BEGIN", vec![]).await.unwrap();
    first
        .execute(&c, "INSERT INTO t VALUES (1)", vec![])
        .await
        .unwrap();
    first.close(c).await;

    // Another component of the app gets the same server connection, out of the transaction.
    let mut second = Guest::sharing(LOCAL, pools);
    let c = second.open(&db.address()).await.unwrap();
    let again = second
        .query(&c, "SELECT pg_backend_pid()", vec![])
        .await
        .unwrap()
        .rows;
    assert_eq!(again, pid);
    second
        .execute(&c, "INSERT INTO t VALUES (2)", vec![])
        .await
        .unwrap();
    second.close(c).await;

    let (client, connection) = tokio_postgres::connect(
        &format!("host=127.0.0.1 user=postgres dbname={}", db.name),
        NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let ids: Vec<i32> = client
        .query("SELECT id FROM t", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [2]);
}
