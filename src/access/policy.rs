//! The minimal Vault policy for the job's token (`vault-converge policy`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::paths;
use crate::plan::model::{Check, Plan, WriteMode};

/// Path → capabilities, merged.
#[derive(Default)]
pub(super) struct Grants(BTreeMap<String, BTreeSet<&'static str>>);

impl Grants {
    pub(super) fn add(&mut self, path: impl Into<String>, caps: &[&'static str]) {
        self.0.entry(path.into()).or_default().extend(caps);
    }

    /// A glob `X/*` granting `delete` (prune) also grants it on the exact
    /// paths under `X/` listed here: Vault takes the most specific path's
    /// capabilities, so a planned object's own entry would hide the glob's
    /// delete when a later plan drops that object.
    pub(super) fn spread_deletes(&mut self) {
        let prefixes: Vec<String> = self
            .0
            .iter()
            .filter(|(path, caps)| path.ends_with("/*") && caps.contains("delete"))
            .map(|(path, _)| path.trim_end_matches('*').to_owned())
            .collect();
        for (path, caps) in self.0.iter_mut() {
            let exact = !path.contains(['*', '+']);
            if exact && prefixes.iter().any(|p| path.starts_with(p.as_str())) {
                caps.insert("delete");
            }
        }
    }

    /// Puts every path granted so far under `prefix/`: a child namespace's
    /// paths, as a policy of the parent names them.
    pub(super) fn move_under(&mut self, prefix: &str) {
        let grants = std::mem::take(&mut self.0);
        self.0 = grants
            .into_iter()
            .map(|(path, caps)| (format!("{prefix}/{path}"), caps))
            .collect();
    }
}

pub(super) const RW: [&str; 3] = ["read", "create", "update"];

/// The HCL policy that lets a token converge and verify `plan`, and nothing more.
pub fn policy_hcl(plan: &Plan) -> String {
    let mut g = Grants::default();
    let trim = |p: &str| p.trim_matches('/').to_owned();
    // Planned fields are checked against the server's API description.
    g.add("sys/internal/specs/openapi", &["read"]);
    if !plan.mounts.is_empty() || !plan.kv.is_empty() {
        g.add("sys/mounts", &["read"]);
    }
    for path in plan.mounts.keys().map(|p| trim(p)) {
        g.add(format!("sys/mounts/{path}"), &RW);
        g.add(format!("sys/mounts/{path}/tune"), &["update"]);
    }
    super::auth::grants(plan, &mut g);
    if !plan.policies.is_empty() {
        g.add("sys/policies/acl", &["list"]);
    }
    for name in plan.policies.keys() {
        g.add(format!("sys/policies/acl/{}", name.to_lowercase()), &RW);
    }
    if !plan.password_policies.is_empty() {
        g.add("sys/policies/password", &["list"]);
    }
    for name in plan.password_policies.keys() {
        g.add(format!("sys/policies/password/{name}"), &RW);
        g.add(format!("sys/policies/password/{name}/generate"), &["read"]);
    }
    let once_actions = plan.writes.iter().any(|w| w.mode == WriteMode::Once)
        || plan
            .databases
            .values()
            .any(|db| db.connections.values().any(|c| c.rotate_root));
    if once_actions {
        // The registry keeps the once-only records; its mount is enabled on first use.
        let registry = &plan.vault.registry;
        let mount = trim(&registry.mount);
        g.add("sys/mounts", &["read"]);
        g.add(format!("sys/mounts/{mount}"), &RW);
        g.add(paths::kv::data(&mount, &registry.instance), &RW);
    }
    for (mount, db) in &plan.databases {
        let mount = trim(mount);
        if !db.connections.is_empty() {
            g.add(format!("{mount}/config"), &["list"]);
        }
        for (name, conn) in &db.connections {
            g.add(format!("{mount}/config/{name}"), &RW);
            if conn.rotate_root {
                g.add(format!("{mount}/rotate-root/{name}"), &["update"]);
            }
        }
        for (segment, roles) in [("roles", &db.roles), ("static-roles", &db.static_roles)] {
            if !roles.is_empty() {
                g.add(format!("{mount}/{segment}"), &["list"]);
            }
            for name in roles.keys() {
                g.add(format!("{mount}/{segment}/{name}"), &RW);
            }
        }
    }
    for (mount, fixtures) in &plan.kv {
        let mount = trim(mount);
        // KV v1 keeps secrets at the mount's top; `type: kv` without a version is v1.
        let v1 = plan.mounts.get(&mount).is_some_and(|m| {
            m.kind == "kv"
                && m.options
                    .get("version")
                    .is_none_or(|v| v.to_string().trim_matches('"') == "1")
        });
        let (list, data) = if v1 {
            (mount.clone(), mount.clone())
        } else {
            (format!("{mount}/metadata"), format!("{mount}/data"))
        };
        // One LIST of the mount's top level tells which fixtures exist (Context::kv_exists).
        if !fixtures.is_empty() {
            g.add(list, &["list"]);
        }
        for path in fixtures.keys().map(|p| trim(p)) {
            g.add(format!("{data}/{path}"), &RW);
            // The ownership stamp (custom_metadata) when the plan prunes.
            if !v1 && plan.prune.is_some() {
                g.add(paths::kv::metadata(&mount, &path), &["create", "update"]);
            }
        }
    }
    for write in &plan.writes {
        g.add(trim(&write.path), &RW);
    }
    super::identity::grants(plan, &mut g);
    super::pki::grants(plan, &mut g);
    super::prune::grants(plan, &mut g);
    super::tokens::grants(plan, &mut g);
    super::eso::grants(plan, &mut g);
    if plan.vault.expect_token.is_some() {
        g.add("auth/token/lookup-self", &["read"]);
    }
    for check in &plan.verify {
        match check {
            Check::KvKeys(c) => g.add(paths::kv::data(&trim(&c.mount), &trim(&c.path)), &["read"]),
            Check::DatabaseCreds(c) => {
                g.add(format!("{}/creds/{}", trim(&c.mount), c.role), &["read"]);
                g.add(format!("{}/roles/{}", trim(&c.mount), c.role), &["read"]);
                g.add("sys/leases/revoke", &["update"]);
            }
            Check::Login(_) => g.add("auth/token/revoke-accessor", &["update"]),
            Check::Capabilities(_) => {
                // A token with another policy than the job's own needs sudo here.
                g.add("auth/token/create", &["create", "update", "sudo"]);
                g.add("sys/capabilities", &["update"]);
                g.add("auth/token/revoke-accessor", &["update"]);
            }
            // In `pki::grants` and `eso::grants`; the stored token's own
            // lookup-self is in the default policy.
            Check::PkiIssue(_) | Check::Token(_) | Check::ExternalSecrets(_) => {}
        }
    }
    g.spread_deletes();
    // Last: it moves everything above into the plan's namespace.
    super::system::grants(plan, &mut g);
    let mut out = String::from(
        "# Minimal policy for the vault-converge job's token, generated by `vault-converge policy`.\n\
         # Login, token lookup-self/revoke-self and sys/health are covered by Vault's default policy.\n",
    );
    for (path, caps) in &g.0 {
        let caps: Vec<String> = caps.iter().map(|c| format!("\"{c}\"")).collect();
        let _ = writeln!(
            out,
            "path \"{path}\" {{\n  capabilities = [{}]\n}}",
            caps.join(", ")
        );
    }
    out
}
