//! `spin:postgres@4.2.0` over tokio-postgres, the way Spin's host does it: a component opens a
//! connection with an address it holds (tailor's components take it from the variable
//! `database_url`), and only hosts its manifest lists in `allowed_outbound_hosts`
//! (`postgres://HOST:PORT`) can be reached. Connections are pooled per address, at most
//! `max_connections` open at once across all components; each keeps its prepared statements.
//! Transactions run on connections of their own, at most `max_transactions` per address
//! (one by default): a component's statements from its `BEGIN` to its `COMMIT`/`ROLLBACK` go
//! to a transaction connection taken when the first of them is sent and given back when the
//! end is answered; the rest wait their turn here, first come first served. tailor's
//! components only open write transactions, which take the store's write lock and so run one
//! at a time anyway: queued in PostgreSQL (a backend blocked on the lock each) and spread over
//! every request's connection, they cost both sides much more CPU than one after the other on
//! one connection whose backend stays warm (BENCHMARKS.md, issue I). A statement issued after
//! the transaction's end runs after the end was answered, so it sees what was committed.
//! A transaction connection dropped before its end was answered (a trapped or timed-out
//! request) is closed, so PostgreSQL rolls the transaction back. Transaction connections come
//! on top of `max_connections`. A plain `BEGIN` is not sent on its own: it goes out pipelined
//! with the transaction's first statement, one round trip instead of two.
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

use tokio::sync::{MutexGuard, OwnedRwLockReadGuard, OwnedSemaphorePermit, Semaphore};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Config, NoTls, Statement};
use wasmtime::component::{Accessor, FutureReader, HasData, Resource, ResourceTable, StreamReader};

use crate::bindings::spin::postgres::postgres::{
    self, Column, DbDataType, DbError, DbValue, Error, ParameterValue, QueryError, RowSet,
};

/// Pools by address, shared by every component of the application.
pub struct Pools {
    max_connections: usize,
    max_transactions: usize,
    by_address: Mutex<HashMap<String, Arc<Pool>>>,
    /// Connections open (in use or idle) across all pools.
    permits: Arc<Semaphore>,
}

impl Pools {
    pub fn new(max_connections: usize, max_transactions: usize) -> Arc<Pools> {
        let max_connections = max_connections.max(1);
        Arc::new(Pools {
            max_connections,
            max_transactions: max_transactions.clamp(1, Semaphore::MAX_PERMITS),
            by_address: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(max_connections)),
        })
    }

    /// Connections open now and the limit (for /metrics).
    pub fn usage(&self) -> (usize, usize) {
        (self.max_connections - self.permits.available_permits(), self.max_connections)
    }

    /// Transactions open now (summed over the addresses) and the limit per address (for /metrics).
    pub fn transactions(&self) -> (usize, usize) {
        let pools = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        let open = pools.values().map(|p| self.max_transactions - p.transactions.available_permits()).sum();
        (open, self.max_transactions)
    }

    fn pool(&self, address: &str, config: Config) -> Arc<Pool> {
        let mut pools = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        pools
            .entry(address.to_owned())
            .or_insert_with(|| {
                Arc::new(Pool {
                    config,
                    idle: Mutex::new(Vec::new()),
                    transactions: Arc::new(Semaphore::new(self.max_transactions)),
                    tx_idle: Mutex::new(Vec::new()),
                })
            })
            .clone()
    }
}

struct Pool {
    config: Config,
    idle: Mutex<Vec<(Arc<Pooled>, OwnedSemaphorePermit)>>,
    /// Turns of open transactions on this address, and their idle connections.
    transactions: Arc<Semaphore>,
    tx_idle: Mutex<Vec<Arc<Pooled>>>,
}

/// One open connection and the statements prepared on it.
struct Pooled {
    client: Client,
    statements: Mutex<HashMap<String, Statement>>,
}

/// A transaction's connection and its turn.
type TxConn = (Arc<Pooled>, OwnedSemaphorePermit);

/// Which connection a statement goes to: the component's own, or its transaction's.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Target {
    Own,
    Tx,
}

