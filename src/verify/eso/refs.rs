//! What an External Secrets Operator object asks of a store: the
//! `remoteRef`s of an ExternalSecret (or a ClusterExternalSecret's
//! `externalSecretSpec`), and a SecretStore's Vault `path` and `version`.

use std::collections::BTreeSet;

use super::mapping::Layout;
use super::yaml::Tree;

/// The API versions whose ExternalSecret shape this check knows.
const VERSIONS: [&str; 2] = ["external-secrets.io/v1", "external-secrets.io/v1beta1"];

/// One ExternalSecret (or ClusterExternalSecret) using the checked store.
#[derive(Debug, Clone)]
pub struct ExternalSecret {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The manifest file, when read from one.
    pub file: Option<String>,
    /// The line the object starts on (0: from the Kubernetes API).
    pub line: u64,
    pub refs: Vec<RemoteRef>,
}

impl ExternalSecret {
    /// `kind namespace/name`.
    pub fn title(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// `file:line`, when read from a file.
    pub fn location(&self, line: u64) -> Option<String> {
        self.file.as_ref().map(|f| format!("{f}:{line}"))
    }
}

/// One value the ExternalSecret reads from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// `data[1]` or `dataFrom[0].extract`.
    pub field: String,
    pub line: u64,
    pub key: String,
    pub property: Option<String>,
    pub version: Option<String>,
    /// `dataFrom.extract`: the whole secret (or what `property` selects) becomes keys.
    pub extract: bool,
}

/// An ExternalSecret object of any store: `(secret, stores it uses)`;
/// `None` for other objects.
pub fn external_secret(doc: &Tree, store: &str) -> Option<(ExternalSecret, BTreeSet<String>)> {
    if !VERSIONS.contains(&doc.text(&["apiVersion"])?) {
        return None;
    }
    let kind = doc.text(&["kind"])?;
    let spec = match kind {
        "ExternalSecret" => doc.get("spec")?,
        "ClusterExternalSecret" => doc.at(&["spec", "externalSecretSpec"])?,
        _ => return None,
    };
    let default_store = spec.text(&["secretStoreRef", "name"]);
    let mut stores = BTreeSet::new();
    let mut refs = Vec::new();
    let mut keep = |item: &Tree, field: String, remote: Option<&Tree>, extract: bool| {
        // A generator is no store; an item may name its own store.
        if item.at(&["sourceRef", "generatorRef"]).is_some() {
            return;
        }
        let Some(used) = item
            .text(&["sourceRef", "storeRef", "name"])
            .or(default_store)
        else {
            return;
        };
        stores.insert(used.to_owned());
        let Some(remote) = remote else { return };
        // `metadataPolicy: Fetch` reads metadata, not the data this check is about;
        // a key with `{{` is a template no Vault path can match.
        let key = remote.text(&["key"]).filter(|k| !k.contains("{{"));
        if used != store || remote.text(&["metadataPolicy"]) == Some("Fetch") {
            return;
        }
        if let Some(key) = key {
            refs.push(RemoteRef {
                field,
                line: remote.get("key").map_or(item.line, |k| k.line),
                key: key.to_owned(),
                property: remote.text(&["property"]).map(str::to_owned),
                version: remote.text(&["version"]).map(str::to_owned),
                extract,
            });
        }
    };
    for (i, item) in spec
        .get("data")
        .map(Tree::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        keep(item, format!("data[{i}]"), item.get("remoteRef"), false);
    }
    for (i, item) in spec
        .get("dataFrom")
        .map(Tree::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        // `find` searches by name or tags: no one key to check.
        keep(
            item,
            format!("dataFrom[{i}].extract"),
            item.get("extract"),
            true,
        );
    }
    let secret = ExternalSecret {
        kind: kind.to_owned(),
        namespace: doc.text(&["metadata", "namespace"]).map(str::to_owned),
        name: doc
            .text(&["metadata", "name"])
            .unwrap_or("(unnamed)")
            .to_owned(),
        file: None,
        line: doc.line,
        refs,
    };
    Some((secret, stores))
}

/// The Vault layout a SecretStore or ClusterSecretStore named `store` declares.
pub fn store_layout(doc: &Tree, store: &str) -> Option<Layout> {
    if !VERSIONS.contains(&doc.text(&["apiVersion"])?)
        || !matches!(doc.text(&["kind"])?, "SecretStore" | "ClusterSecretStore")
        || doc.text(&["metadata", "name"]) != Some(store)
    {
        return None;
    }
    let vault = doc.at(&["spec", "provider", "vault"])?;
    Some(Layout {
        mount: vault
            .text(&["path"])
            .map(|p| p.trim_matches('/').to_owned())
            .filter(|p| !p.is_empty()),
        v2: vault.text(&["version"]) != Some("v1"),
    })
}

#[cfg(test)]
mod tests {
    use super::super::yaml::documents;
    use super::*;

    const ES: &str = r#"apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: web, namespace: prod}
spec:
  secretStoreRef: {name: vault-backend, kind: ClusterSecretStore}
  data:
    - secretKey: password
      remoteRef:
        key: web/db
        property: password
    - secretKey: other
      remoteRef: {key: x}
      sourceRef: {storeRef: {name: aws}}
    - secretKey: meta
      remoteRef: {key: web/db, metadataPolicy: Fetch}
    - secretKey: gen
      sourceRef: {generatorRef: {kind: Password, name: p}}
  dataFrom:
    - extract: {key: web/config, version: "3"}
    - find: {name: {regexp: ".*"}}
"#;

    #[test]
    fn refs_of_the_store_are_kept_with_their_lines() {
        let doc = &documents(ES).unwrap()[0];
        let (es, stores) = external_secret(doc, "vault-backend").unwrap();
        assert_eq!(es.title(), "ExternalSecret prod/web");
        assert_eq!(es.line, 1);
        assert_eq!(
            stores,
            BTreeSet::from(["aws".to_owned(), "vault-backend".to_owned()])
        );
        assert_eq!(es.refs.len(), 2, "{:?}", es.refs);
        assert_eq!(es.refs[0].field, "data[0]");
        assert_eq!(es.refs[0].line, 9);
        assert_eq!(es.refs[0].property.as_deref(), Some("password"));
        assert_eq!(es.refs[1].field, "dataFrom[0].extract");
        assert_eq!(es.refs[1].version.as_deref(), Some("3"));
        assert!(es.refs[1].extract);
    }

    #[test]
    fn cluster_external_secrets_and_stores_are_read() {
        let text = "apiVersion: external-secrets.io/v1beta1\nkind: ClusterExternalSecret\nmetadata: {name: shared}\nspec:\n  externalSecretSpec:\n    secretStoreRef: {name: s}\n    data: [{secretKey: a, remoteRef: {key: k}}]\n---\napiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: s}\nspec: {provider: {vault: {path: /kv/, version: v1}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n";
        let docs = documents(text).unwrap();
        let (es, _) = external_secret(&docs[0], "s").unwrap();
        assert_eq!(es.title(), "ClusterExternalSecret shared");
        assert_eq!(es.refs[0].key, "k");
        let layout = store_layout(&docs[1], "s").unwrap();
        assert_eq!(
            layout,
            Layout {
                mount: Some("kv".into()),
                v2: false
            }
        );
        assert!(external_secret(&docs[2], "s").is_none());
        assert!(store_layout(&docs[1], "other").is_none());
    }
}
