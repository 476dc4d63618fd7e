use std::sync::Arc;

use super::super::fast_parse::tests::describe;
use super::super::full_parse::parse_through_serde;
use super::super::node;
use super::*;

fn file() -> Arc<str> {
    Arc::from("p.yaml")
}

/// A top-level key with `n` entries below it: about 30 bytes each.
fn section(key: &str, n: usize) -> String {
    let mut text = format!("{key}:\n");
    for i in 0..n {
        text.push_str(&format!("  {key}-{i}: {{a: value-{i}, b: [1, x]}}\n"));
    }
    text
}

/// The two-halves reading and the full path agree, values and locations
/// (or both refuse the file).
fn same_as_full_path(text: &str) {
    let halves = node::parse(&file(), text);
    let full = parse_through_serde(&file(), text);
    match (halves, full) {
        (Ok(h), Ok(f)) => assert_eq!(describe(&h), describe(&f)),
        (Err(h), Err(f)) => assert_eq!(h.to_string(), f.to_string()),
        (h, f) => panic!(
            "halves {:?} vs full {:?}",
            h.map(|n| describe(&n)),
            f.map(|n| describe(&n))
        ),
    }
}

#[test]
fn a_large_plan_is_cut_before_a_top_level_key_near_its_middle() {
    let text = format!(
        "version: 1\n{}{}{}",
        section("auth", 4000),
        section("policies", 4000),
        section("kv", 4000)
    );
    let cut = cut(&text).expect("large enough to cut");
    assert!(text[cut.at..].starts_with("policies:") || text[cut.at..].starts_with("kv:"));
    assert_eq!(cut.lines_before, text[..cut.at].matches('\n').count());
    assert!(
        parse_halves(&file(), &text, cut).is_some(),
        "both halves read"
    );
    same_as_full_path(&text);
}

#[test]
fn small_files_and_files_with_markers_are_not_cut() {
    assert_eq!(cut(&section("kv", 100)), None);
    let big = format!("{}{}", section("auth", 5000), section("kv", 5000));
    assert!(cut(&big).is_some());
    for marked in [
        format!("---\n{big}"),
        format!("{big}...\n"),
        format!("%YAML 1.2\n---\n{big}"),
    ] {
        assert_eq!(cut(&marked), None);
        same_as_full_path(&marked);
    }
}

/// The cut before the line that starts with `key`.
fn cut_before(text: &str, key: &str) -> Cut {
    let at = text
        .find(&format!("\n{key}"))
        .expect("the key is in the text")
        + 1;
    Cut {
        at,
        lines_before: text[..at].matches('\n').count(),
    }
}

#[test]
fn a_cut_that_would_change_the_meaning_falls_back_to_the_whole_file() {
    let big = section("auth", 5000);
    let cases = [
        // A key line inside a multi-line quoted string of the first half.
        (
            format!(
                "{big}note: \"text\npolicies: x\nmore\"\n{}",
                section("kv", 5000)
            ),
            "policies:",
        ),
        // The same top-level key in both halves (a duplicate).
        (
            format!("{big}{}{}", section("kv", 5000), section("auth", 10)),
            "kv:",
        ),
        // An alias in the second half of an anchor in the first.
        (
            format!("base: &b {{x: 1}}\n{big}{}other: *b\n", section("kv", 5000)),
            "kv:",
        ),
        // A root that is not a mapping.
        (format!("|\n{big}{}", section("kv", 5000)), "kv:"),
        // A flow mapping over many lines.
        (format!("{{\n{big}\nkv: 1\n}}\n"), "kv:"),
    ];
    for (text, key) in cases {
        let cut = cut_before(&text, key);
        assert!(
            parse_halves(&file(), &text, cut).is_none(),
            "declined at {key}"
        );
        same_as_full_path(&text);
    }
}

#[test]
fn top_level_keys_are_plain_names_followed_by_a_blank() {
    for key in ["kv:\n", "kv: {}\n", "auth_2:", "x-y:\tz\n"] {
        assert!(is_top_level_key(key), "{key}");
    }
    for not in [
        "  kv:\n",
        "\"kv\": x\n",
        "kv:x\n",
        "- kv: 1\n",
        "# kv:\n",
        "1kv:\n",
        "http://x\n",
    ] {
        assert!(!is_top_level_key(not), "{not}");
    }
}
