//! Outbound Redis for `fermyon:spin/redis@2.0.0`, through the `redis` crate.
//!
//! [`RedisAccess`] is one component's view: it connects only to addresses its
//! `allowed_outbound_hosts` allow (`redis://host:port`, as in Spin) and
//! shares one multiplexed connection per address across requests
//! ([`RedisConnections`]), checked on each `open` and replaced when broken. The [`binding`] submodule adapts it to the WIT traits.

use std::collections::HashMap;
use std::sync::Arc;

use redis::aio::MultiplexedConnection;

use crate::outbound::OutboundPolicy;

/// Why a Redis call failed, as the guest sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisError {
    /// Not a Redis URL, or not allowed by `allowed_outbound_hosts`.
    InvalidAddress,
    /// The reply has a type the call cannot return.
    TypeError,
    /// Anything else, described.
    Other(String),
}

impl From<redis::RedisError> for RedisError {
    fn from(e: redis::RedisError) -> Self {
        if e.kind() == redis::ErrorKind::UnexpectedReturnType {
            Self::TypeError
        } else {
            Self::Other(e.to_string())
        }
    }
}

/// An argument of [`RedisConnection::execute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisArgument {
    /// An integer.
    Int(i64),
    /// Bytes.
    Binary(Vec<u8>),
}

/// One element of an [`RedisConnection::execute`] reply, flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisReply {
    /// No value.
    Nil,
    /// A status such as `OK`.
    Status(String),
    /// An integer.
    Int(i64),
    /// Bytes.
    Binary(Vec<u8>),
}

/// Connections shared by every component, one per address.
#[derive(Default)]
pub struct RedisConnections {
    open: tokio::sync::Mutex<HashMap<String, MultiplexedConnection>>,
}

impl RedisConnections {
    /// The shared connection to `address`, checked with a PING (Redis may
    /// have restarted since it was opened), or a new one.
    async fn connect(&self, address: &str) -> Result<MultiplexedConnection, RedisError> {
        let mut open = self.open.lock().await;
        if let Some(connection) = open.get(address) {
            let mut connection = connection.clone();
            let alive: redis::RedisResult<String> =
                redis::cmd("PING").query_async(&mut connection).await;
            if alive.is_ok() {
                return Ok(connection);
            }
        }
        let client = redis::Client::open(address).map_err(|_| RedisError::InvalidAddress)?;
        let connection = client.get_multiplexed_async_connection().await?;
        open.insert(address.to_owned(), connection.clone());
        Ok(connection)
    }
}

/// Whether `policy` allows connecting to the Redis URL `address`.
pub fn address_allowed(policy: &OutboundPolicy, address: &str) -> bool {
    redis::parse_redis_url(address).is_some_and(|url| {
        url.host_str()
            .is_some_and(|host| policy.allows(url.scheme(), host, url.port()))
    })
}

/// One component's outbound Redis.
#[derive(Clone, Default)]
pub struct RedisAccess {
    policy: OutboundPolicy,
    connections: Arc<RedisConnections>,
}

impl RedisAccess {
    /// Access to addresses `policy` allows, over the shared `connections`.
    pub fn new(policy: OutboundPolicy, connections: Arc<RedisConnections>) -> Self {
        Self {
            policy,
            connections,
        }
    }

    /// Connects to `address`, as the guest's `connection.open` does.
    pub async fn open(&self, address: &str) -> Result<RedisConnection, RedisError> {
        if !address_allowed(&self.policy, address) {
            eprintln!(
                "postloan-host: redis connection to {address} denied (not in allowed_outbound_hosts)"
            );
            return Err(RedisError::InvalidAddress);
        }
        let connection = self.connections.connect(address).await?;
        Ok(RedisConnection { connection })
    }
}

/// A connection to one Redis server.
#[derive(Clone)]
pub struct RedisConnection {
    connection: MultiplexedConnection,
}

impl RedisConnection {
    /// Runs `command`.
    async fn query<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, RedisError> {
        let mut connection = self.connection.clone();
        Ok(command.query_async(&mut connection).await?)
    }

    /// `PUBLISH channel payload`.
    pub async fn publish(&self, channel: String, payload: Vec<u8>) -> Result<(), RedisError> {
        self.query::<i64>(redis::cmd("PUBLISH").arg(channel).arg(payload).clone())
            .await
            .map(drop)
    }

    /// `GET key`.
    pub async fn get(&self, key: String) -> Result<Option<Vec<u8>>, RedisError> {
        self.query(redis::cmd("GET").arg(key).clone()).await
    }

