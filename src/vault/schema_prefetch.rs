//! Reads the server's API description on a thread of its own while the
//! plan loads: the server builds it (10–20 ms on a dev server, more with
//! many mounts) while the client parses the plan, instead of after.
//!
//! Only a token configured up front is used (no login here, so no token
//! can outlive the run), and only one attempt is made: a failure, another
//! token or another namespace by the time the fields are checked, and the
//! description is simply read again the usual way.

use std::thread;

use tokio::sync::oneshot;

use super::schema::ApiSchema;
use super::{Connection, Method, Vault, VaultError};
use crate::secret::Secret;

/// A description being read for `namespace` with `token`.
pub struct PrefetchedSchema {
    namespace: Option<String>,
    token: Secret,
    answer: oneshot::Receiver<Result<ApiSchema, VaultError>>,
}

impl PrefetchedSchema {
    /// Starts reading with `conn` (which carries the token); `None` when no
    /// thread can be started.
    pub fn start(conn: Connection) -> Option<PrefetchedSchema> {
        let token = conn.token.clone()?;
        let namespace = conn.namespace.clone();
        let (send, answer) = oneshot::channel();
        let reader = move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                let _ = send.send(runtime.block_on(read(&conn)));
            }
        };
        thread::Builder::new()
            .name("api-description".into())
            .spawn(reader)
            .ok()?;
        Some(PrefetchedSchema {
            namespace,
            token,
            answer,
        })
    }

    /// The description read for `vault`'s namespace and token, as
    /// [`ApiSchema::fetch`] would have answered before logging; `None` when
    /// it must be read again (another namespace or token, the read failed).
    pub async fn take(self, vault: &Vault) -> Option<Result<ApiSchema, VaultError>> {
        if vault.namespace() != self.namespace.as_deref() || !vault.uses_token(&self.token) {
            return None;
        }
        match self.answer.await.ok()? {
            Ok(schema) => Some(Ok(schema)),
            // What the usual read reports as "not allowed" or "not there".
            Err(e) if matches!(e.code(), Some(403 | 404)) => Some(Err(e)),
            // Not ready, unreachable, slow: the usual read retries.
            Err(_) => None,
        }
    }
}

async fn read(conn: &Connection) -> Result<ApiSchema, VaultError> {
    let vault = Vault::connect(conn)?;
    let timeout = Some(conn.request_timeout);
    let raw = vault
        .send_once_raw(Method::Get, ApiSchema::PATH, timeout)
        .await?;
    ApiSchema::parse(raw)
}
