//! The native PostgreSQL executor (`postgres://…`): one tokio-postgres connection per
//! [`PgDb`], driven by a small shared runtime so that both blocking callers ([`crate::block_on`]
//! in the workers) and async ones can use it. Statements are prepared once per connection;
//! `?` placeholders become `$1…`; values convert to whatever type PostgreSQL inferred.
//! A lost connection is made again at the next statement, except inside a transaction,
//! which fails instead (its earlier statements are gone with the connection). Statements
//! issued together are pipelined, and sent in the order issued, also when one of them has to
//! be prepared first: a lock and the statements that need it can be issued together.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{AsyncMessage, Client, Config, NoTls, Statement};

use crate::db::{Db, Dialect, Rows, Value};
use crate::error::{Result, StoreError};
use crate::placeholders::numbered;

/// The runtime that drives every connection's socket.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tailor-postgres")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("starting the PostgreSQL runtime: {e}"))
    })
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// `url` without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((auth, host)) => (auth, host),
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Parses a connection URL, refusing what this executor cannot do.
pub fn config(url: &str) -> Result<Config> {
    let config: Config = url.parse().map_err(|e| StoreError::Db(format!("database URL {}: {e}", redact(url))))?;
    if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        return Err(StoreError::Db(format!(
            "database URL {}: sslmode=require is not supported yet; reach PostgreSQL over a private network \
             or a TLS-terminating proxy, and drop sslmode",
            redact(url)
        )));
    }
    Ok(config)
}

/// `host:port` of the one host `url` names (what a component's `allowed_outbound_hosts` must list).
pub fn host_port(url: &str) -> Result<String> {
    let config = config(url)?;
    let hosts = config.get_hosts();
    let [tokio_postgres::config::Host::Tcp(host)] = hosts else {
        return Err(StoreError::Db(format!(
            "database URL {}: name exactly one host by name or address (no Unix sockets, no host lists)",
            redact(url)
        )));
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    Ok(format!("{}:{port}", host.to_ascii_lowercase()))
}

struct Conn {
    client: Arc<Client>,
    statements: HashMap<String, Statement>,
}

pub struct PgDb {
    url: String,
    config: Config,
    conn: Mutex<Option<Conn>>,
    in_tx: AtomicBool,
    /// Channels named by NOTIFY on this connection (after [`PgDb::listen`]).
    notified: Mutex<Receiver<String>>,
    notify_to: Sender<String>,
    listening: Mutex<Vec<String>>,
    /// Held by a statement from when it is issued until its request is sent (tokio's lock is
    /// first come, first served; tokio-postgres sends a request on its future's first poll).
    sending: tokio::sync::Mutex<()>,
}

fn db_err(what: &str, e: &tokio_postgres::Error) -> StoreError {
    let text = match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(detail) => format!("{what}: {} ({detail})", d.message()),
            None => format!("{what}: {}", d.message()),
        },
        None => format!("{what}: {e}{}", e.source().map(|s| format!(": {s}")).unwrap_or_default()),
    };
    match e.code() {
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED => {
            StoreError::Retry(text)
        }
        Some(c) if *c == SqlState::DISK_FULL => StoreError::Full(text),
        _ => StoreError::from_text(text),
    }
}

impl PgDb {
    /// Connects to `url` (blocking; use from threads that are not running async tasks).
    pub fn connect(url: &str) -> Result<PgDb> {
        let db = PgDb::new(url)?;
        crate::block_on(db.client())?;
        Ok(db)
    }

