//! The spin-sdk side (wasm32 only): serve a handler, `spin:sqlite` or `spin:postgres` as a
//! [`Db`], variables.

use bytes::Bytes;
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{FullBody, Request};
use spin_sdk::sqlite::Value as SqlValue;
use spin_sdk::sqlite::wit::sqlite as raw;
use tailor_store::{Db, Dialect, Result, Rows, StoreError, Value};

use crate::message::{HttpRequest, HttpResponse};

/// The component's store: PostgreSQL when the variable `database_url` is a `postgres://` URL
/// (DESIGN.md §12), else the default SQLite database (`sqlite_databases = ["default"]`).
pub enum SpinDb {
    Sqlite(SqliteDb),
    Postgres(crate::pg::PgDb),
}

impl SpinDb {
    pub async fn open() -> Result<SpinDb> {
        match variable("database_url").await.filter(|u| !u.trim().is_empty()) {
            Some(url) => crate::pg::PgDb::open(url.trim()).await.map(SpinDb::Postgres),
            None => SqliteDb::open().await.map(SpinDb::Sqlite),
        }
    }
}

impl Db for SpinDb {
    async fn exec(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        match self {
            SpinDb::Sqlite(db) => db.exec(sql, params).await,
            SpinDb::Postgres(db) => db.exec(sql, params).await,
        }
    }
    fn dialect(&self) -> Dialect {
        match self {
            SpinDb::Sqlite(db) => db.dialect(),
            SpinDb::Postgres(db) => db.dialect(),
        }
    }
}

/// The component's default SQLite database.
///
/// Statements use `spin:sqlite`'s plain `execute` (one call, the whole result), except `BEGIN`,
/// which uses `execute-async`: a host may make a transaction wait for another one, and only
/// the async call can wait without blocking the host. Both are part of `spin:sqlite@3.1.0`.
pub struct SqliteDb(raw::Connection);

impl SqliteDb {
    pub async fn open() -> Result<SqliteDb> {
        raw::Connection::open("default").map(SqliteDb).map_err(|e| StoreError::Db(format!("open default: {e:?}")))
    }
}

fn to_sql(v: &Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Integer(i) => SqlValue::Integer(*i),
        Value::Real(f) => SqlValue::Real(*f),
        Value::Text(s) => SqlValue::Text(s.clone()),
        Value::Blob(b) => SqlValue::Blob(b.clone()),
    }
}

fn from_sql(v: SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::Integer(i),
        SqlValue::Real(f) => Value::Real(f),
        SqlValue::Text(s) => Value::Text(s),
        SqlValue::Blob(b) => Value::Blob(b),
    }
}

fn is_begin(sql: &str) -> bool {
    sql.trim_start().get(..5).is_some_and(|w| w.eq_ignore_ascii_case("begin"))
}

impl Db for SqliteDb {
    async fn exec(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        let params: Vec<SqlValue> = params.iter().map(to_sql).collect();
        let err = |e| StoreError::from_text(format!("{e:?}"));
        if is_begin(sql) {
            let (columns, rows, done) = self.0.execute_async(sql.to_owned(), params).await.map_err(err)?;
            let rows = rows.collect().await;
            done.await.map_err(err)?;
            let rows = rows.into_iter().map(|r| r.values.into_iter().map(from_sql).collect()).collect();
            return Ok(Rows { columns, rows });
        }
        let q = self.0.execute(sql, &params).map_err(err)?;
        let rows = q.rows.into_iter().map(|r| r.values.into_iter().map(from_sql).collect()).collect();
        Ok(Rows { columns: q.columns, rows })
    }
}

/// An application variable, if set.
pub async fn variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name).await.ok()
}

/// Reads the whole request, runs `handler`, converts the response.
pub async fn serve<F>(req: Request, handler: F) -> http::Response<FullBody<Bytes>>
where
    F: AsyncFnOnce(HttpRequest) -> HttpResponse,
{
    let (parts, body) = req.into_parts();
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
    let mut request = HttpRequest::new(parts.method.as_str(), &path_and_query);
    for (name, value) in &parts.headers {
        request.headers.push((name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()));
    }
    let response = match body.bytes().await {
        Ok(bytes) => {
            request.body = bytes.to_vec();
            handler(request).await
        }
        Err(e) => HttpResponse::error(400, "bad_body", format!("the request body could not be read: {e:?}"), vec![]),
    };
    let mut builder = http::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(length) = response.content_length(parts.method.as_str()) {
        // The whole body is here: its length lets the host send it without chunked encoding
        // (head and body in one write, no closing chunk after).
        builder = builder.header(http::header::CONTENT_LENGTH, length);
    }
    builder.body(FullBody::new(Bytes::from(response.body))).unwrap_or_else(|_| {
        let mut r = http::Response::new(FullBody::new(Bytes::from_static(b"{\"error\":{\"code\":\"internal\"}}")));
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
