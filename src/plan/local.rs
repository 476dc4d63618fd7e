//! Local value sources (`env`, `file`): checked at load time, and `file`
//! paths made absolute relative to the plan file that declared them.

use std::path::{Path, PathBuf};

use super::error::PlanError;
use super::node::{Node, Value};
use crate::sources::{source_of, Source};

/// Whether `env`/`file` sources must exist now. They must when the plan is
/// applied; `validate`, `policy` and `rbac` may run where only the job's pod
/// has them (a projected token, an injected password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalSources {
    MustExist,
    MayBeAbsent,
}

/// Checks every source's arguments, that `env`/`file` sources exist (when
/// they must), and resolves `file` paths.
pub fn prepare(
    node: &mut Node,
    path: &mut Vec<String>,
    sources: LocalSources,
) -> Result<(), PlanError> {
    if node.source_kind().is_some() {
        return prepare_source(node, path, sources);
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

fn prepare_source(
    node: &mut Node,
    path: &[String],
    sources: LocalSources,
) -> Result<(), PlanError> {
    let must_exist = sources == LocalSources::MustExist;
    // Only a source (a small map) is converted, never a whole subtree.
    match source_of(&node.to_json()) {
        Ok(Some(Source::Env(name))) => {
            if must_exist && std::env::var_os(&name).is_none() {
                return Err(PlanError::MissingEnv {
                    loc: node.loc.clone(),
                    path: path.join("."),
                    name,
                });
            }
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
        }
        Ok(_) => {}
        Err(message) => {
            return Err(PlanError::Field {
                loc: node.loc.clone(),
                path: path.join("."),
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
        prepare(&mut root, &mut Vec::new(), LocalSources::MayBeAbsent).unwrap();
        let expected = dir.path().join("pw.txt").display().to_string();
        assert_eq!(root.to_json()["a"]["file"], expected.as_str());

        let err = prepare(&mut root, &mut Vec::new(), LocalSources::MustExist).unwrap_err();
        assert!(err.to_string().contains("b.0"), "{err}");

        let mut bad =
            super::super::node::parse(&Arc::from("p.yaml"), "x:\n  y: {generate: {length: 0}}\n")
                .unwrap();
        let err = prepare(&mut bad, &mut Vec::new(), LocalSources::MayBeAbsent).unwrap_err();
        assert!(err.to_string().starts_with("p.yaml:2:"), "{err}");
    }
}
