//! From an ExternalSecret's `remoteRef` to what ESO's Vault provider reads:
//! the Vault path (its `buildPath`: the store's `path` is the mount, `data/`
//! is inserted for KV v2) and the value `property` selects in the secret
//! (a top-level key first, else a dotted path into nested values).

use serde_json::Value as Json;

use crate::paths;

/// Where one store's secrets live: ESO's `spec.provider.vault.path` (the
/// mount; `None`: the key's first segment is the mount) and `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub mount: Option<String>,
    pub v2: bool,
}

/// The Vault path ESO reads for `key`, as its Vault provider builds it.
pub fn read_path(layout: &Layout, key: &str) -> String {
    let key = key.trim_matches('/');
    match &layout.mount {
        Some(mount) => {
            // A key may repeat the mount (and `data/` on v2): ESO strips both.
            let mut rest = key;
            if let Some(stripped) = key.strip_prefix(&format!("{mount}/")) {
                rest = stripped;
                if layout.v2 {
                    rest = rest.strip_prefix("data/").unwrap_or(rest);
                }
            }
            if layout.v2 {
                paths::kv::data(mount, rest)
            } else {
                paths::kv::v1(mount, rest)
            }
        }
        None if layout.v2 && !key.contains("/data/") => match key.split_once('/') {
            Some((mount, rest)) => paths::kv::data(mount, rest),
            None => format!("{key}/data"),
        },
        None => key.to_owned(),
    }
}

/// What a `remoteRef` finds in a secret's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Present,
    /// The key is there with a null or empty value.
    Empty,
    Absent,
    /// `dataFrom.extract` needs a JSON object (the secret, or what `property` selects).
    NotAnObject,
}

/// What `property` selects in `data` (the secret's key/value map).
/// `opaque` values (a plan's value sources) count as present whatever is
/// asked of them: their content is only known at run time.
pub fn select(
    data: &Json,
    property: Option<&str>,
    extract: bool,
    opaque: &dyn Fn(&Json) -> bool,
) -> Found {
    let value = match property.filter(|p| !p.is_empty()) {
        None => Some(data),
        // A key that is literally there wins over the dotted path, as in ESO.
        Some(p) => match data.get(p) {
            Some(v) => Some(v),
            None => walk(data, p, opaque),
        },
    };
    let Some(value) = value else {
        return Found::Absent;
    };
    if opaque(value) {
        return Found::Present;
    }
    match value {
        Json::Null => Found::Empty,
        Json::String(s) if s.is_empty() => Found::Empty,
        Json::Object(map) if map.is_empty() => Found::Empty,
        Json::Object(_) => Found::Present,
        // ESO decodes a JSON text into a map too.
        Json::String(s) if extract => match serde_json::from_str::<Json>(s) {
            Ok(Json::Object(map)) if !map.is_empty() => Found::Present,
            Ok(Json::Object(_)) => Found::Empty,
            _ => Found::NotAnObject,
        },
        _ if extract => Found::NotAnObject,
        _ => Found::Present,
    }
}

/// Follows a dotted path (`a.b.0.c`, `\.` for a literal dot) through
/// objects and arrays; stops at an opaque value, which stands for anything.
fn walk<'a>(data: &'a Json, path: &str, opaque: &dyn Fn(&Json) -> bool) -> Option<&'a Json> {
    let mut node = data;
    for segment in segments(path) {
        if opaque(node) {
            return Some(node);
        }
        node = match node {
            Json::Object(map) => map.get(&segment)?,
            Json::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

fn segments(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out
                .last_mut()
                .into_iter()
                .for_each(|s| s.extend(chars.next())),
            '.' => out.push(String::new()),
            c => out.last_mut().into_iter().for_each(|s| s.push(c)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layout(mount: Option<&str>, v2: bool) -> Layout {
        Layout {
            mount: mount.map(str::to_owned),
            v2,
        }
    }

    #[test]
    fn paths_are_built_like_esos_vault_provider() {
        let cases = [
            (Some("secret/path"), true, "foo", "secret/path/data/foo"),
            (Some("secret/path"), false, "foo", "secret/path/foo"),
            (
                Some("secret/path"),
                true,
                "secret/path/foo",
                "secret/path/data/foo",
            ),
            (
                Some("secret/path"),
                true,
                "secret/path/data/foo",
                "secret/path/data/foo",
            ),
            (
                Some("secret/path"),
                false,
                "secret/path/foo",
                "secret/path/foo",
            ),
            (None, true, "secret/path/foo", "secret/data/path/foo"),
            (None, true, "secret/path/data/foo", "secret/path/data/foo"),
            (None, false, "secret/path/foo", "secret/path/foo"),
            (Some("secret"), true, "app/db", "secret/data/app/db"),
        ];
        for (mount, v2, key, want) in cases {
            assert_eq!(
                read_path(&layout(mount, v2), key),
                want,
                "{mount:?} {v2} {key}"
            );
        }
    }

    #[test]
    fn properties_select_top_level_keys_then_dotted_paths() {
        let none = |_: &Json| false;
        let data = json!({"a": "1", "empty": "", "nil": null, "db": {"user": "u", "hosts": ["h0"]}, "x.y": "dotted", "cfg": "{\"k\":\"v\"}"});
        assert_eq!(select(&data, Some("a"), false, &none), Found::Present);
        assert_eq!(select(&data, Some("x.y"), false, &none), Found::Present);
        assert_eq!(select(&data, Some("db.user"), false, &none), Found::Present);
        assert_eq!(
            select(&data, Some("db.hosts.0"), false, &none),
            Found::Present
        );
        assert_eq!(select(&data, Some("db.pass"), false, &none), Found::Absent);
        assert_eq!(select(&data, Some("empty"), false, &none), Found::Empty);
        assert_eq!(select(&data, Some("nil"), false, &none), Found::Empty);
        assert_eq!(select(&data, None, true, &none), Found::Present);
        assert_eq!(select(&data, Some("db"), true, &none), Found::Present);
        assert_eq!(select(&data, Some("cfg"), true, &none), Found::Present);
        assert_eq!(select(&data, Some("a"), true, &none), Found::NotAnObject);
        assert_eq!(select(&json!({}), None, true, &none), Found::Empty);
    }

    #[test]
    fn opaque_values_stand_for_anything() {
        let source = |v: &Json| v.get("env").is_some();
        let data = json!({"db": {"env": "DB_JSON"}});
        assert_eq!(
            select(&data, Some("db.user.name"), false, &source),
            Found::Present
        );
        assert_eq!(select(&data, Some("other"), false, &source), Found::Absent);
    }
}
