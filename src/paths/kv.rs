//! KV secrets engines: where a secret, its versions and its metadata live.

/// A KV v2 secret's current version: read and written here.
pub fn data(mount: &str, path: &str) -> String {
    [mount, "/data/", path].concat()
}

/// A KV v2 secret's metadata: its custom metadata is set here, and deleting
/// it removes every version.
pub fn metadata(mount: &str, path: &str) -> String {
    [mount, "/metadata/", path].concat()
}

/// Where a KV v2 mount lists its secrets.
pub fn metadata_dir(mount: &str) -> String {
    [mount, "/metadata"].concat()
}

/// A KV v1 secret: one version, read and written at its own path.
pub fn v1(mount: &str, path: &str) -> String {
    [mount, "/", path].concat()
}
