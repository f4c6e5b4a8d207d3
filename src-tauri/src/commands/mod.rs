//! Tauri commands: adapters of a few lines each. Parse the request, call the core on a blocking
//! thread (KDFs, RSA and keyring calls block), map the result. No key logic lives here.

pub mod agent;
pub mod keys;

use crate::ipc::{IpcError, IpcResult};

/// Run blocking core work off the async runtime.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> IpcResult<T> + Send + 'static) -> IpcResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| IpcError::new("internal", format!("background task failed: {e}")))?
}
