//! Key-value stores for `fermyon:spin/key-value@2.0.0`, each label a SQLite
//! file with one table (like Spin's default store).
//!
//! [`KeyValueAccess`] is one component's view, limited to the labels
//! `spin.toml` grants it (`key_value_stores = [...]`); [`KeyValueStore`] is
//! one open store. The [`binding`] submodule adapts them to the WIT traits.

use std::sync::{Arc, Mutex};

use crate::sqlite::{LabelAccess, LabelRefused, open_database_file};

/// Why a store call failed, as the guest sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValueError {
    /// No store with this label is configured.
    NoSuchStore,
    /// The component was not granted this label.
    AccessDenied,
    /// Anything else, described.
    Other(String),
}

impl From<rusqlite::Error> for KeyValueError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Other(e.to_string())
    }
}

/// One component's key-value stores.
#[derive(Debug, Clone, Default)]
pub struct KeyValueAccess {
    labels: LabelAccess,
}

impl KeyValueAccess {
    /// Access through `labels`.
    pub fn new(labels: LabelAccess) -> Self {
        Self { labels }
    }

    /// Opens the store `label`, creating its table on first use.
    pub fn open(&self, label: &str) -> Result<KeyValueStore, KeyValueError> {
        let path = self
            .labels
            .resolve(label)
            .map_err(|refused| match refused {
                LabelRefused::NotGranted => KeyValueError::AccessDenied,
                LabelRefused::NotConfigured => KeyValueError::NoSuchStore,
            })?;
        let connection =
            open_database_file(path).map_err(|e| KeyValueError::Other(format!("{e:?}")))?;
        connection.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
            [],
        )?;
        Ok(KeyValueStore {
            connection: Arc::new(Mutex::new(connection)),
        })
    }
}

/// An open store.
#[derive(Debug, Clone)]
pub struct KeyValueStore {
    connection: Arc<Mutex<rusqlite::Connection>>,
}

impl KeyValueStore {
    /// Runs `work` on the store's connection on a blocking thread.
    async fn with_connection<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, KeyValueError> {
        let connection = self.connection.clone();
        tokio::task::spawn_blocking(move || {
            let connection = connection
                .lock()
                .map_err(|_| KeyValueError::Other("store poisoned by an earlier panic".into()))?;
            work(&connection).map_err(KeyValueError::from)
        })
        .await
        .map_err(|e| KeyValueError::Other(format!("store task failed: {e}")))?
    }

    /// The value under `key`, if any.
    pub async fn get(&self, key: String) -> Result<Option<Vec<u8>>, KeyValueError> {
        self.with_connection(move |c| {
            use rusqlite::OptionalExtension;
            c.query_row(
                "SELECT value FROM spin_key_value WHERE key = ?1",
                [key],
                |row| row.get(0),
            )
            .optional()
        })
        .await
    }

    /// Stores `value` under `key`.
    pub async fn set(&self, key: String, value: Vec<u8>) -> Result<(), KeyValueError> {
        self.with_connection(move |c| {
            c.execute(
                "INSERT INTO spin_key_value (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                rusqlite::params![key, value],
            )
            .map(drop)
        })
        .await
    }

    /// Removes `key` (a missing key is fine).
    pub async fn delete(&self, key: String) -> Result<(), KeyValueError> {
        self.with_connection(move |c| {
            c.execute("DELETE FROM spin_key_value WHERE key = ?1", [key])
                .map(drop)
        })
        .await
    }

    /// Whether `key` has a value.
    pub async fn exists(&self, key: String) -> Result<bool, KeyValueError> {
        Ok(self.get(key).await?.is_some())
    }

    /// Every key, sorted.
    pub async fn keys(&self) -> Result<Vec<String>, KeyValueError> {
        self.with_connection(|c| {
            let mut statement = c.prepare("SELECT key FROM spin_key_value ORDER BY key")?;
            let keys = statement.query_map([], |row| row.get(0))?;
            keys.collect()
        })
        .await
    }
}

/// The adapter between [`KeyValueAccess`] and the generated `fermyon:spin/key-value` traits.
pub mod binding {
    use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

    use super::{KeyValueAccess, KeyValueError, KeyValueStore};
    use crate::bindings::services::fermyon::spin2_0_0::key_value::{self, Error, HostStore};