/// What the statements of one `connection` resource share.
struct Lane {
    /// Held by a statement from when it is issued until its request is sent (tokio's lock is
    /// first come, first served): requests go out in the order the component issued them.
    sending: tokio::sync::Mutex<()>,
    /// Read-held by every statement from when it is sent until it is answered. A statement
    /// that goes to the other connection than the one before it write-locks it first (holding
    /// `sending`): it runs once everything issued before it was answered.
    inflight: Arc<tokio::sync::RwLock<()>>,
    /// The transaction's connection, from its first statement until its end was answered.
    tx: Mutex<Option<TxConn>>,
    pool: Arc<Pool>,
}

/// A component's `connection` resource.
pub struct Connection {
    held: Option<(Arc<Pooled>, OwnedSemaphorePermit)>,
    pool: Arc<Pool>,
    in_tx: bool,
    /// A `BEGIN` answered but not sent yet: it goes out with the next statement.
    begin_pending: bool,
    /// Where the statement issued last went.
    last: Target,
    lane: Arc<Lane>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The component's own connection never holds a transaction: reused.
        if let Some((pooled, permit)) = self.held.take()
            && !pooled.client.is_closed()
        {
            self.pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push((pooled, permit));
        }
        // A transaction whose end was not answered: its connection is closed, which rolls it
        // back, and its turn given back.
        self.lane.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
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
    let connection = |held| {
        let lane = Lane {
            sending: tokio::sync::Mutex::new(()),
            inflight: Arc::new(tokio::sync::RwLock::new(())),
            tx: Mutex::new(None),
            pool: pool.clone(),
        };
        Connection {
            held: Some(held),
            pool: pool.clone(),
            in_tx: false,
            begin_pending: false,
            last: Target::Own,
            lane: Arc::new(lane),
        }
    };
    loop {
        let reused = pool.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match reused {
            Some((pooled, _)) if pooled.client.is_closed() => continue, // dropped with its permit
            Some(held) => return Ok(connection(held)),
            None => break,
        }
    }
    let permit = pools.permits.clone().acquire_owned().await.map_err(|e| failed(e.to_string()))?;
    Ok(connection((open(&pool).await?, permit)))
}

/// A new connection to the pool's address.
async fn open(pool: &Pool) -> Result<Arc<Pooled>, Error> {
    let (client, connection) = pool.config.connect(NoTls).await.map_err(|e| failed(message(&e)))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Arc::new(Pooled { client, statements: Mutex::new(HashMap::new()) }))
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
    // Called for every statement: the first words compared in place, nothing allocated.
    let mut words = statement.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()).take(4);
    let first = words.next().unwrap_or("");
    let is = |w: &str, k: &[&str]| k.iter().any(|k| w.eq_ignore_ascii_case(k));
    if is(first, &["BEGIN", "START"]) {
        let plain = statement.trim().trim_end_matches(';').trim_end().eq_ignore_ascii_case("BEGIN");
        return if plain { Control::PlainBegin } else { Control::Begin };
    }
    // `ROLLBACK [WORK|TRANSACTION] TO SAVEPOINT` and `COMMIT AND CHAIN` keep a transaction
    // open; `COMMIT PREPARED` / `ROLLBACK PREPARED` run outside one.
    if is(first, &["COMMIT", "END", "ROLLBACK", "ABORT"]) && !words.any(|w| is(w, &["TO", "CHAIN", "PREPARED"])) {
        return Control::End;
    }
    Control::Other
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
    /// Run the statement.
    Run(Issued),
}

/// A statement issued on a connection resource: where it goes and what it does there.
struct Issued {
    own: Arc<Pooled>,
    lane: Arc<Lane>,
    target: Target,
    /// The statement before it went to the other connection.
    switch: bool,
    /// Send the deferred `BEGIN` first.
    begin: bool,
    /// The statement ends the transaction (`COMMIT`, `ROLLBACK`).
    ends: bool,
}

