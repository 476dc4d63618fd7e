//! The export as YAML: one plan, or a directory of drop-in files (one per
//! section, each a valid partial plan), each headed by the environment
//! variables it reads.

use std::fmt::Write as _;

use serde_json::{Map, Value as Json};

use super::{Export, Placeholder};

fn header(export: &Export, placeholders: &[&Placeholder], skipped: &[String]) -> String {
    let mut out = format!(
        "# Exported from {} by `vault-converge export`: `plan` finds this unchanged\n\
         # against that server. Defaults the server filled in are left out.\n",
        export.addr
    );
    if !placeholders.is_empty() {
        out.push_str(
            "#\n# Secret and write-only values are never exported: set these environment\n\
             # variables before `apply` (and before `plan`, for KV fixtures).\n",
        );
        let width = placeholders.iter().map(|p| p.env.len()).max().unwrap_or(0);
        for p in placeholders {
            let _ = writeln!(out, "#   {:width$}  {}", p.env, p.what);
        }
    }
    if !skipped.is_empty() {
        out.push_str("#\n# Not exported:\n");
        for s in skipped {
            let _ = writeln!(out, "#   {s}");
        }
    }
    out.push_str("version: 1\n");
    out
}

fn section_yaml(key: &str, value: &Json) -> String {
    let mut one = Map::new();
    one.insert(key.to_owned(), value.clone());
    // A plan-shaped JSON value always serializes; an error would be a bug
    // in the serializer, reported in place rather than as a panic.
    serde_saphyr::to_string(&Json::Object(one))
        .unwrap_or_else(|e| format!("# {key}: cannot be written as YAML ({e})\n"))
}

/// One plan on stdout.
pub fn render_single(export: &Export) -> String {
    let all: Vec<&Placeholder> = export.placeholders.iter().collect();
    let mut out = header(export, &all, &export.skipped);
    for (key, value) in &export.sections {
        out.push('\n');
        out.push_str(&section_yaml(key, value));
    }
    out
}

/// `NN-<section>.yaml` drop-in files, in plan order.
pub fn render_dir(export: &Export) -> Vec<(String, String)> {
    export
        .sections
        .iter()
        .enumerate()
        .map(|(i, (key, value))| {
            let mine: Vec<&Placeholder> = export
                .placeholders
                .iter()
                .filter(|p| p.section == *key)
                .collect();
            let skipped = if i == 0 {
                export.skipped.as_slice()
            } else {
                &[]
            };
            let text = header(export, &mine, skipped) + "\n" + &section_yaml(key, value);
            (format!("{:02}-{key}.yaml", i + 1), text)
        })
        .collect()
}