    /// `SET key value`.
    pub async fn set(&self, key: String, value: Vec<u8>) -> Result<(), RedisError> {
        self.query::<()>(redis::cmd("SET").arg(key).arg(value).clone())
            .await
    }

    /// `INCR key`.
    pub async fn incr(&self, key: String) -> Result<i64, RedisError> {
        self.query(redis::cmd("INCR").arg(key).clone()).await
    }

    /// `DEL keys...`.
    pub async fn del(&self, keys: Vec<String>) -> Result<u32, RedisError> {
        self.query(redis::cmd("DEL").arg(keys).clone()).await
    }

    /// `SADD key values...`.
    pub async fn sadd(&self, key: String, values: Vec<String>) -> Result<u32, RedisError> {
        self.query(redis::cmd("SADD").arg(key).arg(values).clone())
            .await
    }

    /// `SMEMBERS key`.
    pub async fn smembers(&self, key: String) -> Result<Vec<String>, RedisError> {
        self.query(redis::cmd("SMEMBERS").arg(key).clone()).await
    }

    /// `SREM key values...`.
    pub async fn srem(&self, key: String, values: Vec<String>) -> Result<u32, RedisError> {
        self.query(redis::cmd("SREM").arg(key).arg(values).clone())
            .await
    }

    /// Any command; the reply is flattened into a list.
    pub async fn execute(
        &self,
        command: String,
        arguments: Vec<RedisArgument>,
    ) -> Result<Vec<RedisReply>, RedisError> {
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisArgument::Int(i) => cmd.arg(i),
                RedisArgument::Binary(b) => cmd.arg(b),
            };
        }
        let value: redis::Value = self.query(cmd).await?;
        let mut replies = Vec::new();
        flatten(value, &mut replies)?;
        Ok(replies)
    }
}

fn flatten(value: redis::Value, out: &mut Vec<RedisReply>) -> Result<(), RedisError> {
    use redis::Value;
    match value {
        Value::Nil => out.push(RedisReply::Nil),
        Value::Int(i) => out.push(RedisReply::Int(i)),
        Value::Boolean(b) => out.push(RedisReply::Int(i64::from(b))),
        Value::BulkString(bytes) => out.push(RedisReply::Binary(bytes)),
        Value::SimpleString(status) => out.push(RedisReply::Status(status)),
        Value::Okay => out.push(RedisReply::Status("OK".into())),
        Value::Double(f) => out.push(RedisReply::Binary(f.to_string().into_bytes())),
        Value::VerbatimString { text, .. } => out.push(RedisReply::Binary(text.into_bytes())),
        Value::Array(values) | Value::Set(values) | Value::Push { data: values, .. } => {
            for value in values {
                flatten(value, out)?;
            }
        }
        Value::Map(pairs) => {
            for (key, value) in pairs {
                flatten(key, out)?;
                flatten(value, out)?;
            }
        }
        Value::Attribute { data, .. } => flatten(*data, out)?,
        Value::ServerError(e) => return Err(RedisError::Other(e.to_string())),
        other => return Err(RedisError::Other(format!("unsupported reply {other:?}"))),
    }
    Ok(())
}

/// The adapter between [`RedisAccess`] and the generated `fermyon:spin/redis` traits.
pub mod binding {
    use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

    use super::{RedisAccess, RedisArgument, RedisConnection, RedisError, RedisReply};
    use crate::bindings::services::fermyon::spin2_0_0::redis::{
        self, Error, HostConnection, RedisParameter, RedisResult,
    };

