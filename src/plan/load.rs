//! Plan files and directories → one merged, interpolated, typed plan.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::PlanError;
use super::index::Index;
pub use super::local::{LoadOptions, LocalSources};
use super::model::Plan;
use super::node::{self, Loc, Node};
use super::{interpolate, local, merge, typed};

/// The typed plan plus where each of its objects was declared.
pub struct LoadedPlan {
    pub plan: Plan,
    index: Index,
    /// The merged tree, for the checks that walk it; dropped after them.
    tree: Node,
    /// The limit `file:` sources were loaded with; policy files read later keep it.
    pub max_source_bytes: u64,
}

impl LoadedPlan {
    /// Where the object at `path` (e.g. `["policies", "app"]`) was declared:
    /// the location of its key, or of its item in a sequence. Any depth.
    pub fn loc(&self, path: &[&str]) -> Option<Loc> {
        self.index.loc(path)
    }

    /// Where the (first) plan document starts: for errors about the plan
    /// as a whole.
    pub fn root_loc(&self) -> Loc {
        self.index.root().clone()
    }

    /// The merged, interpolated tree the typed plan was made from; an empty
    /// document after `release_tree`.
    pub fn tree(&self) -> &Node {
        &self.tree
    }

    /// Frees the tree once the checks that walk it have run: on a plan of
    /// tens of thousands of objects it is the largest part of the plan in
    /// memory, and locations stay available through `loc`.
    pub fn release_tree(&mut self) {
        self.tree = Node {
            value: node::Value::Null,
            loc: self.index.root().clone(),
        };
    }
}

/// Reads, merges (later files win), interpolates and type-checks the plan files.
pub fn load(files: &[PathBuf]) -> Result<LoadedPlan, PlanError> {
    load_with(files, LocalSources::MustExist)
}

/// `options`: a `LocalSources` alone means the default `file:` size limit.
pub fn load_with(
    files: &[PathBuf],
    options: impl Into<LoadOptions>,
) -> Result<LoadedPlan, PlanError> {
    let options = options.into();
    let mut merged: Option<Node> = None;
    for path in expand(files)? {
        let doc = read_doc(&path)?;
        merged = Some(match merged {
            None => doc,
            Some(base) => merge::merge(base, doc),
        });
    }
    let mut root = merged.ok_or(PlanError::NoFiles)?;
    interpolate::interpolate_tree(&mut root)?;
    local::prepare(&mut root, &mut Vec::new(), options)?;
    let plan = typed::typed(&root)?;
    Ok(LoadedPlan {
        plan,
        index: Index::build(&root),
        tree: root,
        max_source_bytes: options.max_source_bytes,
    })
}

