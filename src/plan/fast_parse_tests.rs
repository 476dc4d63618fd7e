use std::sync::Arc;

use super::super::node::{parse_through_serde, Node, Value};
use super::parse;

/// Values and locations of two trees, as one comparable text.
fn describe(node: &Node) -> String {
    let loc = format!("@{}:{}", node.loc.line, node.loc.column);
    match &node.value {
        Value::Null => format!("null{loc}"),
        Value::Bool(b) => format!("{b}{loc}"),
        Value::Int(i) => format!("int {i}{loc}"),
        Value::Float(f) => format!("float {}{loc}", f.to_bits()),
        Value::Str(s) => format!("{s:?}{loc}"),
        Value::Seq(items) => {
            let items: Vec<String> = items.iter().map(describe).collect();
            format!("[{}]{loc}", items.join(", "))
        }
        Value::Map(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{:?}@{}:{}: {}",
                        k.name,
                        k.loc.line,
                        k.loc.column,
                        describe(v)
                    )
                })
                .collect();
            format!("{{{}}}{loc}", entries.join(", "))
        }
    }
}

fn file() -> Arc<str> {
    Arc::from("p.yaml")
}

/// The fast path either declines or builds exactly what serde-saphyr does.
fn same_as_serde(text: &str) -> bool {
    let full = parse_through_serde(&file(), text);
    match parse(&file(), text) {
        None => false,
        Some(fast) => {
            match (&fast, &full) {
                (Ok(a), Ok(b)) => assert_eq!(describe(a), describe(b), "{text}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
                _ => panic!(
                    "fast {:?} / full {:?} for {text}",
                    fast.is_ok(),
                    full.is_ok()
                ),
            }
            true
        }
    }
}

#[test]
fn plans_read_alike_both_ways() {
    let taken = [
        "version: 1\nmounts:\n  app: {type: kv, options: {version: \"2\"}}\n",
        "a:\n  b: [1, -2, 0, 1.5, -0.25, x, \"q\", 'single', true, No, ON, y, ~, null, \"\"]\n  c:\n    - d: 1h\n      e: 10.0.0.0/8\n    - {f: 768h, g: /x/y}\n",
        "policy: |\n  path \"a/*\" {\n    capabilities = [\"read\"]\n  }\nfolded: >\n  one\n  two\n",
        "k: 18446744073709551615\nn: -9223372036854775808\n",
        "secret_key: 9007199254740993\n",
        "plain: 9007199254740993\n",
        "x: inf\ny: nan\nz: Infinity\n",
        "'quoted key': 1\n\"1\": one\n2: two\ntrue: yes\n",
        "- a\n- b:\n    - c\n",
        "roles:\n  svc-0000: {\"bound_service_account_names\": [\"svc-0000\"], \"token_ttl\": \"1h\", \"n\": 3}\n",
        "a: 1 # trailing comment\n# between\nb: 2\n",
    ];
    for text in taken {
        assert!(same_as_serde(text), "fast path declined: {text:?}");
    }
}

#[test]
fn what_it_is_not_sure_of_goes_the_full_way() {
    let declined = [
        "a: &x 1\nb: *x\n",
        "base: &b {x: 1}\nc:\n  <<: *b\n",
        "a: !!str 1\n",
        "a: 1\na: 2\n",
        "a: 0x1F\nb: 0o17\nc: 1e3\nd: 1_000\ne: 0123\nf: .5\ng: +1\nh: .inf\n",
        "a: 2024-01-01\n",
        "a: 127.0.0.1\n",
        "a: 18446744073709551616\n",
        "---\na: 1\n---\nb: 2\n",
        "a: [1, 2\n",
        "~: x\n",
        "? [a, b]\n: c\n",
        "",
        "# only a comment\n",
    ];
    for text in declined {
        // Declined as a whole or read alike; never read differently.
        let _ = same_as_serde(text);
        let cut = text.find('\n').map_or(text, |i| &text[..i]);
        assert!(
            parse(&file(), text).is_none(),
            "fast path took `{cut}` ({text:?})"
        );
    }
}

#[test]
fn shipped_plans_and_the_benchmark_workload_read_alike() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut seen, mut taken) = (0, 0);
    for dir in ["config/examples", "manifests/cronjob", "tests/fixtures"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if let (true, Ok(text)) = (yaml, std::fs::read_to_string(&path)) {
                // Multi-document manifests go the full way; the rest must match.
                taken += usize::from(same_as_serde(&text));
                seen += 1;
            }
        }
    }
    assert!(seen > 0, "no shipped plans found");
    assert!(taken > 0, "no shipped plan took the fast path");
}
