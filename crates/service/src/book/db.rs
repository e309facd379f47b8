//! The loan book's SQLite database through Spin's interface (the `default` database):
//! statements with positional parameters, rows read by column name, and a transaction for
//! every change of more than one row.

use spin_sdk::sqlite::{Connection, QueryResult, Row, Value};

use crate::problem::Problem;

/// A parameter of a statement.
pub type Param = Value;

/// Text parameter.
pub fn text(value: impl Into<String>) -> Param {
    Value::Text(value.into())
}

/// Integer parameter.
pub fn int(value: impl Into<i64>) -> Param {
    Value::Integer(value.into())
}

/// Text or `NULL`.
pub fn optional(value: Option<impl Into<String>>) -> Param {
    value.map_or(Value::Null, text)
}

/// An open connection to the loan book, its schema up to date.
pub struct Db {
    connection: Connection,
}

impl Db {
    /// Opens the `default` database and applies the migrations it has not seen.
    pub fn open() -> Result<Self, Problem> {
        let connection = Connection::open_default().map_err(|e| {
            Problem::internal(format!("cannot open the `default` SQLite database: {e}"))
        })?;
        let db = Self { connection };
        super::schema::migrate(&db)?;
        Ok(db)
    }

    /// Runs one statement.
    pub fn run(&self, sql: &str, params: &[Param]) -> Result<QueryResult, Problem> {
        self.connection
            .execute(sql, params)
            .map_err(|e| Problem::internal(format!("SQLite: {e} in `{}`", first_line(sql))))
    }

    /// Runs a query and maps each row.
    pub fn rows<T>(
        &self,
        sql: &str,
        params: &[Param],
        map: impl Fn(&Row<'_>) -> T,
    ) -> Result<Vec<T>, Problem> {
        Ok(self.run(sql, params)?.rows().map(|row| map(&row)).collect())
    }

    /// The first row of a query, mapped.
    pub fn row<T>(
        &self,
        sql: &str,
        params: &[Param],
        map: impl Fn(&Row<'_>) -> T,
    ) -> Result<Option<T>, Problem> {
        Ok(self.run(sql, params)?.rows().next().map(|row| map(&row)))
    }

    /// Runs `change` in one transaction: all of it is stored, or none of it. `BEGIN
    /// IMMEDIATE` takes the write lock first, so two writers never interleave.
    pub fn transaction<T>(
        &self,
        change: impl FnOnce(&Self) -> Result<T, Problem>,
    ) -> Result<T, Problem> {
        self.run("BEGIN IMMEDIATE", &[])?;
        match change(self) {
            Ok(value) => {
                self.run("COMMIT", &[])?;
                Ok(value)
            }
            Err(problem) => {
                // The problem is what the caller needs; a failed rollback ends with the
                // connection, which rolls back too.
                let _ = self.run("ROLLBACK", &[]);
                Err(problem)
            }
        }
    }
}

/// Text of a column, empty when `NULL`.
pub fn get_text(row: &Row<'_>, column: &str) -> String {
    row.get::<&str>(column).unwrap_or_default().to_owned()
}

/// Text of a column that may be `NULL`.
pub fn get_optional(row: &Row<'_>, column: &str) -> Option<String> {
    row.get::<&str>(column).map(str::to_owned)
}

/// Integer of a column, zero when `NULL`.
pub fn get_int(row: &Row<'_>, column: &str) -> i64 {
    row.get::<i64>(column).unwrap_or_default()
}

fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or_default()
}
