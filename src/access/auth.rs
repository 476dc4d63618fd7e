//! Grants for auth methods: enabling and tuning them, their config and the
//! objects under them.

use super::policy::{Grants, RW};
use crate::paths::auth::{role_collection, TOKEN_METHOD};
use crate::plan::model::Plan;

pub(super) fn grants(plan: &Plan, g: &mut Grants) {
    for (path, method) in &plan.auth {
        let path = path.trim_matches('/');
        let builtin = method.kind == TOKEN_METHOD;
        if !builtin || !method.tune.is_empty() {
            g.add("sys/auth", &["read"]);
        }
        if !builtin {
            // Enabling an auth method needs sudo.
            g.add(
                format!("sys/auth/{path}"),
                &["read", "create", "update", "sudo"],
            );
        }
        if !method.tune.is_empty() || !builtin {
            g.add(format!("sys/auth/{path}/tune"), &["update"]);
        }
        if method.config.is_some() {
            g.add(format!("auth/{path}/config"), &RW);
        }
        let roles = role_collection(&method.kind).map(|segment| (segment, &method.roles));
        let named = [
            ("users", &method.users),
            ("groups", &method.groups),
            ("certs", &method.certs),
        ];
        for (segment, entries) in roles.into_iter().chain(named) {
            if entries.is_empty() {
                continue;
            }
            let collection = format!("auth/{path}/{segment}");
            g.add(collection.clone(), &["list"]);
            for name in entries.keys() {
                g.add(format!("{collection}/{name}"), &RW);
            }
        }
        for sub_path in method.paths.keys() {
            g.add(format!("auth/{path}/{}", sub_path.trim_matches('/')), &RW);
        }
    }
}