    /// What a store lends the Redis binding for one call.
    pub struct RedisView<'a> {
        /// The component's outbound Redis.
        pub access: &'a RedisAccess,
        /// Where open connections live.
        pub table: &'a mut ResourceTable,
    }

    struct Binding;

    impl HasData for Binding {
        type Data<'a> = RedisView<'a>;
    }

    /// Adds `fermyon:spin/redis@2.0.0` to `linker`.
    pub fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> RedisView<'_>,
    ) -> wasmtime::Result<()> {
        redis::add_to_linker::<T, Binding>(linker, view)
    }

    impl redis::Host for RedisView<'_> {}

    type Handle = Resource<RedisConnection>;
    type Outcome<T> = wasmtime::Result<Result<T, Error>>;

    impl RedisView<'_> {
        fn connection(&self, handle: &Handle) -> wasmtime::Result<RedisConnection> {
            Ok(self.table.get(handle)?.clone())
        }
    }

    impl HostConnection for RedisView<'_> {
        async fn open(&mut self, address: String) -> Outcome<Handle> {
            match self.access.open(&address).await {
                Ok(connection) => Ok(Ok(self.table.push(connection)?)),
                Err(e) => Ok(Err(to_wit_error(e))),
            }
        }

        async fn publish(&mut self, c: Handle, channel: String, payload: Vec<u8>) -> Outcome<()> {
            let connection = self.connection(&c)?;
            Ok(connection
                .publish(channel, payload)
                .await
                .map_err(to_wit_error))
        }

        async fn get(&mut self, c: Handle, key: String) -> Outcome<Option<Vec<u8>>> {
            Ok(self.connection(&c)?.get(key).await.map_err(to_wit_error))
        }

        async fn set(&mut self, c: Handle, key: String, value: Vec<u8>) -> Outcome<()> {
            Ok(self
                .connection(&c)?
                .set(key, value)
                .await
                .map_err(to_wit_error))
        }

        async fn incr(&mut self, c: Handle, key: String) -> Outcome<i64> {
            Ok(self.connection(&c)?.incr(key).await.map_err(to_wit_error))
        }

        async fn del(&mut self, c: Handle, keys: Vec<String>) -> Outcome<u32> {
            Ok(self.connection(&c)?.del(keys).await.map_err(to_wit_error))
        }

        async fn sadd(&mut self, c: Handle, key: String, values: Vec<String>) -> Outcome<u32> {
            Ok(self
                .connection(&c)?
                .sadd(key, values)
                .await
                .map_err(to_wit_error))
        }

        async fn smembers(&mut self, c: Handle, key: String) -> Outcome<Vec<String>> {
            Ok(self
                .connection(&c)?
                .smembers(key)
                .await
                .map_err(to_wit_error))
        }

        async fn srem(&mut self, c: Handle, key: String, values: Vec<String>) -> Outcome<u32> {
            Ok(self
                .connection(&c)?
                .srem(key, values)
                .await
                .map_err(to_wit_error))
        }

        async fn execute(
            &mut self,
            c: Handle,
            command: String,
            arguments: Vec<RedisParameter>,
        ) -> Outcome<Vec<RedisResult>> {
            let arguments = arguments
                .into_iter()
                .map(|a| match a {
                    RedisParameter::Int64(i) => RedisArgument::Int(i),
                    RedisParameter::Binary(b) => RedisArgument::Binary(b),
                })
                .collect();
            let replies = self.connection(&c)?.execute(command, arguments).await;
            Ok(replies
                .map(|r| r.into_iter().map(to_wit_reply).collect())
                .map_err(to_wit_error))
        }

        async fn drop(&mut self, c: Handle) -> wasmtime::Result<()> {
            self.table.delete(c)?;
            Ok(())
        }
    }

    fn to_wit_reply(reply: RedisReply) -> RedisResult {
        match reply {
            RedisReply::Nil => RedisResult::Nil,
            RedisReply::Status(s) => RedisResult::Status(s),
            RedisReply::Int(i) => RedisResult::Int64(i),
            RedisReply::Binary(b) => RedisResult::Binary(b),
        }
    }

    fn to_wit_error(e: RedisError) -> Error {
        match e {
            RedisError::InvalidAddress => Error::InvalidAddress,
            RedisError::TypeError => Error::TypeError,
            RedisError::Other(message) => Error::Other(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_redis_urls_pass() {
        let policy = OutboundPolicy::new(&["redis://127.0.0.1:6390".to_owned()]);
        assert!(address_allowed(&policy, "redis://127.0.0.1:6390"));
        assert!(address_allowed(&policy, "redis://127.0.0.1:6390/0"));
        assert!(!address_allowed(&policy, "redis://127.0.0.1:6391"));
        assert!(!address_allowed(&policy, "redis://10.0.0.1:6390"));
        assert!(!address_allowed(&policy, "http://127.0.0.1:6390"));
        assert!(!address_allowed(&policy, "not a url"));
    }

    #[test]
    fn nested_replies_are_flattened_in_order() {
        use redis::Value;
        let reply = Value::Array(vec![
            Value::Int(1),
            Value::Nil,
            Value::Array(vec![Value::BulkString(b"x".to_vec()), Value::Okay]),
        ]);
        let mut out = Vec::new();
        flatten(reply, &mut out).unwrap();
        assert_eq!(
            out,
            [
                RedisReply::Int(1),
                RedisReply::Nil,
                RedisReply::Binary(b"x".to_vec()),
                RedisReply::Status("OK".into())
            ]
        );
    }
}
