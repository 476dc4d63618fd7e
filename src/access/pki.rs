//! Grants for PKI mounts and the pki_issue check: exactly the paths
//! src/resources/pki and src/verify/pki.rs read, list and write.

use super::policy::{Grants, RW};
use crate::plan::model::{planned_root, Check, Plan};
use crate::resources::pki::paths;

pub(super) fn grants(plan: &Plan, g: &mut Grants) {
    let trim = |p: &str| p.trim_matches('/').to_owned();
    for (mount, pki) in &plan.pki {
        let mount = trim(mount);
        if let Some((spec, root)) = pki.ca() {
            // The CA held: its issuers (one LIST), the default one (read),
            // renamed when `issuer_name` differs.
            g.add(paths::issuers(&mount), &["list"]);
            let caps: &[&'static str] = if spec.fields.contains_key("issuer_name") {
                &["read", "update"]
            } else {
                &["read"]
            };
            g.add(paths::issuer(&mount, "+"), caps);
            // The mount's accessor names its Once record in the registry.
            g.add("sys/mounts", &["read"]);
            let registry = &plan.vault.registry;
            let registry_mount = trim(&registry.mount);
            g.add(format!("sys/mounts/{registry_mount}"), &RW);
            g.add(
                crate::paths::kv::data(&registry_mount, &registry.instance),
                &RW,
            );
            let kind = paths::kind(spec.export_key_to.is_some());
            if root {
                g.add(paths::root_generate(&mount, kind), &["update"]);
            } else if let Some(signer) = &spec.signed_by {
                g.add(paths::intermediate_generate(&mount, kind), &["update"]);
                g.add(paths::sign_intermediate(&trim(signer)), &["update"]);
                g.add(paths::set_signed(&mount), &["update"]);
            }
            // A generation whose later step fails is deleted again.
            g.add(paths::root(&mount), &["delete"]);
            if let Some(export) = &spec.export_key_to {
                let v1 = plan.mounts.get(&export.mount).is_some_and(|m| {
                    m.options
                        .get("version")
                        .is_none_or(|v| v.to_string().trim_matches('"') == "1")
                });
                let path = if v1 {
                    format!("{}/{}", export.mount, export.path)
                } else {
                    crate::paths::kv::data(&export.mount, &export.path)
                };
                g.add(path, &["read", "create"]);
            }
        }
        if pki.urls.is_some() {
            g.add(paths::urls(&mount), &RW);
        }
        if pki.crl.is_some() {
            g.add(paths::crl(&mount), &RW);
        }
        if !pki.roles.is_empty() {
            g.add(paths::roles(&mount), &["list"]);
        }
        for name in pki.roles.keys() {
            g.add(format!("{}/{name}", paths::roles(&mount)), &RW);
        }
    }
    for check in &plan.verify {
        if let Check::PkiIssue(c) = check {
            let mount = trim(&c.mount);
            g.add(paths::issue(&mount, &c.role), &["update"]);
            if let Some(root) = planned_root(&plan.pki, &mount) {
                g.add(paths::cert_ca(&trim(root)), &["read"]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::model::Plan;

    fn policy(yaml: &str) -> String {
        let plan: Plan = serde_saphyr::from_str(yaml).expect("plan");
        crate::access::policy_hcl(&plan)
    }

    #[test]
    fn grants_cover_generation_signing_export_and_the_check() {
        let hcl = policy(
            "version: 1\n\
             mounts: {secret: {type: kv, options: {version: '2'}}, pki-root: {type: pki}, pki-int: {type: pki}}\n\
             pki:\n  pki-root: {root: {common_name: R, export_key_to: {mount: secret, path: pki/root}}}\n  \
             pki-int:\n    intermediate: {common_name: I, signed_by: pki-root, issuer_name: int}\n    \
             urls: {issuing_certificates: [x]}\n    roles: {web: {allow_any_name: true}}\n\
             verify: [{pki_issue: {mount: pki-int, role: web, common_name: a.example.com}}]\n",
        );
        for (path, caps) in [
            ("pki-root/root/generate/exported", "\"update\""),
            ("pki-root/issuers", "\"list\""),
            ("pki-root/issuer/+", "\"read\"]"),
            ("secret/data/pki/root", "\"create\", \"read\""),
            ("pki-int/intermediate/generate/internal", "\"update\""),
            ("pki-root/root/sign-intermediate", "\"update\""),
            ("pki-int/intermediate/set-signed", "\"update\""),
            ("pki-int/issuer/+", "\"read\", \"update\""),
            ("pki-int/root", "\"delete\""),
            ("pki-int/config/urls", "\"create\", \"read\", \"update\""),
            ("pki-int/roles", "\"list\""),
            ("pki-int/roles/web", "\"create\", \"read\", \"update\""),
            ("pki-int/issue/web", "\"update\""),
            ("pki-root/cert/ca", "\"read\""),
            (
                "vault-converge/data/default",
                "\"create\", \"read\", \"update\"",
            ),
        ] {
            let block = format!("path \"{path}\" {{\n  capabilities = [");
            let at = hcl
                .find(&block)
                .unwrap_or_else(|| panic!("no grant for {path}:\n{hcl}"));
            let line = hcl[at + block.len()..].lines().next().unwrap_or_default();
            assert!(line.contains(caps), "{path}: {line}\n{hcl}");
        }
    }
}