impl Issued {
    /// Waits for the statement's turn to send (asked for on the first poll, so in the order
    /// statements are issued) and, when it goes to the other connection than the one before,
    /// until every statement before it was answered; a transaction's first statement takes a
    /// transaction connection then (waiting for a turn of the pool). The connection to send on
    /// and the guard that tells later switches this statement is not answered yet.
    async fn turn(&self) -> Result<(MutexGuard<'_, ()>, Arc<Pooled>, OwnedRwLockReadGuard<()>), Error> {
        let sending = self.lane.sending.lock().await;
        if self.switch {
            drop(self.lane.inflight.write().await);
        }
        let pooled = match self.target {
            Target::Own => self.own.clone(),
            Target::Tx if self.switch => {
                // One whose end was never answered (its statement dropped) is closed.
                self.lane.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
                let pool = &self.lane.pool;
                let permit = pool.transactions.clone().acquire_owned().await.map_err(|e| failed(e.to_string()))?;
                let idle = loop {
                    match pool.tx_idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
                        Some(c) if c.client.is_closed() => continue,
                        other => break other,
                    }
                };
                let pooled = match idle {
                    Some(c) => c,
                    None => open(pool).await?,
                };
                *self.lane.tx.lock().unwrap_or_else(|p| p.into_inner()) = Some((pooled.clone(), permit));
                pooled
            }
            Target::Tx => {
                self.lane.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(c, _)| c.clone()).ok_or_else(
                    || failed("the transaction has no connection: its first statement could not open one".into()),
                )?
            }
        };
        let answered = self.lane.inflight.clone().read_owned().await;
        Ok((sending, pooled, answered))
    }

    /// After a transaction's end was answered (`ok`) its connection goes back to the pool;
    /// after it failed or was not sent, it is closed. Nothing for other statements.
    fn settle(&self, ok: bool) {
        if !self.ends {
            return;
        }
        if let Some((pooled, permit)) = self.lane.tx.lock().unwrap_or_else(|p| p.into_inner()).take()
            && ok
            && !pooled.client.is_closed()
        {
            self.lane.pool.tx_idle.lock().unwrap_or_else(|p| p.into_inner()).push(pooled);
            drop(permit);
        }
    }
}

/// A request polled once — tokio-postgres sends a request on the first poll of its future —
/// and awaited later.
enum Sent<'a, T> {
    Waiting(Pin<Box<dyn Future<Output = T> + Send + 'a>>),
    Done(T),
}

