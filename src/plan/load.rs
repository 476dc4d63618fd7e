//! Plan files → one merged, interpolated, typed plan.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::PlanError;
use super::model::Plan;
use super::node::{self, Key, Loc, Node, Value};
use crate::sources::{source_of, Source};

/// The typed plan plus where each of its objects was declared.
pub struct LoadedPlan {
    pub plan: Plan,
    /// Key path (joined by `SEP`) → location, for the first `INDEX_DEPTH`
    /// levels: every object of the plan sits within them.
    locations: HashMap<String, Loc>,
}

const SEP: char = '\u{1f}';
const INDEX_DEPTH: usize = 5;

fn index(node: &Node, prefix: &mut String, depth: usize, out: &mut HashMap<String, Loc>) {
    if depth == INDEX_DEPTH {
        return;
    }
    let children: Vec<(String, &Loc, &Node)> = match &node.value {
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.name.clone(), &k.loc, v))
            .collect(),
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), &v.loc, v))
            .collect(),
        _ => return,
    };
    for (name, loc, child) in children {
        let len = prefix.len();
        if depth > 0 {
            prefix.push(SEP);
        }
        prefix.push_str(&name);
        out.insert(prefix.clone(), loc.clone());
        index(child, prefix, depth + 1, out);
        prefix.truncate(len);
    }
}

impl LoadedPlan {
    /// Where the object at `path` (e.g. `["policies", "app"]`) was declared:
    /// the location of its key, or of its item in a sequence.
    pub fn loc(&self, path: &[&str]) -> Option<Loc> {
        let key: String = path.join(&SEP.to_string());
        self.locations.get(&key).cloned()
    }
}

/// Whether `env`/`file` sources must exist now. They must when the plan is
/// applied; `validate`, `policy` and `rbac` may run where only the job's pod
/// has them (a projected token, an injected password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalSources {
    MustExist,
    MayBeAbsent,
}

/// Reads, merges (later files win), interpolates and type-checks the plan files.
pub fn load(files: &[PathBuf]) -> Result<LoadedPlan, PlanError> {
    load_with(files, LocalSources::MustExist)
}

pub fn load_with(files: &[PathBuf], sources: LocalSources) -> Result<LoadedPlan, PlanError> {
    let mut merged: Option<Node> = None;
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
            path: path.clone(),
            source,
        })?;
        let file: Arc<str> = Arc::from(path.display().to_string());
        let doc = node::parse(&file, &text).map_err(|e| yaml_error(&file, &e))?;
        merged = Some(match merged {
            None => doc,
            Some(base) => merge(base, doc),
        });
    }
    let mut root = merged.ok_or(PlanError::NoFiles)?;
    interpolate_tree(&mut root)?;
    let mut path = Vec::new();
    prepare(&mut root, &mut path, sources)?;
    let plan = typed(&root)?;
    let mut locations = HashMap::new();
    index(&root, &mut String::new(), 0, &mut locations);
    Ok(LoadedPlan { plan, locations })
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

/// Overlay semantics: a map merges key by key, `null` removes a key, anything else replaces.
fn merge(base: Node, overlay: Node) -> Node {
    match (base.value, overlay.value) {
        (Value::Map(mut entries), Value::Map(over)) => {
            for (key, value) in over {
                let existing = entries.iter().position(|(k, _)| k.name == key.name);
                match (existing, &value.value) {
                    (Some(i), Value::Null) => {
                        entries.remove(i);
                    }
                    (None, Value::Null) => {}
                    (Some(i), _) => {
                        let (old_key, old) = entries.remove(i);
                        let merged = merge(old, value);
                        entries.insert(
                            i,
                            (
                                Key {
                                    loc: key.loc,
                                    ..old_key
                                },
                                merged,
                            ),
                        );
                    }
                    (None, _) => entries.push((key, value)),
                }
            }
            Node {
                value: Value::Map(entries),
                loc: base.loc,
            }
        }
        (_, value) => Node {
            value,
            loc: overlay.loc,
        },
    }
}

/// Expands `${VAR}` in every string, source arguments included.
fn interpolate_tree(node: &mut Node) -> Result<(), PlanError> {
    match &mut node.value {
        Value::Str(s) => *s = interpolate(s, &node.loc)?,
        Value::Seq(items) => items.iter_mut().try_for_each(interpolate_tree)?,
        Value::Map(entries) => entries
            .iter_mut()
            .try_for_each(|(_, value)| interpolate_tree(value))?,
        _ => {}
    }
    Ok(())
}

