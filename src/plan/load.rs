//! Plan files and directories → one merged, interpolated, typed plan.

use std::cell::OnceCell;
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
    /// What the checks that walk the tree found before the typed plan
    /// consumed it.
    pub(crate) findings: TreeFindings,
    /// The merged tree, read again only when an error needs a location the
    /// index does not keep (e.g. where a policy's inline text starts).
    tree: OnceCell<Node>,
    files: Vec<PathBuf>,
    options: LoadOptions,
    /// The limit `file:` sources were loaded with; policy files read later keep it.
    pub max_source_bytes: u64,
}

/// Findings of the tree walks, kept for `validate` and its warnings.
#[derive(Debug, Default)]
pub(crate) struct TreeFindings {
    /// A `generate` source outside kv fixture data: where, and its path.
    pub generate_outside_kv: Option<(Loc, String)>,
    /// Literal secrets too short to scrub reliably.
    pub short_secrets: Vec<String>,
}

impl LoadedPlan {
    /// Where the object at `path` (e.g. `["policies", "app"]`) was declared:
    /// the location of its key, or of its item in a sequence. Any depth.
    pub fn loc(&self, path: &[&str]) -> Option<Loc> {
        self.index.loc(path)
    }

    /// Where the key a `PathKey` names was declared.
    pub fn loc_of(&self, key: super::PathKey) -> Option<Loc> {
        self.index.loc_of(key)
    }

    /// Where the (first) plan document starts: for errors about the plan
    /// as a whole.
    pub fn root_loc(&self) -> Loc {
        self.index.root().clone()
    }

    /// The merged, interpolated tree the typed plan was made from. The
    /// typed plan consumed it, so it is read again from the files (once):
    /// only error paths need it.
    pub fn tree(&self) -> &Node {
        self.tree.get_or_init(|| {
            merged_tree(&self.files, self.options).unwrap_or_else(|_| Node {
                value: node::Value::Null,
                loc: self.root_loc(),
            })
        })
    }
}

/// Reads, merges (later files win), interpolates and type-checks the plan files.
pub fn load(files: &[PathBuf]) -> Result<LoadedPlan, PlanError> {
    load_with(files, LocalSources::MustExist)
}

/// `options`: a `LocalSources` alone means the default `file:` size limit.
///
/// The tree is walked (locations, checks) and then consumed by the typed
/// plan, so a large plan is not held twice.
pub fn load_with(
    files: &[PathBuf],
    options: impl Into<LoadOptions>,
) -> Result<LoadedPlan, PlanError> {
    let options = options.into();
    let files = expand(files)?;
    let root = merged_tree(&files, options)?;
    let (index, findings) = index_and_findings(&root);
    // A type error needs the tree to point at its line: read it again.
    let plan = typed::typed(root, || merged_tree(&files, options).ok())?;
    Ok(LoadedPlan {
        plan,
        index,
        findings,
        tree: OnceCell::new(),
        files,
        options,
        max_source_bytes: options.max_source_bytes,
    })
}

/// The location index and the tree walks' findings, on two threads (each
/// takes 10–15 ms at 10,000 objects).
fn index_and_findings(root: &Node) -> (Index, TreeFindings) {
    let findings = || TreeFindings {
        generate_outside_kv: super::validate::generate_outside_kv(root),
        short_secrets: super::warnings::short_secrets_in(root),
    };
    let (findings, index) = super::parallel::both(findings, || Index::build(root));
    (index, findings)
}

/// The files read, merged, interpolated and with local sources prepared.
fn merged_tree(files: &[PathBuf], options: LoadOptions) -> Result<Node, PlanError> {
    let mut merged: Option<Node> = None;
    for path in files {
        let doc = read_doc(path)?;
        merged = Some(match merged {
            None => doc,
            Some(base) => merge::merge(base, doc),
        });
    }
    let mut root = merged.ok_or(PlanError::NoFiles)?;
    interpolate::interpolate_tree(&mut root)?;
    local::prepare(&mut root, &mut Vec::new(), options)?;
    Ok(root)
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
#[path = "load_tests.rs"]
mod tests;
