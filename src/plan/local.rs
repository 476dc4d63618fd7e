//! Local value sources (`env`, `file`): checked at load time, and `file`
//! paths made absolute relative to the plan file that declared them.

use std::path::{Path, PathBuf};

use super::error::PlanError;
use super::node::{dotted, Node, PathSegment, Value};
use crate::sources::resolve::file_problem;
use crate::sources::{source_of, Source, DEFAULT_MAX_FILE_BYTES};

/// Whether `env`/`file` sources must exist now. They must when the plan is
/// applied; `validate`, `policy` and `rbac` may run where only the job's pod
/// has them (a projected token, an injected password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalSources {
    MustExist,
    MayBeAbsent,
}

/// How a plan is loaded: whether local sources must exist, and the size
/// limit of `file:` sources (settings, VAULT_CONVERGE_MAX_SOURCE_BYTES).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    pub sources: LocalSources,
    pub max_source_bytes: u64,
}

impl From<LocalSources> for LoadOptions {
    fn from(sources: LocalSources) -> Self {
        LoadOptions {
            sources,
            max_source_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// Checks every source's arguments, that `env`/`file` sources exist (when
/// they must) and are usable files, and resolves `file` paths.
pub fn prepare<'a>(
    node: &'a mut Node,
    path: &mut Vec<PathSegment<'a>>,
    options: LoadOptions,
) -> Result<(), PlanError> {
    if node.source_kind().is_some() {
        return prepare_source(node, path, options);
    }
    match &mut node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(PathSegment::Index(i));
                prepare(item, path, options)?;
                path.pop();
            }
        }
        Value::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                path.push(PathSegment::Key(&key.name));
                prepare(value, path, options)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

fn prepare_source(
    node: &mut Node,
    path: &[PathSegment],
    options: LoadOptions,
) -> Result<(), PlanError> {
    let must_exist = options.sources == LocalSources::MustExist;
    // Only a source (a small map) is converted, never a whole subtree.
    match source_of(&node.to_json()) {
        Ok(Some(Source::Env(name))) => {
            if must_exist && std::env::var_os(&name).is_none() {
                return Err(PlanError::MissingEnv {
                    loc: node.loc.clone(),
                    path: dotted(path),
                    name,
                });
            }
        }
        Ok(Some(Source::File(file))) => {
            let absolute = relative_to(&node.loc.file, &file);
            // A file that exists must be usable even when it need not exist yet.
            let problem = match std::fs::metadata(&absolute) {
                Ok(meta) => file_problem(&meta, options.max_source_bytes),
                Err(e) if must_exist => Some(format!("cannot be read: {e}")),
                Err(_) => None,
            };
            if let Some(problem) = problem {
                return Err(PlanError::SourceFile {
                    loc: node.loc.clone(),
                    path: dotted(path),
                    file: absolute.display().to_string(),
                    problem,
                });
            }
            if let Value::Map(entries) = &mut node.value {
                entries[0].1.value = Value::Str(absolute.display().to_string());
            }
        }
        Ok(_) => {}
        Err(message) => {
            return Err(PlanError::Field {
                loc: node.loc.clone(),
                path: dotted(path),
                message,
            })
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn file_paths_become_absolute_and_bad_arguments_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw.txt"), "x").unwrap();
        let plan = dir.path().join("p.yaml").display().to_string();
        let mut root = super::super::node::parse(
            &Arc::from(plan.as_str()),
            "a: {file: pw.txt}\nb: [{env: VC_T_SURELY_UNSET}]\n",
        )
        .unwrap();
        prepare(&mut root, &mut Vec::new(), LocalSources::MayBeAbsent.into()).unwrap();
        let expected = dir.path().join("pw.txt").display().to_string();
        assert_eq!(root.to_json()["a"]["file"], expected.as_str());

        let err = prepare(&mut root, &mut Vec::new(), LocalSources::MustExist.into()).unwrap_err();
        assert!(err.to_string().contains("b.0"), "{err}");

        let mut bad =
            super::super::node::parse(&Arc::from("p.yaml"), "x:\n  y: {generate: {length: 0}}\n")
                .unwrap();
        let err = prepare(&mut bad, &mut Vec::new(), LocalSources::MayBeAbsent.into()).unwrap_err();
        assert!(err.to_string().starts_with("p.yaml:2:"), "{err}");
    }

    #[test]
    fn directories_and_files_over_the_limit_are_refused_even_when_optional() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("certs")).unwrap();
        std::fs::write(dir.path().join("big.txt"), "0123456789").unwrap();
        let plan = dir.path().join("p.yaml").display().to_string();
        let text = "a: {file: big.txt}\nb:\n  c: {file: certs}\n";
        let options = LoadOptions {
            sources: LocalSources::MayBeAbsent,
            max_source_bytes: 10,
        };
        let mut root = super::super::node::parse(&Arc::from(plan.as_str()), text).unwrap();
        let err = prepare(&mut root, &mut Vec::new(), options)
            .unwrap_err()
            .to_string();
        assert!(err.contains("p.yaml:3:6: b.c: file "), "{err}");
        assert!(err.contains("certs is a directory"), "{err}");

        let mut root = super::super::node::parse(&Arc::from(plan.as_str()), text).unwrap();
        let small = LoadOptions {
            max_source_bytes: 9,
            ..options
        };
        let err = prepare(&mut root, &mut Vec::new(), small)
            .unwrap_err()
            .to_string();
        assert!(err.contains("p.yaml:1:4: a: file "), "{err}");
        assert!(err.contains("is 10 bytes, over the 9-byte limit"), "{err}");
        assert!(err.contains("VAULT_CONVERGE_MAX_SOURCE_BYTES"), "{err}");
    }
}
