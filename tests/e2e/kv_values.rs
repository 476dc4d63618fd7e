//! KV values are compared as Vault sends them, byte for byte first: Vault's
//! encoder escapes `<`, `>` and `&` (`\u003c`), so different bytes may still
//! be the same value, and a rerun must not take them for a change.

use serde_json::json;

use crate::common::*;
use crate::support::bao::http_request;
use crate::support::cli::assert_no_secrets;

const SECRET: &str = "s3cret-<&>-value-91f2";
const DRIFTED: &str = "drifted-secret-4e7a0c";

fn plan_yaml() -> String {
    format!(
        r#"version: 1
mounts:
  app: {{ type: kv, options: {{ version: "2" }} }}
kv:
  app:
    web:
      data:
        html: "<b>&\"quoted\"\n"
        layout: {{ header: "<h1> & more", sizes: [1, 2.5, -3], deep: {{ flag: true, none: null }} }}
        api_password: "{SECRET}"
        plain: unchanged
"#
    )
}

fn planned_data() -> serde_json::Value {
    json!({
        "html": "<b>&\"quoted\"\n",
        "layout": {"header": "<h1> & more", "sizes": [1, 2.5, -3], "deep": {"flag": true, "none": null}},
        "api_password": SECRET,
        "plain": "unchanged",
    })
}

#[test]
fn escaped_values_are_unchanged_and_drift_of_one_key_is_repaired_alone() {
    let (bao, _dir, plan) = dev_with_plan(&plan_yaml());
    let p = plan.to_str().unwrap();
    let (out, cold) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_no_secrets(&out, &[SECRET]);
    assert_eq!(action_of(&cold, "app/data/web"), "create");
    assert_eq!(kv_data(&bao, "app", "web"), planned_data());

    // What makes the test meaningful: the bytes Vault sends differ from
    // the planned value's serialization.
    let headers = [("X-Vault-Token", bao.root_token.as_str())];
    let host = format!("127.0.0.1:{}", bao.port);
    let (_, raw) = http_request(&host, "GET", "/v1/app/data/web", &headers, None).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    assert!(raw.contains(r#"\u003cb\u003e\u0026\"quoted\"\n"#), "{raw}");

    let rerun = assert_stable(&bao, &plan, &[]);
    assert_eq!(action_of(&rerun, "app/data/web"), "unchanged", "{rerun:#}");
    assert_eq!(kv_version(&bao, "app", "web"), 1);

    let mut drifted = planned_data();
    drifted["api_password"] = json!(DRIFTED);
    bao.write("app/data/web", &json!({ "data": drifted }));

    let out = vc(
        &bao,
        &["plan", "-f", p, "--detailed-exitcode", "--output", "json"],
        &[],
    );
    out.assert_code(4);
    assert_no_secrets(&out, &[SECRET, DRIFTED]);
    let report = parse_report(&out);
    assert_eq!(
        object_of(&report, "app/data/web")["changes"],
        json!([{"field": "api_password", "old": "<redacted>", "new": "<redacted>"}]),
        "only the drifted key: {report:#}"
    );

    let (out, repaired) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_no_secrets(&out, &[SECRET, DRIFTED]);
    assert_eq!(action_of(&repaired, "app/data/web"), "update");
    assert_eq!(repaired["requests"]["writes"], 1, "{repaired:#}");
    assert_eq!(kv_data(&bao, "app", "web"), planned_data());
    assert_eq!(kv_version(&bao, "app", "web"), 3);
    assert_stable(&bao, &plan, &[]);
}

#[test]
fn a_drifted_plain_key_is_shown_and_unplanned_keys_stay_secret() {
    let (bao, _dir, plan) = dev_with_plan(&plan_yaml());
    apply_json(&bao, &plan, &[]).0.assert_success();
    let unplanned = "unplanned-value-<b>-6d1e93";
    let mut drifted = planned_data();
    drifted["layout"]["header"] = json!("<h2>");
    drifted["extra"] = json!({ "note": unplanned });
    bao.write("app/data/web", &json!({ "data": drifted }));

    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_no_secrets(&out, &[SECRET, unplanned]);
    let changes = &object_of(&report, "app/data/web")["changes"];
    assert_eq!(changes.as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(changes[0]["field"], "layout");
    assert!(
        changes[0]["old"].as_str().unwrap().contains("<h2>"),
        "{report:#}"
    );
    let mut merged = planned_data();
    merged["extra"] = json!({ "note": unplanned });
    assert_eq!(
        kv_data(&bao, "app", "web"),
        merged,
        "merge keeps the unplanned key"
    );
    assert_stable(&bao, &plan, &[]);
}
