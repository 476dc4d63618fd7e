use super::super::policy_hcl::{check_with_parser as check, PolicyKind};
use super::is_simple_acl;

const SIMPLE: [&str; 6] = [
    "path \"app/data/svc-0000/*\" { capabilities = [\"read\"] }\npath \"database/creds/svc-0000\" { capabilities = [\"read\"] }\n",
    "path \"secret/*\" {\n  capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"]\n}\n",
    "\n\npath \"a\" { capabilities = [\"read\",] }",
    "path \"sys/mounts\" {\r\n  capabilities = [\"read\"]\r\n}\r\n\r\npath \"+/x\" {\n\tcapabilities=[\"sudo\",\"list\"]\n}",
    "path \"a\" {capabilities=[\"deny\"]}\n  \npath \"b\" { capabilities = [ \"scan\" ] }",
    "path \"auth/token/lookup-self\" { capabilities = [\"read\"] }",
];

#[test]
fn the_common_shapes_are_recognized_and_the_full_check_agrees() {
    for text in SIMPLE {
        assert!(is_simple_acl(text), "{text:?}");
        assert_eq!(check(text, PolicyKind::Acl), Ok(()), "{text:?}");
    }
}

#[test]
fn everything_else_is_left_to_the_full_check() {
    for text in [
        "",
        "  \n",
        "path \"a\" { capabilities = [\"raed\"] }",
        "path \"a\" { capabilities = [] }",
        "path \"a\" { capabilities = [\"read\"] } path \"b\" { capabilities = [\"read\"] }",
        "path \"a\" { capabilities = [\"read\"]\n}",
        "path \"a\" {\n  capabilities = [\"read\"] }",
        "# comment\npath \"a\" { capabilities = [\"read\"] }",
        "path \"a/${accessor:auth/k8s}\" { capabilities = [\"read\"] }",
        "path \"a/{{identity.entity.id}}\" { capabilities = [\"read\"] }",
        "path \"a\" { capabilities = [\"read\"], policy = \"read\" }",
        "path \"a\" {\n  capabilities = [\"read\",\n \"list\"]\n}",
        "path \"a\\\"b\" { capabilities = [\"read\"] }",
        "path \"\" { capabilities = [\"read\"] }",
        "path a { capabilities = [\"read\"] }",
        "pathx \"a\" { capabilities = [\"read\"] }",
        "{\"path\": {\"a\": {\"capabilities\": [\"read\"]}}}",
        "path \"a\" { capabilities = [\"read\" \"list\"] }",
        "path \"a\" { capabilities = [\"READ\"] }",
        "path \"a\" { capabilities = [\"read\"] }}",
    ] {
        assert!(!is_simple_acl(text), "{text:?}");
    }
}

/// Every text one edit away from a simple policy: whatever this
/// recognizes, the full check accepts.
#[test]
fn no_edit_makes_it_accept_what_the_full_check_refuses() {
    let inserts = [
        "\"", "\n", "\r", " ", "{", "}", "[", "]", ",", "=", "x", "#", "$", "%", "\\", "\t", "p",
        "'", "*", "/",
    ];
    for text in SIMPLE {
        let positions = (0..=text.len()).filter(|&i| text.is_char_boundary(i));
        for i in positions {
            let mut variants = Vec::new();
            if i < text.len() {
                variants.push(format!("{}{}", &text[..i], &text[i + 1..]));
            }
            for insert in inserts {
                variants.push(format!("{}{insert}{}", &text[..i], &text[i..]));
            }
            for variant in variants {
                if is_simple_acl(&variant) {
                    assert_eq!(check(&variant, PolicyKind::Acl), Ok(()), "{variant:?}");
                }
            }
        }
    }
}
