//! `spin:postgres` as a [`Db`] (wasm32 only): the store's `?` placeholders numbered, its values
//! as the parameter types Spin's host binds (64-bit integers, text, float, bytes), and
//! PostgreSQL's serialization failures reported as [`StoreError::Retry`] so that
//! [`tailor_store::in_tx`] runs the transaction again.

use spin_sdk::pg::{Connection, DbValue, Error as SdkError, ParameterValue, PgError, QueryError};
use tailor_store::{Db, Dialect, Result, Rows, StoreError, Value};

pub struct PgDb(Connection);

impl PgDb {
    pub async fn open(url: &str) -> Result<PgDb> {
        Connection::open(url)
            .await
            .map(PgDb)
            .map_err(|e| StoreError::Db(format!("connecting to PostgreSQL: {}", text(&e))))
    }
}

fn text(e: &SdkError) -> String {
    match e {
        SdkError::PgError(p) => pg_text(p),
        SdkError::Decode(d) => d.clone(),
    }
}

fn pg_text(e: &PgError) -> String {
    match e {
        PgError::ConnectionFailed(s)
        | PgError::BadParameter(s)
        | PgError::ValueConversionFailed(s)
        | PgError::Other(s) => s.clone(),
        PgError::QueryFailed(QueryError::Text(s)) => s.clone(),
        PgError::QueryFailed(QueryError::DbError(d)) => match &d.detail {
            Some(detail) => format!("{} ({detail})", d.message),
            None => d.message.clone(),
        },
    }
}

fn error(sql: &str, e: &SdkError) -> StoreError {
    let conflict = matches!(
        e,
        SdkError::PgError(PgError::QueryFailed(QueryError::DbError(d))) if d.code == "40001" || d.code == "40P01"
    );
    let full = matches!(e, SdkError::PgError(PgError::QueryFailed(QueryError::DbError(d))) if d.code == "53100");
    let text = format!("{sql}: {}", text(e));
    if conflict {
        StoreError::Retry(text)
    } else if full {
        StoreError::Full(text)
    } else {
        StoreError::from_text(text)
    }
}

fn param(v: &Value) -> ParameterValue {
    match v {
        Value::Null => ParameterValue::DbNull,
        Value::Integer(i) => ParameterValue::Int64(*i),
        Value::Real(f) => ParameterValue::Floating64(*f),
        Value::Text(s) => ParameterValue::Str(s.clone()),
        Value::Blob(b) => ParameterValue::Binary(b.clone()),
    }
}

fn value(column: &str, v: &DbValue) -> Result<Value> {
    Ok(match v {
        DbValue::DbNull => Value::Null,
        DbValue::Boolean(b) => Value::Integer((*b).into()),
        DbValue::Int8(i) => Value::Integer((*i).into()),
        DbValue::Int16(i) => Value::Integer((*i).into()),
        DbValue::Int32(i) => Value::Integer((*i).into()),
        DbValue::Int64(i) => Value::Integer(*i),
        DbValue::Floating32(f) => Value::Real((*f).into()),
        DbValue::Floating64(f) => Value::Real(*f),
        DbValue::Str(s) => Value::Text(s.clone()),
        DbValue::Binary(b) => Value::Blob(b.clone()),
        other => return Err(StoreError::Corrupt(format!("column {column}: unexpected PostgreSQL value {other:?}"))),
    })
}

impl Db for PgDb {
    async fn exec(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        let numbered = tailor_store::numbered_placeholders(sql);
        let params: Vec<ParameterValue> = params.iter().map(param).collect();
        if tailor_store::returns_no_rows(sql) {
            // No row stream to open and read to its end: one host call.
            self.0.execute(numbered, params).await.map_err(|e| error(sql, &e))?;
            return Ok(Rows { columns: Vec::new(), rows: Vec::new() });
        }
        let result = self.0.query(numbered, params).await.map_err(|e| error(sql, &e))?;
        let columns: Vec<String> = result.columns().iter().map(|c| c.name.clone()).collect();
        let (_, mut stream, done) = result.into_inner();
        let mut rows = Vec::new();
        while let Some(row) = stream.next().await {
            let values = row.iter().zip(&columns).map(|(v, c)| value(c, v)).collect::<Result<Vec<_>>>()?;
            rows.push(values);
        }
        done.await.map_err(|e| error(sql, &SdkError::PgError(e)))?;
        Ok(Rows { columns, rows })
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}
