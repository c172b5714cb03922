//! `spin:postgres@4.2.0` over tokio-postgres, the way Spin's host does it: a component opens a
//! connection with an address it holds (tailor's components take it from the variable
//! `database_url`), and only hosts its manifest lists in `allowed_outbound_hosts`
//! (`postgres://HOST:PORT`) can be reached. Connections are pooled per address, at most
//! `max_connections` open at once across all components; each keeps its prepared statements.
//! A connection dropped inside a transaction (a trapped or timed-out request) is closed, not
//! reused, so PostgreSQL rolls the transaction back. A plain `BEGIN` is not sent on its own: it
//! goes out pipelined with the transaction's first statement, one round trip instead of two.
//! Statements a component issues together are pipelined too, and always sent in the order it
//! issued them, also when one of them has to be prepared first: a component may issue a lock
//! and the statements that need it together.

// The error type is the interface's own (a WIT variant carrying PostgreSQL's error record).
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use tokio::sync::{MutexGuard, OwnedSemaphorePermit, Semaphore};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Config, NoTls, Statement};
use wasmtime::component::{Accessor, FutureReader, HasData, Resource, ResourceTable, StreamReader};

use crate::bindings::spin::postgres::postgres::{
    self, Column, DbDataType, DbError, DbValue, Error, ParameterValue, QueryError, RowSet,
};

/// Pools by address, shared by every component of the application.
pub struct Pools {
    max_connections: usize,
    by_address: Mutex<HashMap<String, Arc<Pool>>>,
    /// Connections open (in use or idle) across all pools.
    permits: Arc<Semaphore>,
}

impl Pools {
    pub fn new(max_connections: usize) -> Arc<Pools> {
        let max_connections = max_connections.max(1);
        Arc::new(Pools {
            max_connections,
            by_address: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(max_connections)),
        })
    }

    /// Connections open now and the limit (for /metrics).
    pub fn usage(&self) -> (usize, usize) {
        (self.max_connections - self.permits.available_permits(), self.max_connections)
    }

    fn pool(&self, address: &str, config: Config) -> Arc<Pool> {
        let mut pools = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        pools
            .entry(address.to_owned())
            .or_insert_with(|| Arc::new(Pool { config, idle: Mutex::new(Vec::new()) }))
            .clone()
    }
}

struct Pool {
    config: Config,
    idle: Mutex<Vec<(Arc<Pooled>, OwnedSemaphorePermit)>>,
}

/// One open connection and the statements prepared on it.
struct Pooled {
    client: Client,
    statements: Mutex<HashMap<String, Statement>>,
    /// Held by a statement from when it is issued until its request is sent (tokio's lock is
    /// first come, first served): requests go out in the order the component issued them.
    sending: tokio::sync::Mutex<()>,
}

/// A component's `connection` resource.
pub struct Connection {
    held: Option<(Arc<Pooled>, OwnedSemaphorePermit)>,
    pool: Arc<Pool>,
    in_tx: bool,
    /// A `BEGIN` answered but not sent yet: it goes out with the next statement.
    begin_pending: bool,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Nothing was sent after a deferred BEGIN: the connection is as clean as before it.
        if let Some((pooled, permit)) = self.held.take()
            && (!self.in_tx || self.begin_pending)
            && !pooled.client.is_closed()
        {
            self.pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push((pooled, permit));
        }
    }
}

/// A component's `connection-builder` resource.
pub struct ConnectionBuilder {
    address: String,
}

/// What one component instance may reach.
pub struct PgCtx {
    pub pools: Arc<Pools>,
    /// `host:port` pairs from the component's `allowed_outbound_hosts` (`postgres://…`).
    pub allowed: Arc<Vec<String>>,
}

pub struct PgView<'a> {
    pub ctx: &'a mut PgCtx,
    pub table: &'a mut ResourceTable,
}

pub struct SpinPostgres;

impl HasData for SpinPostgres {
    type Data<'a> = PgView<'a>;
}

