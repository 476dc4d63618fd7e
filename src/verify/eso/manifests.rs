//! ExternalSecret manifests from a file or a directory tree (Kustomize
//! style: every `*.yaml`/`*.yml` but `kustomization.yaml`, walked in name
//! order). Helm templates are not rendered: a file that only makes sense
//! after `helm template` is skipped with a warning.

use std::path::{Path, PathBuf};

use super::refs::{external_secret, store_layout};
use super::yaml::documents;
use super::Gathered;

/// Reads every manifest under `root` (a file or a directory).
pub fn read(root: &Path, store: &str, max_bytes: u64) -> Result<Gathered, String> {
    let meta = std::fs::metadata(root)
        .map_err(|e| format!("cannot read the manifests at {}: {e}", root.display()))?;
    let files = if meta.is_dir() {
        let mut files = Vec::new();
        walk(root, &mut files).map_err(|e| format!("cannot walk {}: {e}", root.display()))?;
        files
    } else {
        vec![root.to_owned()]
    };
    let mut gathered = Gathered::default();
    let mut templates = Vec::new();
    for file in &files {
        let shown = file.display().to_string();
        let text = match read_text(file, max_bytes) {
            Ok(text) => text,
            Err(problem) => {
                gathered.problems.push(format!("{shown}: {problem}"));
                continue;
            }
        };
        if is_helm_template(&text) {
            templates.push(shown);
            continue;
        }
        let docs = match documents(&text) {
            Ok(docs) => docs,
            // A Go template that is no YAML: Helm's or another generator's.
            Err(_) if text.contains("{{") => {
                templates.push(shown);
                continue;
            }
            Err(e) => {
                gathered.problems.push(format!("{shown}: not YAML: {e}"));
                continue;
            }
        };
        for doc in &docs {
            if let Some(layout) = store_layout(doc, store) {
                gathered.layout.get_or_insert(layout);
            }
            if let Some((mut secret, stores)) = external_secret(doc, store) {
                gathered.seen += 1;
                gathered.stores.extend(stores.iter().cloned());
                if stores.contains(store) {
                    secret.file = Some(shown.clone());
                    gathered.secrets.push(secret);
                }
            }
        }
    }
    if let Some(first) = templates.first() {
        tracing::warn!(
            skipped = templates.len(),
            first = %first,
            "external_secrets: Helm templates are not rendered; render them (helm template) into the manifests directory to check them"
        );
    }
    Ok(gathered)
}

/// The files under `dir`, sorted, recursively; hidden entries and
/// symlinked directories (loops) are left out.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if is_manifest(&name) && path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn is_manifest(name: &str) -> bool {
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    let kustomization = matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    );
    yaml && !kustomization
}

/// ESO's own `target.template` holds `{{ .key }}` too: only Helm's
/// objects mark a file as a chart template.
fn is_helm_template(text: &str) -> bool {
    text.contains("{{")
        && [
            ".Values.",
            ".Release.",
            ".Chart.",
            "{{- if",
            "{{ if",
            "include \"",
        ]
        .iter()
        .any(|marker| text.contains(marker))
}

fn read_text(file: &Path, max_bytes: u64) -> Result<String, String> {
    let meta = std::fs::metadata(file).map_err(|e| format!("cannot be read: {e}"))?;
    if meta.len() > max_bytes {
        return Err(format!(
            "is larger than {max_bytes} bytes (VAULT_CONVERGE_MAX_SOURCE_BYTES)"
        ));
    }
    std::fs::read_to_string(file).map_err(|e| format!("cannot be read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::super::mapping::Layout;
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const ES: &str = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: NAME}\nspec:\n  secretStoreRef: {name: STORE}\n  target:\n    template:\n      data: {url: \"{{ .user }}@db\"}\n  data: [{secretKey: a, remoteRef: {key: k}}]\n";

    #[test]
    fn a_tree_is_walked_and_other_files_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let es = |name: &str, store: &str| ES.replace("NAME", name).replace("STORE", store);
        write(
            dir.path(),
            "b/app.yaml",
            &format!("{}---\n{}", es("one", "s"), es("two", "t")),
        );
        write(dir.path(), "a.yml", &es("zero", "s"));
        write(dir.path(), "kustomization.yaml", "resources: [a.yml]\n");
        write(dir.path(), ".git/x.yaml", &es("hidden", "s"));
        write(dir.path(), "notes.txt", &es("text", "s"));
        write(
            dir.path(),
            "chart/templates/es.yaml",
            &format!(
                "{{{{- if .Values.on }}}}\n{}{{{{- end }}}}\n",
                es("helm", "s")
            ),
        );
        write(dir.path(), "store.yaml", "apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: s}\nspec: {provider: {vault: {path: kv, version: v1}}}\n");
        let got = read(dir.path(), "s", 1 << 20).unwrap();
        let names: Vec<&str> = got.secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["zero", "one"]);
        assert_eq!(got.seen, 3);
        assert!(got.problems.is_empty(), "{:?}", got.problems);
        assert!(got.secrets[1]
            .file
            .as_deref()
            .unwrap()
            .ends_with("b/app.yaml"));
        assert_eq!(got.secrets[1].line, 1);
        assert_eq!(
            got.layout_with(None, None),
            Layout {
                mount: Some("kv".into()),
                v2: false
            }
        );
        assert_eq!(
            got.layout_with(Some("m"), Some(2)),
            Layout {
                mount: Some("m".into()),
                v2: true
            }
        );
    }

    #[test]
    fn a_broken_file_is_a_problem_and_a_missing_root_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bad.yaml", "a: [\n");
        let got = read(dir.path(), "s", 1 << 20).unwrap();
        assert_eq!(got.problems.len(), 1);
        assert!(got.problems[0].contains("bad.yaml"), "{:?}", got.problems);
        assert!(read(&dir.path().join("nope"), "s", 1 << 20).is_err());
    }
}
