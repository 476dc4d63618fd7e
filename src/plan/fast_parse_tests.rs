use std::sync::Arc;

use super::super::full_parse::parse_through_serde;
use super::super::node::{Node, Value};
use super::parse_part;

fn parse(file: &Arc<str>, text: &str) -> Option<Node> {
    parse_part(file, text, 0)
}

/// Values and locations of two trees, as one comparable text.
pub(in crate::plan) fn describe(node: &Node) -> String {
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

/// The fast path either declines or builds exactly what serde-saphyr does
/// (which must then accept the document too).
fn same_as_serde(text: &str) -> bool {
    let Some(fast) = parse(&file(), text) else {
        return false;
    };
    match parse_through_serde(&file(), text) {
        Ok(full) => assert_eq!(describe(&fast), describe(&full), "{text}"),
        Err(e) => panic!("the fast path took a document serde-saphyr refuses ({e}): {text}"),
    }
    true
}

#[test]
fn plans_read_alike_both_ways() {
    let taken = [
        "version: 1\nmounts:\n  app: {type: kv, options: {version: \"2\"}}\n",
        "a:\n  b: [1, -2, 0, 1.5, -0.25, x, \"q\", 'single', true, No, ON, y, ~, null, \"\"]\n  c:\n    - d: 1h\n      e: 10.0.0.0/8\n    - {f: 768h, g: /x/y}\n",
        "policy: |\n  path \"a/*\" {\n    capabilities = [\"read\"]\n  }\nfolded: >\n  one\n  two\n",
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
        // Numbers Vault cannot keep exactly: the full path words the error.
        "k: 18446744073709551615\nn: -9223372036854775808\n",
        "secret_key: 9007199254740993\n",
        "plain: 9007199254740993\n",
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

/// Many generated documents with tricky scalars in every position and
/// style: whenever the fast path takes one, it must read it exactly as
/// serde-saphyr does.
#[test]
fn generated_documents_never_read_differently() {
    const SCALARS: [&str; 58] = [
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "N",
        "true",
        "False",
        "TRUE",
        "null",
        "Null",
        "NULL",
        "~",
        "",
        "0",
        "-0",
        "00",
        "007",
        "-1",
        "+1",
        "1.0",
        "1.",
        "-.5",
        ".5",
        "1e3",
        "1E3",
        "0x1f",
        "0o17",
        "0b1",
        "1_000",
        "1:30",
        "2024-01-01",
        "127.0.0.1",
        "10.0.0.0/8",
        "1h",
        "768h",
        "-",
        "a-b",
        "/x",
        "inf",
        ".inf",
        "-.inf",
        ".nan",
        "nan",
        "Infinity",
        "9007199254740993",
        "9007199254740991",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "3.14159265358979323846",
        "1e400",
        "hello world",
        "a: b",
        "#x",
        "x #y",
        "é",
    ];
    let styles = [
        |s: &str| s.to_owned(),
        |s: &str| format!("'{s}'"),
        |s: &str| format!("\"{s}\""),
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    let mut taken = 0;
    for _ in 0..6000 {
        let mut scalar = || {
            let style = styles[next(styles.len())];
            style(SCALARS[next(SCALARS.len())])
        };
        let (k1, v1, k2, v2, item) = (scalar(), scalar(), scalar(), scalar(), scalar());
        let text = match next(7) {
            0 => format!("{k1}: {v1}\n{k2}: {v2}\n"),
            1 => format!("m: {{{k1}: {v1}, {k2}: [{item}, {v2}]}}\n"),
            2 => format!("s:\n  - {v1}\n  - {k2}: {v2}\n    n: {item}\n"),
            3 => format!("{k1}:\n  {k2}: {v1}\nsecret_x: {v2}\n"),
            4 => format!("a: {v1}\n  {v2}\nb: |\n  {item}\n  {k1}\nc: >-\n  {k2}\n"),
            5 => format!("# c\n{k1}: {v1} # t\n\n{k2}:  {v2}   \n"),
            _ => format!("x: &a {v1}\ny: *a\n{k2}: {item}\n"),
        };
        taken += usize::from(same_as_serde(&text));
    }
    assert!(taken > 1000, "only {taken} documents took the fast path");
}