fn failed(message: String) -> Error {
    Error::ConnectionFailed(message)
}

/// Checks `address` against the allowed hosts; its pool.
fn admit(pools: &Pools, allowed: &[String], address: &str) -> Result<Arc<Pool>, Error> {
    let config: Config = address.parse().map_err(|e| failed(format!("invalid address: {e}")))?;
    let ports = config.get_ports();
    let hosts = config.get_hosts();
    if hosts.is_empty() {
        return Err(failed("the address names no host".into()));
    }
    for (i, host) in hosts.iter().enumerate() {
        let tokio_postgres::config::Host::Tcp(name) = host else {
            return Err(failed("Unix sockets are not allowed; use host:port".into()));
        };
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let wanted = format!("{}:{port}", name.to_ascii_lowercase());
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&wanted)) {
            return Err(failed(format!(
                "{wanted} is not in this component's allowed_outbound_hosts (postgres://{wanted} would allow it)"
            )));
        }
    }
    if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        return Err(failed("sslmode=require: TLS to PostgreSQL is not supported by tailor's host yet".into()));
    }
    Ok(pools.pool(address, config))
}

async fn connect(pools: Arc<Pools>, pool: Arc<Pool>) -> Result<Connection, Error> {
    loop {
        let reused = pool.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match reused {
            Some((pooled, _)) if pooled.client.is_closed() => continue, // dropped with its permit
            Some(held) => {
                return Ok(Connection { held: Some(held), pool, in_tx: false, begin_pending: false });
            }
            None => break,
        }
    }
    let permit = pools.permits.clone().acquire_owned().await.map_err(|e| failed(e.to_string()))?;
    let (client, connection) = pool.config.connect(NoTls).await.map_err(|e| failed(message(&e)))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let pooled =
        Arc::new(Pooled { client, statements: Mutex::new(HashMap::new()), sending: tokio::sync::Mutex::new(()) });
    Ok(Connection { held: Some((pooled, permit)), pool, in_tx: false, begin_pending: false })
}

fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => d.message().to_owned(),
        None => match std::error::Error::source(e) {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

fn query_error(e: &tokio_postgres::Error) -> Error {
    match e.as_db_error() {
        Some(d) => Error::QueryFailed(QueryError::DbError(DbError {
            as_text: e.to_string(),
            severity: d.severity().to_owned(),
            code: d.code().code().to_owned(),
            message: d.message().to_owned(),
            detail: d.detail().map(str::to_owned),
            extras: Vec::new(),
        })),
        None => Error::QueryFailed(QueryError::Text(message(e))),
    }
}

/// SQL NULL for any parameter type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut tokio_postgres::types::private::BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;
type Param = Box<dyn ToSql + Sync + Send>;

fn param(p: ParameterValue) -> Result<Param, Error> {
    Ok(match p {
        ParameterValue::Boolean(v) => Box::new(v),
        ParameterValue::Int8(v) => Box::new(v),
        ParameterValue::Int16(v) => Box::new(v),
        ParameterValue::Int32(v) => Box::new(v),
        ParameterValue::Int64(v) => Box::new(v),
        ParameterValue::Floating32(v) => Box::new(v),
        ParameterValue::Floating64(v) => Box::new(v),
        ParameterValue::Str(v) => Box::new(v),
        ParameterValue::Binary(v) => Box::new(v),
        ParameterValue::DbNull => Box::new(Null),
        other => {
            return Err(Error::BadParameter(format!(
                "{other:?}: tailor's host supports boolean, integer, floating, str, binary and null parameters"
            )));
        }
    })
}

fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

fn value(row: &tokio_postgres::Row, i: usize) -> Result<DbValue, Error> {
    let ty = row.columns()[i].type_();
    let bad = |e: tokio_postgres::Error| Error::ValueConversionFailed(format!("column {i}: {e}"));
    fn or_null<T>(v: Option<T>, f: impl FnOnce(T) -> DbValue) -> DbValue {
        v.map_or(DbValue::DbNull, f)
    }
    Ok(match *ty {
        Type::BOOL => or_null(row.try_get(i).map_err(bad)?, DbValue::Boolean),
        Type::CHAR => or_null(row.try_get(i).map_err(bad)?, DbValue::Int8),
        Type::INT2 => or_null(row.try_get(i).map_err(bad)?, DbValue::Int16),
        Type::INT4 => or_null(row.try_get(i).map_err(bad)?, DbValue::Int32),
        Type::INT8 => or_null(row.try_get(i).map_err(bad)?, DbValue::Int64),
        Type::FLOAT4 => or_null(row.try_get(i).map_err(bad)?, DbValue::Floating32),
        Type::FLOAT8 => or_null(row.try_get(i).map_err(bad)?, DbValue::Floating64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => or_null(row.try_get(i).map_err(bad)?, DbValue::Str),
        Type::BYTEA => or_null(row.try_get(i).map_err(bad)?, DbValue::Binary),
        Type::VOID => DbValue::DbNull,
        _ => DbValue::Unsupported(Vec::new()),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Control {
    /// Exactly `BEGIN` (any case, spaces around, an optional `;`): it cannot fail on a live
    /// connection, so it can wait for the next statement.
    PlainBegin,
    Begin,
    End,
    Other,
}

fn control(statement: &str) -> Control {
    let first = statement.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    let plain = statement.trim().trim_end_matches(';').trim_end().eq_ignore_ascii_case("BEGIN");
    match first.to_ascii_uppercase().as_str() {
        "BEGIN" if plain => Control::PlainBegin,
        "BEGIN" | "START" => Control::Begin,
        "COMMIT" | "END" | "ROLLBACK" | "ABORT" => Control::End,
        _ => Control::Other,
    }
}

async fn prepare(pooled: &Pooled, statement: &str) -> Result<Statement, Error> {
    let cached = pooled.statements.lock().unwrap_or_else(|p| p.into_inner()).get(statement).cloned();
    if let Some(s) = cached {
        return Ok(s);
    }
    let s = pooled.client.prepare(statement).await.map_err(|e| query_error(&e))?;
    pooled.statements.lock().unwrap_or_else(|p| p.into_inner()).insert(statement.to_owned(), s.clone());
    Ok(s)
}

/// What to do for one statement of a component.
enum Step {
    /// A plain `BEGIN`, deferred: answered at once.
    Deferred,
    /// Run the statement; `begin`: send the deferred `BEGIN` first.
    Run { pooled: Arc<Pooled>, begin: bool },
}

/// A request polled once — tokio-postgres sends a request on the first poll of its future —
/// and awaited later.
enum Sent<'a, T> {
    Waiting(Pin<Box<dyn Future<Output = T> + Send + 'a>>),
    Done(T),
}

impl<'a, T> Sent<'a, T> {
    async fn send(request: impl Future<Output = T> + Send + 'a) -> Self {
        let mut request = Box::pin(request);
        match poll_fn(|cx| Poll::Ready(request.as_mut().poll(cx))).await {
            Poll::Ready(v) => Sent::Done(v),
            Poll::Pending => Sent::Waiting(request),
        }
    }

    async fn answer(self) -> T {
        match self {
            Sent::Waiting(request) => request.await,
            Sent::Done(v) => v,
        }
    }
}

/// A statement's turn to send on its connection, after every statement issued before it,
/// with the deferred `BEGIN` sent first when it is the transaction's first statement.
struct Turn<'a> {
    sending: MutexGuard<'a, ()>,
    begin: Option<Sent<'a, Result<(), tokio_postgres::Error>>>,
}

/// Waits for the turn (asked for on the first poll, so in the order statements are issued) and
/// sends the deferred `BEGIN` if `begin`.
async fn turn(pooled: &Pooled, begin: bool) -> Turn<'_> {
    let sending = pooled.sending.lock().await;
    let begin = match begin {
        true => Some(Sent::send(pooled.client.batch_execute("BEGIN")).await),
        false => None,
    };
    Turn { sending, begin }
}

impl Turn<'_> {
    /// Lets the next statement send (this one's request went out, or will not); the answer of
    /// the deferred `BEGIN`, if any, which comes first (only a broken connection fails it, and
    /// then the statement fails too: its error is the one reported).
    async fn done(self) -> Result<(), Error> {
        let Turn { sending, begin } = self;
        drop(sending);
        match begin {
            Some(began) => began.answer().await.map_err(|e| query_error(&e)),
            None => Ok(()),
        }
    }
}

/// Runs a command; the number of rows it changed.
async fn execute(
    pooled: Arc<Pooled>,
    begin: bool,
    statement: String,
    params: Vec<ParameterValue>,
) -> Result<u64, Error> {
    let params = params.into_iter().map(param).collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
    let turn = turn(&pooled, begin).await;
    let prepared = prepare(&pooled, &statement).await;
    let sent = match &prepared {
        Ok(p) => Ok(Sent::send(pooled.client.execute(p, &refs)).await),
        Err(e) => Err(e.clone()),
    };
    turn.done().await?;
    sent?.answer().await.map_err(|e| query_error(&e))
}

/// The statement's columns and rows.
async fn run(
    pooled: Arc<Pooled>,
    begin: bool,
    statement: String,
    params: Vec<ParameterValue>,
) -> Result<RowSet, Error> {
    let params = params.into_iter().map(param).collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
    let turn = turn(&pooled, begin).await;
    let prepared = prepare(&pooled, &statement).await;
    let sent = match &prepared {
        Ok(p) => Ok(Sent::send(pooled.client.query(p, &refs)).await),
        Err(e) => Err(e.clone()),
    };
    turn.done().await?;
    let rows = sent?.answer().await.map_err(|e| query_error(&e))?;
    let prepared = prepared?;
    let columns = prepared
        .columns()
        .iter()
        .map(|c| Column { name: c.name().to_owned(), data_type: data_type(c.type_()) })
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push((0..row.len()).map(|i| value(row, i)).collect::<Result<Vec<_>, _>>()?);
    }
    Ok(RowSet { columns, rows: out })
}

/// What to do with `statement` on the connection, and the transaction state after it.
fn take(table: &mut ResourceTable, r: &Resource<Connection>, statement: &str) -> Result<Step, Error> {
    let c = table.get_mut(r).map_err(|_| failed("no such connection".into()))?;
    let pooled = c.held.as_ref().map(|(p, _)| p.clone()).ok_or_else(|| failed("the connection is closed".into()))?;
    let control = control(statement);
    if control == Control::PlainBegin && !c.in_tx {
        c.in_tx = true;
        c.begin_pending = true;
        return Ok(Step::Deferred);
    }
    let begin = std::mem::take(&mut c.begin_pending);
    match control {
        Control::PlainBegin | Control::Begin => c.in_tx = true,
        Control::End => c.in_tx = false,
        Control::Other => {}
    }
    Ok(Step::Run { pooled, begin })
}

fn block<F: Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

impl postgres::Host for PgView<'_> {}

impl postgres::HostConnectionBuilder for PgView<'_> {
    fn new(&mut self, address: String) -> wasmtime::Result<Resource<ConnectionBuilder>> {
        Ok(self.table.push(ConnectionBuilder { address })?)
    }

    fn set_ca_root(&mut self, _: Resource<ConnectionBuilder>, _: String) -> wasmtime::Result<Result<(), Error>> {
        Ok(Err(Error::Other("TLS to PostgreSQL (set-ca-root) is not supported by tailor's host yet".into())))
    }

    fn build(&mut self, r: Resource<ConnectionBuilder>) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let address = self.table.get(&r)?.address.clone();
        postgres::HostConnection::open(self, address)
    }

    fn drop(&mut self, r: Resource<ConnectionBuilder>) -> wasmtime::Result<()> {
        self.table.delete(r)?;
        Ok(())
    }
}

