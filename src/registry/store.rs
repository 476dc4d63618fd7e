//! Reading and writing the registry secret, with check-and-set: a
//! concurrent run's records are read again and kept.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value as Json};

use super::{Registry, State};
use crate::resources::owned::{Owned, PruneKind};
use crate::vault::{Vault, VaultError};

/// The records in a KV v2 read answer.
pub(super) fn parse(body: &Json) -> State {
    let version = body
        .pointer("/data/metadata/version")
        .and_then(Json::as_u64)
        .unwrap_or(0);
    let once = body
        .pointer("/data/data/once")
        .and_then(Json::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let lines = |field: &str| {
        body.pointer(&format!("/data/data/{field}"))
            .and_then(Json::as_str)
            .map(|text| text.lines().filter_map(parse_line).collect())
            .unwrap_or_default()
    };
    let mut tokens: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let token_lines = body.pointer("/data/data/tokens").and_then(Json::as_str);
    for line in token_lines.unwrap_or_default().lines() {
        if let Some((entry, accessor)) = line.split_once('\t') {
            if !entry.is_empty() && !accessor.is_empty() {
                tokens
                    .entry(entry.to_owned())
                    .or_default()
                    .insert(accessor.to_owned());
            }
        }
    }
    State {
        version,
        once,
        owned: lines("owned"),
        pending: lines("pending"),
        tokens,
    }
}

/// One owned object per line, `kind<TAB>path[<TAB>delete path]`: one
/// string for thousands of objects, because servers refuse JSON with many
/// strings (OpenBao's request complexity limits).
fn parse_line(line: &str) -> Option<(String, Owned)> {
    let mut parts = line.split('\t');
    let kind = PruneKind::parse(parts.next()?)?;
    let path = parts.next().filter(|p| !p.is_empty())?;
    let delete = parts.next().unwrap_or(path);
    Some((path.to_owned(), Owned::new(kind, delete)))
}

fn lines_of(objects: &BTreeMap<String, Owned>) -> String {
    objects
        .iter()
        .map(|(path, o)| {
            if o.delete == *path {
                format!("{}\t{path}\n", o.kind)
            } else {
                format!("{}\t{path}\t{}\n", o.kind, o.delete)
            }
        })
        .collect()
}

/// One accessor per line, `entry<TAB>accessor`.
fn token_lines(tokens: &BTreeMap<String, BTreeSet<String>>) -> String {
    tokens
        .iter()
        .flat_map(|(entry, accessors)| accessors.iter().map(move |a| format!("{entry}\t{a}\n")))
        .collect()
}

fn body_of(state: &State) -> Json {
    let once: Map<String, Json> = state.once.clone().into_iter().collect();
    json!({
        "options": { "cas": state.version },
        "data": {
            "once": once,
            "owned": lines_of(&state.owned),
            "pending": lines_of(&state.pending),
            "tokens": token_lines(&state.tokens),
        },
    })
}

impl Registry {
    /// One request: a missing mount reads like a missing secret (404).
    pub(super) async fn read(&self, vault: &Vault) -> Result<State, VaultError> {
        Ok(match vault.read(&self.data_path()).await? {
            Some(body) => parse(&body),
            None => State::default(),
        })
    }

    /// Applies `edit` and the unsaved edits to the records and writes them
    /// with check-and-set; on a conflict, applies them again to what the
    /// other run wrote.
    pub(super) async fn update(
        &self,
        vault: &Vault,
        edit: impl Fn(&mut State),
    ) -> Result<(), VaultError> {
        let mut guard = self.state.lock().await;
        let mut state = match guard.take() {
            Some(state) => state,
            None => self.read(vault).await?,
        };
        let mut enabled = false;
        let mut attempt = 0;
        let unsaved: Vec<super::Edit> = self.unsaved_edits().clone();
        while attempt < 4 {
            attempt += 1;
            for e in &unsaved {
                e.apply(&mut state);
            }
            edit(&mut state);
            match vault.write(&self.data_path(), &body_of(&state)).await {
                Ok(answer) => {
                    // Written: those edits are kept; later ones wait for the next write.
                    self.unsaved_edits().drain(..unsaved.len());
                    state.version = answer
                        .pointer("/data/version")
                        .and_then(Json::as_u64)
                        .unwrap_or(state.version + 1);
                    *guard = Some(state);
                    return Ok(());
                }
                // No such mount yet: enabled on first use.
                Err(e) if !enabled && is_missing_mount(&e) => {
                    self.enable_mount(vault).await?;
                    enabled = true;
                    attempt -= 1;
                }
                Err(VaultError::Status {
                    code: 400,
                    ref message,
                    ..
                }) if message.contains("check-and-set") && attempt < 4 => {
                    // Another run recorded something meanwhile: edit its version.
                    state = self.read(vault).await?;
                }
                Err(e) => {
                    *guard = None;
                    return Err(e);
                }
            }
        }
        *guard = None;
        Err(VaultError::Status {
            method: "POST",
            path: self.data_path(),
            code: 400,
            message: "the registry kept changing while being written (check-and-set)".into(),
        })
    }

    async fn enable_mount(&self, vault: &Vault) -> Result<(), VaultError> {
        let body = json!({
            "type": "kv",
            "options": { "version": "2" },
            "description": "vault-converge records (Once actions, ownership)",
        });
        match vault
            .write(&format!("sys/mounts/{}", self.mount), &body)
            .await
        {
            Ok(_) => Ok(()),
            // A concurrent run enabled it first.
            Err(VaultError::Status {
                code: 400,
                ref message,
                ..
            }) if message.contains("already in use") => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A write under a mount that does not exist: 404 ("no handler for route"),
/// or 405 from servers that answer unsupported paths that way.
fn is_missing_mount(error: &VaultError) -> bool {
    matches!(error.code(), Some(404 | 405))
        || matches!(error, VaultError::Status { message, .. } if message.contains("no handler for route"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_objects_round_trip_as_one_string() {
        let mut state = State::default();
        state.owned.insert(
            "sys/policies/acl/p".into(),
            Owned::new(PruneKind::Policies, "sys/policies/acl/p"),
        );
        state.owned.insert(
            "app/data/x".into(),
            Owned::new(PruneKind::Kv, "app/metadata/x"),
        );
        let body = body_of(&state);
        let text = body["data"]["owned"].as_str().unwrap_or_default();
        assert_eq!(
            text,
            "kv\tapp/data/x\tapp/metadata/x\npolicies\tsys/policies/acl/p\n"
        );
        let read =
            parse(&json!({ "data": { "data": body["data"], "metadata": { "version": 3 } } }));
        assert_eq!(read.owned, state.owned);
        assert_eq!(read.version, 3);
    }

    #[test]
    fn pending_objects_become_owned_or_are_forgotten() {
        let policy = |name: &str| {
            let path = format!("sys/policies/acl/{name}");
            (path.clone(), Owned::new(PruneKind::Policies, &path))
        };
        let mut state = State::default();
        let (a, owned_a) = policy("a");
        let (b, owned_b) = policy("b");
        super::super::Edit::Pend(a.clone(), owned_a.clone()).apply(&mut state);
        super::super::Edit::Pend(b.clone(), owned_b.clone()).apply(&mut state);
        super::super::Edit::Own(a.clone(), owned_a.clone()).apply(&mut state);
        // Owned objects are never pending again.
        super::super::Edit::Pend(a.clone(), owned_a).apply(&mut state);
        assert!(state.owned.contains_key(&a) && !state.pending.contains_key(&a));
        let body = body_of(&state);
        assert_eq!(body["data"]["pending"], "policies\tsys/policies/acl/b\n");
        let read =
            parse(&json!({ "data": { "data": body["data"], "metadata": { "version": 1 } } }));
        assert_eq!(read.pending.get(&b), Some(&owned_b));
        super::super::Edit::Forget(b.clone()).apply(&mut state);
        assert!(state.pending.is_empty());
        super::super::Edit::TokenMinted("ci".into(), "acc1".into()).apply(&mut state);
        super::super::Edit::TokenMinted("ci".into(), "acc2".into()).apply(&mut state);
        super::super::Edit::TokenGone("ci".into(), "acc1".into()).apply(&mut state);
        let body = body_of(&state);
        assert_eq!(body["data"]["tokens"], "ci\tacc2\n");
        let read =
            parse(&json!({ "data": { "data": body["data"], "metadata": { "version": 2 } } }));
        assert_eq!(read.tokens, state.tokens);
    }

    #[test]
    fn unknown_kinds_and_broken_lines_are_skipped() {
        assert!(parse_line("gadgets\tx").is_none());
        assert!(parse_line("policies").is_none());
        assert!(parse_line("policies\t").is_none());
    }
}
