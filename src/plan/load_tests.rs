//! Loading plan files: merge, directories, locations, errors.

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
fn locations_outlive_the_consumed_tree() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        dir.path(),
        "p.yaml",
        "version: 1\nauth:\n  kubernetes:\n    type: kubernetes\n    roles:\n      api:\n        token_policies: [a, b]\n",
    );
    let loaded = load(&[plan]).unwrap();
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
