//! Overlays: `-f base.yaml -f prod.yaml` merges later files into earlier ones.

use std::collections::HashMap;

use super::node::{Key, Node, Value};

/// A map merges key by key, `null` removes a key, anything else replaces.
/// A value source (`{env: X}`, `{file: y}`, ...) is a leaf on either side:
/// merging `{env: X}` with `{file: y}` key by key would yield a plain map
/// holding both, which is no source at all.
pub fn merge(base: Node, overlay: Node) -> Node {
    if base.source_kind().is_some() || overlay.source_kind().is_some() {
        return overlay;
    }
    match (base.value, overlay.value) {
        (Value::Map(entries), Value::Map(over)) => Node {
            value: Value::Map(merge_entries(entries, over)),
            loc: base.loc,
        },
        (_, value) => Node {
            value,
            loc: overlay.loc,
        },
    }
}

/// Linear in both maps (plans have maps of tens of thousands of keys):
/// replaced keys keep their place, new keys come last, removed ones go.
fn merge_entries(base: Vec<(Key, Node)>, over: Vec<(Key, Node)>) -> Vec<(Key, Node)> {
    let mut slots: Vec<Option<(Key, Node)>> = base.into_iter().map(Some).collect();
    let mut position: HashMap<String, usize> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, slot)| slot.as_ref().map(|(k, _)| (k.name.clone(), i)))
        .collect();
    for (key, value) in over {
        let existing = position.get(&key.name).copied();
        match (existing, &value.value) {
            (Some(i), Value::Null) => {
                slots[i] = None;
                position.remove(&key.name);
            }
            (None, Value::Null) => {}
            (Some(i), _) => {
                slots[i] = slots[i].take().map(|(old_key, old)| {
                    // The overlay's key location: that is where the value now comes from.
                    let key = Key {
                        loc: key.loc,
                        ..old_key
                    };
                    (key, merge(old, value))
                });
            }
            (None, _) => {
                position.insert(key.name.clone(), slots.len());
                slots.push(Some((key, value)));
            }
        }
    }
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn doc(name: &str, text: &str) -> Node {
        super::super::node::parse(&Arc::from(name), text).unwrap()
    }

    #[test]
    fn maps_merge_leaves_replace_and_null_removes() {
        let merged = merge(
            doc("base.yaml", "a: {x: 1, y: 2}\nb: [1, 2]\nc: gone\n"),
            doc("prod.yaml", "a: {y: 3, z: 4}\nb: [9]\nc: null\nd: new\n"),
        );
        assert_eq!(
            merged.to_json(),
            serde_json::json!({"a": {"x": 1, "y": 3, "z": 4}, "b": [9], "d": "new"})
        );
    }

    #[test]
    fn a_value_source_is_replaced_whole() {
        let merged = merge(
            doc("base.yaml", "password: {env: PW}\nplain: {env: PW}\n"),
            doc(
                "prod.yaml",
                "password: {file: pw.txt}\nplain: {a: 1, b: 2}\n",
            ),
        );
        assert_eq!(
            merged.to_json(),
            serde_json::json!({"password": {"file": "pw.txt"}, "plain": {"a": 1, "b": 2}})
        );
        // The replacing source keeps its own file, which `file:` paths are relative to.
        let Value::Map(entries) = &merged.value else {
            panic!("map")
        };
        assert_eq!(&*entries[0].1.loc.file, "prod.yaml");
    }

    #[test]
    fn a_plain_map_over_a_source_replaces_it_too() {
        let merged = merge(
            doc("base.yaml", "v: {generate: {length: 8}}\n"),
            doc("prod.yaml", "v: {length: 12, charset: hex}\n"),
        );
        assert_eq!(
            merged.to_json(),
            serde_json::json!({"v": {"length": 12, "charset": "hex"}})
        );
    }
}