    fn new(url: &str) -> Result<PgDb> {
        let mut config = config(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("tailor");
        let (notify_to, notified) = channel();
        Ok(PgDb {
            url: url.to_owned(),
            config,
            conn: Mutex::new(None),
            in_tx: AtomicBool::new(false),
            notified: Mutex::new(notified),
            notify_to,
            listening: Mutex::new(Vec::new()),
            sending: tokio::sync::Mutex::new(()),
        })
    }

    /// The database URL without its password.
    pub fn location(&self) -> String {
        redact(&self.url)
    }

    /// The connection, made (again) when there is none or it was lost.
    async fn client(&self) -> Result<Arc<Client>> {
        {
            let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = conn.as_ref().filter(|c| !c.client.is_closed()) {
                return Ok(c.client.clone());
            }
        }
        if self.in_tx.load(Ordering::SeqCst) {
            return Err(StoreError::Db(format!(
                "{}: the connection was lost in the middle of a transaction, which PostgreSQL rolled back; \
                 run it again (the next statement reconnects)",
                self.location()
            )));
        }
        let config = self.config.clone();
        let to = self.notify_to.clone();
        let made = runtime()
            .spawn(async move {
                let (client, mut connection) = config.connect(NoTls).await?;
                tokio::spawn(async move {
                    while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                        match message {
                            Ok(AsyncMessage::Notification(n)) => {
                                let _ = to.send(n.channel().to_owned());
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                });
                Ok::<_, tokio_postgres::Error>(client)
            })
            .await
            .map_err(|e| StoreError::Db(format!("{}: {e}", self.location())))?;
        let client = Arc::new(made.map_err(|e| db_err(&format!("connecting to {}", self.location()), &e))?);
        let channels = self.listening.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for channel in channels {
            client.batch_execute(&format!("LISTEN {channel}")).await.map_err(|e| db_err("LISTEN", &e))?;
        }
        *self.conn.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Conn { client: client.clone(), statements: HashMap::new() });
        Ok(client)
    }

    async fn statement(&self, client: &Client, sql: &str) -> Result<Statement> {
        if let Some(s) =
            self.conn.lock().unwrap_or_else(|p| p.into_inner()).as_ref().and_then(|c| c.statements.get(sql))
        {
            return Ok(s.clone());
        }
        let prepared = client.prepare(&numbered(sql)).await.map_err(|e| db_err(sql, &e))?;
        if let Some(c) = self.conn.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            c.statements.insert(sql.to_owned(), prepared.clone());
        }
        Ok(prepared)
    }

    /// Subscribes this connection to NOTIFY on `channel` (an identifier), also after a reconnect.
    pub async fn listen(&self, channel: &str) -> Result<()> {
        if !channel.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Db(format!("channel {channel:?}: letters, digits and _ only")));
        }
        self.listening.lock().unwrap_or_else(|p| p.into_inner()).push(channel.to_owned());
        let client = self.client().await?;
        client.batch_execute(&format!("LISTEN {channel}")).await.map_err(|e| db_err("LISTEN", &e))
    }

    /// Waits up to `timeout` for a notification; the channel it came on, if any.
    pub fn wait_notification(&self, timeout: Duration) -> Option<String> {
        let notified = self.notified.lock().unwrap_or_else(|p| p.into_inner());
        match notified.recv_timeout(timeout) {
            Ok(channel) => {
                while notified.try_recv().is_ok() {} // one wake-up for a burst
                Some(channel)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    fn control(sql: &str) -> Option<TxControl> {
        let first = sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
        match first.to_ascii_uppercase().as_str() {
            "BEGIN" | "START" => Some(TxControl::Begin),
            "COMMIT" | "END" | "ROLLBACK" => Some(TxControl::End),
            _ => None,
        }
    }
}

enum TxControl {
    Begin,
    End,
}

/// A [`Value`] as whatever parameter type PostgreSQL inferred for it.
#[derive(Debug)]
struct Param<'a>(&'a Value);

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut tokio_postgres::types::private::BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => i.to_string().to_sql(ty, out),
                _ => Err(format!("an integer cannot be a {ty} parameter").into()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(format!("a real cannot be a {ty} parameter").into()),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn cell(row: &tokio_postgres::Row, i: usize) -> Result<Value> {
    let column = &row.columns()[i];
    let ty = column.type_();
    let bad = |e: tokio_postgres::Error| StoreError::Corrupt(format!("column {}: {e}", column.name()));
    let value = match *ty {
        Type::VOID => Value::Null,
        Type::BOOL => row.try_get::<_, Option<bool>>(i).map_err(bad)?.map(|b| Value::Integer(b.into())).into(),
        Type::INT2 => row.try_get::<_, Option<i16>>(i).map_err(bad)?.map(|v| Value::Integer(v.into())).into(),
        Type::INT4 => row.try_get::<_, Option<i32>>(i).map_err(bad)?.map(|v| Value::Integer(v.into())).into(),
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(bad)?.map(Value::Integer).into(),
        Type::FLOAT4 => row.try_get::<_, Option<f32>>(i).map_err(bad)?.map(|v| Value::Real(v.into())).into(),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map_err(bad)?.map(Value::Real).into(),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i).map_err(bad)?.map(Value::Blob).into(),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            row.try_get::<_, Option<String>>(i).map_err(bad)?.map(Value::Text).into()
        }
        _ => {
            return Err(StoreError::Corrupt(format!(
                "column {}: PostgreSQL type {ty} is not supported",
                column.name()
            )));
        }
    };
    Ok(value)
}

impl Db for PgDb {
    async fn exec(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        // This statement's turn to send: after every statement issued before it.
        let turn = self.sending.lock().await;
        let sent = async move { drop(turn) };
        let control = PgDb::control(sql);
        if let Some(TxControl::End) = control {
            let was = self.in_tx.swap(false, Ordering::SeqCst);
            let client = self.client().await?;
            if !was && client.is_closed() {
                return Ok(Rows::default());
            }
            let (done, ()) = crate::join::both(client.batch_execute(sql), sent).await;
            done.map_err(|e| db_err(sql, &e))?;
            return Ok(Rows::default());
        }
        let client = self.client().await?;
        if let Some(TxControl::Begin) = control {
            let (done, ()) = crate::join::both(client.batch_execute(sql), sent).await;
            done.map_err(|e| db_err(sql, &e))?;
            self.in_tx.store(true, Ordering::SeqCst);
            return Ok(Rows::default());
        }
        let statement = self.statement(&client, sql).await?;
        let params: Vec<Param<'_>> = params.iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        // `both` polls the query first: the turn passes on once its request went out.
        let (rows, ()) = crate::join::both(client.query(&statement, &refs), sent).await;
        let rows = rows.map_err(|e| db_err(sql, &e))?;
        let columns: Vec<String> = statement.columns().iter().map(|c| c.name().to_owned()).collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push((0..columns.len()).map(|i| cell(row, i)).collect::<Result<Vec<_>>>()?);
        }
        Ok(Rows { columns, rows: out })
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    /// 1–3 ms times the attempt (at most 30 ms), so that conflicting retries spread apart.
    fn backoff(&self, attempt: usize) {
        let jitter = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let micros = attempt.min(10) as u64 * (1000 + u64::from(jitter % 2000));
        std::thread::sleep(Duration::from_micros(micros));
    }
}

#[cfg(test)]
mod tests {
    use super::redact;
    use crate::placeholders::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2"
        );
        assert_eq!(numbered("x LIKE ? ESCAPE '\\' OR y = ?"), "x LIKE $1 ESCAPE '\\' OR y = $2");
        assert_eq!(numbered("\"we?ird\" = ?"), "\"we?ird\" = $1");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://tailor:s3cret@db:5432/tailor"), "postgres://tailor:***@db:5432/tailor");
        assert_eq!(redact("postgres://db/tailor"), "postgres://db/tailor");
        assert_eq!(redact("postgres://tailor@db/tailor"), "postgres://tailor@db/tailor");
    }
}
