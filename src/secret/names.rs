//! Which field names hold secrets: their values are redacted wherever they
//! appear, whatever their source.

/// Field names whose values are redacted wherever they appear, whatever their source:
/// anything mentioning a secret or private key, and names whose last word is a
/// credential noun (`password`, `db_token`, `api_key`, `token_reviewer_jwt`),
/// but not settings about credentials (`token_ttl`, `token_policies`).
pub fn is_secret_name(name: &str) -> bool {
    const ANYWHERE: [&str; 3] = ["secret", "private", "passphrase"];
    const LAST_WORD: [&str; 9] = [
        "password",
        "passwd",
        "pass",
        "token",
        "jwt",
        "key",
        "credential",
        "credentials",
        "pin",
    ];
    // Case-insensitive without a lower-cased copy, in one pass that looks
    // further only where a marker's first letter is: this runs for every
    // key of a plan and every field Vault returns.
    let bytes = name.as_bytes();
    let anywhere = (0..bytes.len()).any(|i| {
        let first = bytes[i].to_ascii_lowercase();
        ANYWHERE.iter().any(|marker| {
            marker.as_bytes()[0] == first
                && bytes
                    .get(i..i + marker.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(marker.as_bytes()))
        })
    });
    let last = match bytes.iter().rposition(|b| matches!(b, b'_' | b'-' | b'.')) {
        Some(i) => &name[i + 1..],
        None => name,
    };
    anywhere || LAST_WORD.iter().any(|w| last.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for name in [
            "password",
            "db_password",
            "secret_id",
            "token_reviewer_jwt",
            "SESSION_KEY",
            "api_key",
            "token",
            "privateKey",
            "client_SECRET",
            "ssh-passphrase",
            "mySecretValue",
            "x.pin",
            "ü_token",
            "a-credentials",
        ] {
            assert!(is_secret_name(name), "{name} is secret");
        }
        for name in [
            "username",
            "token_ttl",
            "token_policies",
            "keys",
            "kubernetes_host",
            "key_type",
            "",
            "s",
            "p",
            "secre",
            "privat",
            "spin_up",
            "keypass_ttl",
            "ü",
        ] {
            assert!(!is_secret_name(name), "{name} is not secret");
        }
    }
}