/// Checks that `env`/`file` sources exist and makes `file` paths absolute
/// relative to the file that declared them.
fn prepare(
    node: &mut Node,
    path: &mut Vec<String>,
    sources: LocalSources,
) -> Result<(), PlanError> {
    let must_exist = sources == LocalSources::MustExist;
    let json = node.to_json();
    match source_of(&json) {
        Ok(Some(Source::Env(name))) => {
            if must_exist && std::env::var_os(&name).is_none() {
                return Err(PlanError::MissingEnv {
                    loc: node.loc.clone(),
                    path: path.join("."),
                    name,
                });
            }
            return Ok(());
        }
        Ok(Some(Source::File(file))) => {
            let absolute = relative_to(&node.loc.file, &file);
            if let (true, Err(e)) = (must_exist, std::fs::metadata(&absolute)) {
                return Err(PlanError::MissingFile {
                    loc: node.loc.clone(),
                    path: path.join("."),
                    file: absolute.display().to_string(),
                    reason: e.to_string(),
                });
            }
            if let Value::Map(entries) = &mut node.value {
                entries[0].1.value = Value::Str(absolute.display().to_string());
            }
            return Ok(());
        }
        Ok(Some(_)) => return Ok(()),
        Err(message) => {
            return Err(PlanError::Field {
                loc: node.loc.clone(),
                path: path.join("."),
                message,
            })
        }
        Ok(None) => {}
    }
    match &mut node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                prepare(item, path, sources)?;
                path.pop();
            }
        }
        Value::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                path.push(key.name.clone());
                prepare(value, path, sources)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

fn relative_to(declaring_file: &str, file: &str) -> PathBuf {
    let file = Path::new(file);
    if file.is_absolute() {
        return file.to_owned();
    }
    Path::new(declaring_file)
        .parent()
        .unwrap_or(Path::new("."))
        .join(file)
}

/// `${NAME}` → the variable's value; `$${` stays a literal `${`.
fn interpolate(text: &str, loc: &Loc) -> Result<String, PlanError> {
    if !text.contains("${") {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if rest[..start].ends_with('$') {
            out.push_str(&rest[..start - 1]);
            out.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| PlanError::MissingVariable {
            loc: loc.clone(),
            name: name.to_owned(),
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn typed(root: &Node) -> Result<Plan, PlanError> {
    let json = root.to_json();
    serde_path_to_error::deserialize::<_, Plan>(json).map_err(|err| {
        let segments: Vec<String> = err
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let message = err.inner().to_string();
        let loc = locate(root, &segments, &message);
        PlanError::Field {
            loc,
            path: if segments.is_empty() {
                "(top level)".to_owned()
            } else {
                segments.join(".")
            },
            message,
        }
    })
}

/// The deepest node on `path`; for an unknown field, the offending key itself.
fn locate(root: &Node, path: &[String], message: &str) -> Loc {
    let unknown_field = message.starts_with("unknown field");
    let mut node = root;
    let mut loc = root.loc.clone();
    for segment in path {
        let next = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| &k.name == segment)
                .map(|(k, v)| (k.loc.clone(), v)),
            Value::Seq(items) => segment
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|n| (n.loc.clone(), n)),
            _ => None,
        };
        let Some((key_loc, child)) = next else { break };
        node = child;
        loc = if unknown_field || matches!(child.value, Value::Map(_)) {
            key_loc
        } else {
            child.loc.clone()
        };
    }
    loc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
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
    fn interpolation_and_missing_variables() {
        std::env::set_var("VC_TEST_HOST", "db.example");
        let loc = Loc {
            file: Arc::from("f.yaml"),
            line: 3,
            column: 7,
        };
        assert_eq!(
            interpolate("postgres://${VC_TEST_HOST}:5432 $${literal}", &loc).unwrap(),
            "postgres://db.example:5432 ${literal}"
        );
        let err = interpolate("${VC_TEST_UNSET_VARIABLE}", &loc).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("f.yaml:3:7"), "{text}");
        assert!(text.contains("VC_TEST_UNSET_VARIABLE"), "{text}");
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
}