impl postgres::HostConnection for PgView<'_> {
    fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let pool = match admit(&self.ctx.pools, &self.ctx.allowed, &address) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        match block(connect(self.ctx.pools.clone(), pool)) {
            Ok(c) => Ok(Ok(self.table.push(c)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn query(
        &mut self,
        r: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        match take(self.table, &r, &statement) {
            Ok(Step::Deferred) => Ok(Ok(RowSet { columns: Vec::new(), rows: Vec::new() })),
            Ok(Step::Run { pooled, begin }) => Ok(block(run(pooled, begin, statement, params))),
            Err(e) => Ok(Err(e)),
        }
    }

    fn execute(
        &mut self,
        r: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        match take(self.table, &r, &statement) {
            Ok(Step::Deferred) => Ok(Ok(0)),
            Ok(Step::Run { pooled, begin }) => Ok(block(execute(pooled, begin, statement, params))),
            Err(e) => Ok(Err(e)),
        }
    }

    fn drop(&mut self, r: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(r)?;
        Ok(())
    }
}

type Streamed = (Vec<Column>, StreamReader<Vec<DbValue>>, FutureReader<Result<(), Error>>);

async fn open_async<T>(
    accessor: &Accessor<T, SpinPostgres>,
    address: String,
) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
    let admitted = accessor.with(|mut access| {
        let view = access.get();
        admit(&view.ctx.pools, &view.ctx.allowed, &address).map(|pool| (view.ctx.pools.clone(), pool))
    });
    let (pools, pool) = match admitted {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    match connect(pools, pool).await {
        Ok(c) => accessor.with(|mut access| Ok(Ok(access.get().table.push(c)?))),
        Err(e) => Ok(Err(e)),
    }
}

impl<T> postgres::HostConnectionBuilderWithStore<T> for SpinPostgres {
    async fn build_async(
        accessor: &Accessor<T, Self>,
        r: Resource<ConnectionBuilder>,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let address = accessor.with(|mut access| access.get().table.get(&r).map(|b| b.address.clone()))?;
        open_async(accessor, address).await
    }
}

impl<T> postgres::HostConnectionWithStore<T> for SpinPostgres {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        open_async(accessor, address).await
    }

    async fn query_async(
        accessor: &Accessor<T, Self>,
        r: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<Streamed, Error>> {
        let set = match accessor.with(|mut access| take(access.get().table, &r, &statement)) {
            Ok(Step::Deferred) => Ok(RowSet { columns: Vec::new(), rows: Vec::new() }),
            Ok(Step::Run { pooled, begin }) => run(pooled, begin, statement, params).await,
            Err(e) => Err(e),
        };
        let set = match set {
            Ok(set) => set,
            Err(e) => return Ok(Err(e)),
        };
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, set.rows)?;
            let done = FutureReader::new(&mut access, async { wasmtime::Result::<_>::Ok(Ok(())) })?;
            Ok(Ok((set.columns, rows, done)))
        })
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        r: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        match accessor.with(|mut access| take(access.get().table, &r, &statement)) {
            Ok(Step::Deferred) => Ok(Ok(0)),
            Ok(Step::Run { pooled, begin }) => Ok(execute(pooled, begin, statement, params).await),
            Err(e) => Ok(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{DbValue, Pools, RowSet, admit, connect, run};

    fn count(set: &RowSet) -> i64 {
        match set.rows.first().and_then(|r| r.first()) {
            Some(DbValue::Int64(n)) => *n,
            other => panic!("count(*) answered {other:?}"),
        }
    }

    /// With the test cluster (`TAILOR_TEST_POSTGRES`, started by tests/run.sh): a statement that
    /// must be prepared first (a round trip) and one prepared before, issued together, go out in
    /// the order issued — the second sees what the first did — and the deferred `BEGIN` goes
    /// before both.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(clippy::unwrap_used)]
    async fn statements_issued_together_go_out_in_the_order_issued() {
        let url = std::env::var("TAILOR_TEST_POSTGRES").expect(
            "TAILOR_TEST_POSTGRES=postgres://… is needed: tests/run.sh starts a cluster (or: tests/postgres.sh start DIR)",
        );
        let config: tokio_postgres::Config = url.parse().unwrap();
        let tokio_postgres::config::Host::Tcp(host) = &config.get_hosts()[0] else { panic!("{url}: not host:port") };
        let allowed = vec![format!("{host}:{}", config.get_ports().first().copied().unwrap_or(5432))];
        let pools = Pools::new(2);
        let pool = admit(&pools, &allowed, &url).unwrap();
        let connection = connect(pools.clone(), pool).await.unwrap();
        let pooled = connection.held.as_ref().unwrap().0.clone();
        let sql = |s: &str| s.to_owned();
        run(pooled.clone(), false, sql("CREATE TEMP TABLE seen (n int)"), vec![]).await.unwrap();
        let counting = sql("SELECT count(*) AS n FROM seen");
        assert_eq!(count(&run(pooled.clone(), false, counting.clone(), vec![]).await.unwrap()), 0);

        for round in 1..=3 {
            // A new statement each round, so it is never prepared yet; the count always is.
            let insert = format!("INSERT INTO seen (n) VALUES ({round})");
            // `biased`: polled (issued) in this order, as a component issues two statements.
            let (inserted, counted) = tokio::join!(
                biased;
                run(pooled.clone(), false, insert, vec![]),
                run(pooled.clone(), false, counting.clone(), vec![]),
            );
            inserted.unwrap();
            assert_eq!(count(&counted.unwrap()), round, "round {round}: the count went out before the insert");
        }

        // The transaction's first statement sends the deferred BEGIN before itself; one issued
        // with it runs inside the transaction too: both are undone by the ROLLBACK.
        let (inserted, counted) = tokio::join!(
            biased;
            run(pooled.clone(), true, sql("INSERT INTO seen (n) VALUES (10)"), vec![]),
            run(pooled.clone(), false, counting.clone(), vec![]),
        );
        inserted.unwrap();
        assert_eq!(count(&counted.unwrap()), 4);
        run(pooled.clone(), false, sql("ROLLBACK"), vec![]).await.unwrap();
        assert_eq!(count(&run(pooled.clone(), false, counting, vec![]).await.unwrap()), 3, "rolled back");
        drop(connection);
    }

    #[test]
    fn only_a_plain_begin_waits_for_the_next_statement() {
        use super::{Control, control};
        for plain in ["BEGIN", "begin", "  Begin ;", "BEGIN;"] {
            assert!(control(plain) == Control::PlainBegin, "{plain}");
        }
        for other in ["BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN garbage", "START TRANSACTION", "BEGINX"] {
            assert!(control(other) != Control::PlainBegin, "{other}");
        }
        assert!(control("begin read only") == Control::Begin);
        assert!(control("commit") == Control::End && control("ROLLBACK") == Control::End);
        assert!(control("SELECT 1") == Control::Other);
    }

    #[test]
    fn only_allowed_hosts_are_reached() {
        let pools = Pools::new(4);
        let allowed = vec!["db.internal:5432".to_owned(), "127.0.0.1:6000".to_owned()];
        assert!(admit(&pools, &allowed, "postgres://u:p@db.internal/tailor").is_ok(), "default port");
        assert!(admit(&pools, &allowed, "postgres://u@127.0.0.1:6000/x").is_ok());
        for refused in [
            "postgres://u@127.0.0.1:5432/x",
            "postgres://u@other:5432/x",
            "host=/var/run/postgresql dbname=x",
            "postgres://u@db.internal/tailor?sslmode=require",
            "not a url",
        ] {
            assert!(admit(&pools, &allowed, refused).is_err(), "{refused}");
        }
    }
}
