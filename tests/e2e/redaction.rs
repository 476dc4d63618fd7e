//! Redaction rules of DESIGN.md on real runs: a secret-named variable is a
//! secret wherever `${…}` puts it, and secret-named keys at any depth of a
//! planned value are masked too.

use crate::common::*;
use crate::support::cli::assert_no_secrets;

#[test]
fn secret_named_variables_and_nested_secret_keys_never_reach_output() {
    let token = format!("tok-{}", crate::support::random_hex(10));
    let nested = format!("nested-{}", crate::support::random_hex(10));
    let (bao, _dir, plan) = dev_with_plan(&format!(
        "version: 1\nmounts:\n  app: {{ type: kv-v2 }}\nwrites:\n  - path: app/data/x\n    mode: overwrite\n    data:\n      data:\n        note: \"bearer ${{API_TOKEN}}\"\n        settings: {{ credentials: {{ client_secret: \"{nested}\" }}, region: eu }}\n"
    ));
    let env = [("API_TOKEN", token.as_str())];
    for command in ["plan", "apply"] {
        let out = vc(
            &bao,
            &[command, "-f", plan.to_str().unwrap(), "--output", "json"],
            &env,
        );
        out.assert_success();
        assert_no_secrets(&out, &[&token, &nested]);
        let out = vc(&bao, &[command, "-f", plan.to_str().unwrap()], &env);
        out.assert_success();
        assert_no_secrets(&out, &[&token, &nested]);
    }
    let data = kv_data(&bao, "app", "x");
    assert_eq!(data["note"], format!("bearer {token}"));
    assert_eq!(
        data["settings"]["credentials"]["client_secret"],
        nested.as_str()
    );
}
