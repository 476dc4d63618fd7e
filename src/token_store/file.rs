//! A token in a file (CI runners): read whole, replaced atomically (a
//! temporary file in the same directory, mode 0600, then a rename).

use std::io::Write;
use std::path::Path;

use super::StoreError;
use crate::secret::Secret;

pub(super) fn load(path: &str) -> Result<Option<Secret>, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let token = text.trim();
            Ok((!token.is_empty()).then(|| Secret::new(token)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(failed("read", path, e)),
    }
}

pub(super) fn save(path: &str, value: &Secret) -> Result<(), StoreError> {
    let target = Path::new(path);
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".vault-converge-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(|e| failed("write", path, e))?;
    temp.write_all(value.expose().as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| failed("write", path, e))?;
    temp.persist(target)
        .map_err(|e| failed("replace", path, e.error))?;
    Ok(())
}

fn failed(doing: &'static str, path: &str, error: std::io::Error) -> StoreError {
    StoreError::Failed {
        doing,
        place: format!("file {path}"),
        reason: error.to_string(),
    }
}