/// `-f DIR` stands for the directory's `*.yaml`/`*.yml` files in name order.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PlanError> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        if path.is_dir() {
            let found = plan_files_in(path)?;
            if found.is_empty() {
                return Err(PlanError::EmptyDir { path: path.clone() });
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Not recursive; hidden files are skipped like a shell's `*.yaml` would, which
/// also skips the `..data` links of a mounted ConfigMap.
fn plan_files_in(dir: &Path) -> Result<Vec<PathBuf>, PlanError> {
    let read_error = |source| PlanError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        if yaml && !name.starts_with('.') && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn read_doc(path: &Path) -> Result<Node, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file: Arc<str> = Arc::from(path.display().to_string());
    node::parse(&file, &text).map_err(|e| match e {
        node::ParseError::Yaml(e) => yaml_error(&file, &e),
        node::ParseError::Number { loc, message } => PlanError::Yaml {
            file: loc.file.to_string(),
            line: loc.line.into(),
            column: loc.column.into(),
            message,
        },
    })
}

fn yaml_error(file: &str, err: &serde_saphyr::Error) -> PlanError {
    let options = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
    let message = err.render_with_options(options);
    let (line, column) = err
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    PlanError::Yaml {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn overlays_merge_maps_replace_leaves_and_remove_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let base = write(
            dir.path(),
            "base.yaml",
            "version: 1\nmounts:\n  app: {type: kv, description: base}\n  old: {type: kv}\npolicies:\n  p: 'path \"a\" {}'\n",
        );
        let prod = write(
            dir.path(),
            "prod.yaml",
            "mounts:\n  app: {description: prod}\n  old: null\n",
        );
        let loaded = load(&[base, prod]).unwrap();
        let app = &loaded.plan.mounts["app"];
        assert_eq!(app.kind, "kv");
        assert_eq!(app.description.as_deref(), Some("prod"));
        assert!(!loaded.plan.mounts.contains_key("old"));
        let loc = loaded.loc(&["mounts", "app"]).unwrap();
        assert!(loc.file.ends_with("prod.yaml"), "{loc}");
    }

    #[test]
    fn a_directory_loads_its_yaml_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let plans = dir.path().join("plan.d");
        std::fs::create_dir(&plans).unwrap();
        write(
            &plans,
            "20-kv.yaml",
            "mounts:\n  app: {type: kv, description: later}\n",
        );
        write(
            &plans,
            "10-mounts.yml",
            "version: 1\nmounts:\n  app: {type: kv, description: first}\n",
        );
        write(&plans, "30-notes.txt", "not: [yaml");
        write(&plans, ".hidden.yaml", "not: [yaml");
        std::fs::create_dir(plans.join("sub.yaml")).unwrap();
        let loaded = load(std::slice::from_ref(&plans)).unwrap();
        assert_eq!(
            loaded.plan.mounts["app"].description.as_deref(),
            Some("later")
        );
        let loc = loaded.loc(&["mounts", "app"]).unwrap();
        assert!(loc.file.ends_with("20-kv.yaml"), "{loc}");

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        write(&empty, "README.md", "nothing here");
        let err = load(&[empty]).err().unwrap();
        assert!(matches!(err, PlanError::EmptyDir { .. }), "{err}");
        assert!(err.to_string().contains("*.yaml"), "{err}");
    }

    #[test]
    fn objects_and_their_fields_are_located_at_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        let plan = write(
            dir.path(),
            "p.yaml",
            "version: 1\nauth:\n  kubernetes:\n    type: kubernetes\n    roles:\n      api:\n        token_tll: 1h\n\
             databases:\n  database:\n    static_roles:\n      x:\n        password_policy: p\n\
             writes:\n  - path: a/b\n    data:\n      field: {deep: [0, 1]}\n",
        );
        let loaded = load(&[plan]).unwrap();
        let line = |path: &[&str]| loaded.loc(path).map(|l| l.line);
        assert_eq!(
            line(&["auth", "kubernetes", "roles", "api", "token_tll"]),
            Some(7)
        );
        let static_role = [
            "databases",
            "database",
            "static_roles",
            "x",
            "password_policy",
        ];
        assert_eq!(line(&static_role), Some(12));
        assert_eq!(line(&["writes", "0", "data", "field"]), Some(16));
        assert_eq!(
            line(&["writes", "0", "data", "field", "deep", "1"]),
            Some(16)
        );
        assert_eq!(line(&["writes", "0", "data", "nope"]), None);
    }

    #[test]
    fn locations_outlive_the_released_tree() {
        let dir = tempfile::tempdir().unwrap();
        let plan = write(
            dir.path(),
            "p.yaml",
            "version: 1\nauth:\n  kubernetes:\n    type: kubernetes\n    roles:\n      api:\n        token_policies: [a, b]\n",
        );
        let mut loaded = load(&[plan]).unwrap();
        loaded.release_tree();
        assert!(matches!(loaded.tree().value, node::Value::Null));
        let item = loaded.loc(&["auth", "kubernetes", "roles", "api", "token_policies", "1"]);
        assert_eq!(item.map(|l| (l.line, l.column)), Some((7, 29)));
        assert_eq!(loaded.loc(&["auth", "kubernetes", "roles", "nope"]), None);
        assert_eq!(loaded.root_loc().line, 1);
    }

    #[test]
    fn unknown_field_points_at_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let plan = write(
            dir.path(),
            "p.yaml",
            "version: 1\nmounts:\n  app:\n    type: kv\n    descripton: typo\n",
        );
        let err = load(&[plan]).err().unwrap();
        let text = err.to_string();
        assert!(text.contains("p.yaml:5:5"), "{text}");
        assert!(text.contains("mounts.app"), "{text}");
        assert!(text.contains("descripton"), "{text}");
    }

    #[test]
    fn wrong_type_names_the_field_path() {
        let dir = tempfile::tempdir().unwrap();
        let plan = write(
            dir.path(),
            "p.yaml",
            "version: 1\nkv:\n  app:\n    a/b:\n      mode: sometimes\n      data: {}\n",
        );
        let text = load(&[plan]).err().unwrap().to_string();
        assert!(text.contains("p.yaml:5:"), "{text}");
        assert!(text.contains("kv.app.a/b.mode"), "{text}");
    }

    #[test]
    fn file_sources_resolve_relative_to_their_plan() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ops.hcl", "path \"x\" {}\n");
        let plan = write(
            dir.path(),
            "p.yaml",
            "version: 1\npolicies:\n  ops: {file: ops.hcl}\n  gone: {file: nope.hcl}\n",
        );
        let text = load(&[plan]).err().unwrap().to_string();
        assert!(text.contains("p.yaml:4:"), "{text}");
        assert!(text.contains("nope.hcl"), "{text}");
    }

    #[test]
    fn an_overlay_source_replaces_the_base_source() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "pw.txt", "from-file");
        let base = write(
            dir.path(),
            "base.yaml",
            "version: 1\nkv:\n  app:\n    db:\n      data: {password: {env: VC_T_UNSET_PW}}\n",
        );
        let prod = write(
            dir.path(),
            "prod.yaml",
            "kv:\n  app:\n    db:\n      data: {password: {file: pw.txt}}\n",
        );
        let loaded = load(&[base, prod]).unwrap();
        let value = &loaded.plan.kv["app"]["db"].data["password"];
        let expected = dir.path().join("pw.txt").display().to_string();
        assert_eq!(value, &serde_json::json!({ "file": expected }));
    }
}