impl<'a, T> Sent<'a, T> {
    async fn send(mut request: Pin<Box<dyn Future<Output = T> + Send + 'a>>) -> Self {
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

/// The turn on `pooled` (the lane's `sending` held) and the deferred `BEGIN` sent if `begin`.
async fn turn<'a>(sending: MutexGuard<'a, ()>, pooled: &'a Pooled, begin: bool) -> Turn<'a> {
    let begin = match begin {
        true => Some(Sent::send(Box::pin(pooled.client.batch_execute("BEGIN"))).await),
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

/// `work`'s answer once a transaction's end settled its connection ([`Issued::settle`]);
/// the statement counts as answered (its guard dropped) only then.
async fn settled<T>(
    issued: &Issued,
    work: impl Future<Output = Result<(Result<T, Error>, OwnedRwLockReadGuard<()>), Error>>,
) -> Result<T, Error> {
    match work.await {
        Ok((answer, answered)) => {
            issued.settle(answer.is_ok());
            drop(answered);
            answer
        }
        Err(e) => {
            issued.settle(false);
            Err(e)
        }
    }
}

type Params<'a> = [&'a (dyn ToSql + Sync)];
type Request<'a, T> = Pin<Box<dyn Future<Output = Result<T, tokio_postgres::Error>> + Send + 'a>>;

/// Sends `statement` in its turn with `request` (tokio-postgres' `execute` or `query` of the
/// prepared statement) and waits for the answer; with the prepared statement.
async fn exchange<T>(
    issued: &Issued,
    statement: &str,
    params: Vec<ParameterValue>,
    request: impl for<'a> FnOnce(&'a Client, &'a Statement, &'a Params<'a>) -> Request<'a, T>,
) -> Result<(T, Statement), Error> {
    let answer = async {
        let params = params.into_iter().map(param).collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
        let (sending, pooled, answered) = issued.turn().await?;
        let turn = turn(sending, &pooled, issued.begin).await;
        let prepared = prepare(&pooled, statement).await;
        let sent = match &prepared {
            Ok(p) => Ok(Sent::send(request(&pooled.client, p, &refs)).await),
            Err(e) => Err(e.clone()),
        };
        turn.done().await?;
        let answer = sent?.answer().await.map_err(|e| query_error(&e));
        Ok((answer.and_then(|a| prepared.map(|p| (a, p))), answered))
    };
    settled(issued, answer).await
}

/// Runs a command; the number of rows it changed.
async fn execute(issued: Issued, statement: String, params: Vec<ParameterValue>) -> Result<u64, Error> {
    fn execute<'a>(client: &'a Client, p: &'a Statement, refs: &'a Params<'a>) -> Request<'a, u64> {
        Box::pin(client.execute(p, refs))
    }
    Ok(exchange(&issued, &statement, params, execute).await?.0)
}

/// The statement's columns and rows.
async fn run(issued: Issued, statement: String, params: Vec<ParameterValue>) -> Result<RowSet, Error> {
    fn query<'a>(client: &'a Client, p: &'a Statement, refs: &'a Params<'a>) -> Request<'a, Vec<tokio_postgres::Row>> {
        Box::pin(client.query(p, refs))
    }
    let (rows, prepared) = exchange(&issued, &statement, params, query).await?;
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
    table.get_mut(r).map_err(|_| failed("no such connection".into()))?.issue(statement)
}

impl Connection {
    /// Issues `statement`: where it goes (the transaction's connection from a `BEGIN` to the
    /// end, else this one's own), and the transaction state after it.
    fn issue(&mut self, statement: &str) -> Result<Step, Error> {
        let own =
            self.held.as_ref().map(|(p, _)| p.clone()).ok_or_else(|| failed("the connection is closed".into()))?;
        let control = control(statement);
        if control == Control::PlainBegin && !self.in_tx {
            self.in_tx = true;
            self.begin_pending = true;
            return Ok(Step::Deferred);
        }
        let begin = std::mem::take(&mut self.begin_pending);
        let opens = matches!(control, Control::PlainBegin | Control::Begin);
        // A new transaction (not a `BEGIN` inside one, which PostgreSQL only warns about).
        let starts = begin || (opens && !self.in_tx);
        let target = if self.in_tx || opens { Target::Tx } else { Target::Own };
        match control {
            Control::PlainBegin | Control::Begin => self.in_tx = true,
            Control::End => self.in_tx = false,
            Control::Other => {}
        }
        // A new transaction takes a transaction connection also right after another's end.
        let switch = target != self.last || starts;
        self.last = target;
        let ends = control == Control::End && target == Target::Tx;
        Ok(Step::Run(Issued { own, lane: self.lane.clone(), target, switch, begin, ends }))
    }
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
            Ok(Step::Run(issued)) => Ok(block(run(issued, statement, params))),
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
            Ok(Step::Run(issued)) => Ok(block(execute(issued, statement, params))),
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
            Ok(Step::Run(issued)) => run(issued, statement, params).await,
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
            Ok(Step::Run(issued)) => Ok(execute(issued, statement, params).await),
            Err(e) => Ok(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Connection, DbValue, Pools, RowSet, Step, admit, connect, execute, run};

    /// The test cluster (`TAILOR_TEST_POSTGRES`, started by tests/run.sh) and the host:port
    /// that allows it.
    fn cluster() -> (String, Vec<String>) {
        let url = std::env::var("TAILOR_TEST_POSTGRES").expect(
            "TAILOR_TEST_POSTGRES=postgres://… is needed: tests/run.sh starts a cluster (or: tests/postgres.sh start DIR)",
        );
        let config: tokio_postgres::Config = url.parse().expect("TAILOR_TEST_POSTGRES: a postgres:// URL");
        let tokio_postgres::config::Host::Tcp(host) = &config.get_hosts()[0] else { panic!("{url}: not host:port") };
        let allowed = vec![format!("{host}:{}", config.get_ports().first().copied().unwrap_or(5432))];
        (url, allowed)
    }

    fn int(set: &RowSet) -> i64 {
        match set.rows.first().and_then(|r| r.first()) {
            Some(DbValue::Int64(n)) => *n,
            Some(DbValue::Int32(n)) => i64::from(*n),
            other => panic!("answered {other:?}"),
        }
    }

    /// Issues `sql` on `c` (as a component's call does, in order) and returns its run, to be
    /// awaited later; a deferred `BEGIN` is answered at once.
    #[allow(clippy::unwrap_used)]
    fn issue(c: &mut Connection, sql: &str) -> impl Future<Output = RowSet> + use<> {
        let step = c.issue(sql).unwrap();
        let sql = sql.to_owned();
        async move {
            match step {
                Step::Deferred => RowSet { columns: Vec::new(), rows: Vec::new() },
                Step::Run(issued) => run(issued, sql.clone(), vec![]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}")),
            }
        }
    }

    /// A table of its own for a test (a temporary one would exist on one connection only).
    #[allow(clippy::unwrap_used)]
    async fn table(c: &mut Connection, name: &str) -> String {
        let table = format!("host_{name}_{}", std::process::id());
        issue(c, &format!("DROP TABLE IF EXISTS {table}")).await;
        issue(c, &format!("CREATE TABLE {table} (n int)")).await;
        table
    }

    /// A statement that must be prepared first (a round trip) and one prepared before, issued
    /// together, go out in the order issued — the second sees what the first did; the deferred
    /// `BEGIN` goes before a transaction's statements (which run on the transaction's
    /// connection); a statement issued together with the `COMMIT` runs after it was answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(clippy::unwrap_used)]
    async fn statements_issued_together_go_out_in_the_order_issued() {
        let (url, allowed) = cluster();
        let pools = Pools::new(2, 1);
        let pool = admit(&pools, &allowed, &url).unwrap();
        let mut c = connect(pools.clone(), pool).await.unwrap();
        let seen = table(&mut c, "order").await;
        let counting = format!("SELECT count(*) AS n FROM {seen}");
        assert_eq!(int(&issue(&mut c, &counting).await), 0);

        for round in 1..=3 {
            // A new statement each round, so it is never prepared yet; the count always is.
            let insert = issue(&mut c, &format!("INSERT INTO {seen} (n) VALUES ({round})"));
            let count = issue(&mut c, &counting);
            // `biased`: polled in the order issued, as a component's two calls are.
            let (_, counted) = tokio::join!(biased; insert, count);
            assert_eq!(int(&counted), round, "round {round}: the count went out before the insert");
        }

        // The transaction's first statement sends the deferred BEGIN before itself; one issued
        // with it runs inside the transaction too: both are undone by the ROLLBACK.
        issue(&mut c, "BEGIN").await;
        let insert = issue(&mut c, &format!("INSERT INTO {seen} (n) VALUES (10)"));
        let count = issue(&mut c, &counting);
        let (_, counted) = tokio::join!(biased; insert, count);
        assert_eq!(int(&counted), 4);
        issue(&mut c, "ROLLBACK").await;
        assert_eq!(int(&issue(&mut c, &counting).await), 3, "rolled back");

        // A count issued with the COMMIT, on the component's own connection, sees the commit.
        issue(&mut c, "BEGIN").await;
        issue(&mut c, &format!("INSERT INTO {seen} (n) VALUES (11)")).await;
        let commit = issue(&mut c, "COMMIT");
        let count = issue(&mut c, &counting);
        let (_, counted) = tokio::join!(biased; commit, count);
        assert_eq!(int(&counted), 4, "the count ran before the COMMIT was answered");
        issue(&mut c, &format!("DROP TABLE {seen}")).await;
    }

    /// Transactions take turns on one connection of their own (one open at a time here): a
    /// second one's first statement waits until the first one's end was answered and then runs
    /// on the same backend; statements outside a transaction do not wait. A transaction
    /// dropped before its end is rolled back, its connection closed and its turn given back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(clippy::unwrap_used)]
    async fn transactions_take_turns_on_a_connection_of_their_own() {
        let (url, allowed) = cluster();
        let pools = Pools::new(4, 1);
        let pool = admit(&pools, &allowed, &url).unwrap();
        let mut a = connect(pools.clone(), pool.clone()).await.unwrap();
        let mut b = connect(pools.clone(), pool.clone()).await.unwrap();
        let kept = table(&mut a, "turns").await;
        let pid = "SELECT pg_backend_pid()";

        issue(&mut a, "BEGIN").await;
        let first = int(&issue(&mut a, pid).await);
        let own = int(&issue(&mut b, pid).await); // outside a transaction: no turn needed
        assert_ne!(own, first, "a transaction ran on a component's own connection");
        assert_eq!(pools.transactions(), (1, 1));
        issue(&mut b, "BEGIN").await;
        let second = tokio::spawn(issue(&mut b, pid));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!second.is_finished(), "a second transaction began while the first was open");
        issue(&mut a, &format!("INSERT INTO {kept} (n) VALUES (1)")).await;
        issue(&mut a, "COMMIT").await;
        let second = tokio::time::timeout(Duration::from_secs(10), second).await.unwrap().unwrap();
        assert_eq!(int(&second), first, "the second transaction ran on another connection");

        // b's transaction is dropped before its end: rolled back, the turn given back.
        let Step::Run(insert) = b.issue(&format!("INSERT INTO {kept} (n) VALUES (2)")).unwrap() else { panic!() };
        execute(insert, format!("INSERT INTO {kept} (n) VALUES (2)"), vec![]).await.unwrap();
        drop(b);
        assert_eq!(pools.transactions(), (0, 1));
        assert_eq!(pool.tx_idle.lock().unwrap().len(), 0, "a transaction connection left open was reused");
        let rows = issue(&mut a, &format!("SELECT count(*) FROM {kept}")).await;
        assert_eq!(int(&rows), 1, "the dropped transaction's insert was kept");

        // The next transaction gets a new connection; after its end it is kept for the next.
        issue(&mut a, "BEGIN").await;
        let third = int(&issue(&mut a, pid).await);
        assert_ne!(third, first, "the closed transaction connection was reused");
        issue(&mut a, "ROLLBACK").await;
        assert_eq!((pools.transactions(), pool.tx_idle.lock().unwrap().len()), ((0, 1), 1));
        issue(&mut a, &format!("DROP TABLE {kept}")).await;
        drop(a);
        assert_eq!(pool.idle.lock().unwrap().len(), 2, "the components' own connections are reused");
    }

    /// Transactions back to back on one resource each get a transaction connection (the same
    /// one, given back in between); a `BEGIN` inside a transaction keeps it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(clippy::unwrap_used)]
    async fn transactions_back_to_back_and_a_begin_inside_one() {
        let (url, allowed) = cluster();
        let pools = Pools::new(2, 1);
        let pool = admit(&pools, &allowed, &url).unwrap();
        let mut c = connect(pools.clone(), pool.clone()).await.unwrap();
        let kept = table(&mut c, "back").await;
        let pid = "SELECT pg_backend_pid()";
        let mut pids = Vec::new();
        for n in 1..=3 {
            issue(&mut c, "BEGIN").await;
            issue(&mut c, &format!("INSERT INTO {kept} (n) VALUES ({n})")).await;
            pids.push(int(&issue(&mut c, pid).await));
            issue(&mut c, "COMMIT").await;
        }
        assert!(pids.windows(2).all(|w| w[0] == w[1]), "{pids:?}");
        assert_eq!(int(&issue(&mut c, &format!("SELECT count(*) FROM {kept}")).await), 3);

        issue(&mut c, "BEGIN").await;
        issue(&mut c, &format!("INSERT INTO {kept} (n) VALUES (4)")).await;
        issue(&mut c, "BEGIN").await; // inside: PostgreSQL warns, the transaction goes on
        assert_eq!(int(&issue(&mut c, &format!("SELECT count(*) FROM {kept}")).await), 4);
        issue(&mut c, "ROLLBACK").await;
        assert_eq!(int(&issue(&mut c, &format!("SELECT count(*) FROM {kept}")).await), 3);
        assert_eq!((pools.transactions(), pool.tx_idle.lock().unwrap().len()), ((0, 1), 1));
        issue(&mut c, &format!("DROP TABLE {kept}")).await;
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
        for end in ["rollback work", "END;", "ABORT", "COMMIT TRANSACTION"] {
            assert!(control(end) == Control::End, "{end}");
        }
        // These keep the transaction open, or run outside one.
        for other in ["ROLLBACK TO SAVEPOINT a", "rollback transaction to a", "COMMIT AND CHAIN", "COMMIT PREPARED 'x'"]
        {
            assert!(control(other) == Control::Other, "{other}");
        }
        assert!(control("SELECT 1") == Control::Other);
    }

    #[test]
    fn only_allowed_hosts_are_reached() {
        let pools = Pools::new(4, 1);
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