    /// What a store lends the key-value binding for one call.
    pub struct KeyValueView<'a> {
        /// The component's store access.
        pub access: &'a KeyValueAccess,
        /// Where open stores live.
        pub table: &'a mut ResourceTable,
    }

    struct Binding;

    impl HasData for Binding {
        type Data<'a> = KeyValueView<'a>;
    }

    /// Adds `fermyon:spin/key-value@2.0.0` to `linker`.
    pub fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> KeyValueView<'_>,
    ) -> wasmtime::Result<()> {
        key_value::add_to_linker::<T, Binding>(linker, view)
    }

    impl key_value::Host for KeyValueView<'_> {}

    type Handle = Resource<KeyValueStore>;

    impl KeyValueView<'_> {
        fn store(&self, handle: &Handle) -> wasmtime::Result<KeyValueStore> {
            Ok(self.table.get(handle)?.clone())
        }
    }

    impl HostStore for KeyValueView<'_> {
        async fn open(&mut self, label: String) -> wasmtime::Result<Result<Handle, Error>> {
            match self.access.open(&label) {
                Ok(store) => Ok(Ok(self.table.push(store)?)),
                Err(e) => Ok(Err(to_wit_error(e))),
            }
        }

        async fn get(
            &mut self,
            store: Handle,
            key: String,
        ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
            Ok(self.store(&store)?.get(key).await.map_err(to_wit_error))
        }

        async fn set(
            &mut self,
            store: Handle,
            key: String,
            value: Vec<u8>,
        ) -> wasmtime::Result<Result<(), Error>> {
            Ok(self
                .store(&store)?
                .set(key, value)
                .await
                .map_err(to_wit_error))
        }

        async fn delete(
            &mut self,
            store: Handle,
            key: String,
        ) -> wasmtime::Result<Result<(), Error>> {
            Ok(self.store(&store)?.delete(key).await.map_err(to_wit_error))
        }

        async fn exists(
            &mut self,
            store: Handle,
            key: String,
        ) -> wasmtime::Result<Result<bool, Error>> {
            Ok(self.store(&store)?.exists(key).await.map_err(to_wit_error))
        }

        async fn get_keys(
            &mut self,
            store: Handle,
        ) -> wasmtime::Result<Result<Vec<String>, Error>> {
            Ok(self.store(&store)?.keys().await.map_err(to_wit_error))
        }

        async fn drop(&mut self, store: Handle) -> wasmtime::Result<()> {
            self.table.delete(store)?;
            Ok(())
        }
    }

    fn to_wit_error(e: KeyValueError) -> Error {
        match e {
            KeyValueError::NoSuchStore => Error::NoSuchStore,
            KeyValueError::AccessDenied => Error::AccessDenied,
            KeyValueError::Other(message) => Error::Other(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::sqlite::DatabaseFiles;

    fn access(name: &str, granted: &[&str]) -> KeyValueAccess {
        let dir: PathBuf =
            std::env::temp_dir().join(format!("postloan-kv-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = DatabaseFiles::new(["default"], &BTreeMap::new(), &dir, "key_value");
        let granted: Vec<String> = granted.iter().map(|s| s.to_string()).collect();
        KeyValueAccess::new(LabelAccess::new(&granted, Arc::new(files)))
    }

    #[tokio::test]
    async fn set_get_delete_and_list() {
        let store = access("ops", &["default"]).open("default").unwrap();
        store.set("b".into(), b"2".to_vec()).await.unwrap();
        store.set("a".into(), b"1".to_vec()).await.unwrap();
        store.set("a".into(), b"one".to_vec()).await.unwrap();
        assert_eq!(store.get("a".into()).await.unwrap(), Some(b"one".to_vec()));
        assert_eq!(store.keys().await.unwrap(), ["a", "b"]);
        store.delete("a".into()).await.unwrap();
        store.delete("missing".into()).await.unwrap();
        assert!(!store.exists("a".into()).await.unwrap());
        assert_eq!(store.get("a".into()).await.unwrap(), None);
    }

    #[test]
    fn labels_not_granted_or_not_configured_are_refused() {
        let access = access("refused", &["default", "ghost"]);
        assert_eq!(
            access.open("other").err(),
            Some(KeyValueError::AccessDenied)
        );
        assert_eq!(access.open("ghost").err(), Some(KeyValueError::NoSuchStore));
    }
}
