//! PKI secret engines (DESIGN.md "Additions": `pki:`). A mount's CA — a
//! root, or an intermediate signed by another planned mount — is generated
//! once and never again (see `ca`); URLs, CRL settings and roles are plain
//! field maps. The Vault paths of all of them are here, in one place.

pub mod ca;
pub mod cert;
mod generate;

use serde_json::Value as Json;

use super::ObjectError;
use crate::vault::{Method, Vault};

/// The Vault paths of one pki mount.
pub mod paths {
    pub fn issuers(mount: &str) -> String {
        format!("{mount}/issuers")
    }
    pub fn issuer(mount: &str, id: &str) -> String {
        format!("{mount}/issuer/{id}")
    }
    /// `kind`: `internal`, or `exported` (the answer carries the private key).
    pub fn root_generate(mount: &str, kind: &str) -> String {
        format!("{mount}/root/generate/{kind}")
    }
    /// DELETE: every issuer and key of the mount.
    pub fn root(mount: &str) -> String {
        format!("{mount}/root")
    }
    pub fn intermediate_generate(mount: &str, kind: &str) -> String {
        format!("{mount}/intermediate/generate/{kind}")
    }
    /// Signs a CSR with the mount's default issuer.
    pub fn sign_intermediate(signer: &str) -> String {
        format!("{signer}/root/sign-intermediate")
    }
    pub fn set_signed(mount: &str) -> String {
        format!("{mount}/intermediate/set-signed")
    }
    pub fn urls(mount: &str) -> String {
        format!("{mount}/config/urls")
    }
    pub fn crl(mount: &str) -> String {
        format!("{mount}/config/crl")
    }
    pub fn roles(mount: &str) -> String {
        format!("{mount}/roles")
    }
    /// The default issuer's certificate.
    pub fn cert_ca(mount: &str) -> String {
        format!("{mount}/cert/ca")
    }
    pub fn issue(mount: &str, role: &str) -> String {
        format!("{mount}/issue/{role}")
    }
    pub fn kind(exported: bool) -> &'static str {
        if exported {
            "exported"
        } else {
            "internal"
        }
    }
}

/// The default issuer of a mount, as Vault describes it.
pub struct Issuer {
    pub id: String,
    pub name: String,
    pub certificate: String,
    /// The issuer's settings (`issuer/<id>` answers), kept when renaming it:
    /// a POST there resets every field it does not carry.
    pub data: Json,
}

/// What a mount holds: nothing, its default issuer, or issuers of which
/// none is the default (the tool cannot tell which is "the" CA).
pub enum Held {
    Nothing,
    Default(Issuer),
    NoDefault(usize),
}

/// Reads the mount's issuers (one LIST) and its default issuer (one read).
/// A mount that does not exist yet holds nothing.
pub async fn held(vault: &Vault, mount: &str) -> Result<Held, ObjectError> {
    let listing = match vault
        .request(Method::List, &paths::issuers(mount), None)
        .await
    {
        Ok(answer) => answer.body,
        Err(e) if e.code() == Some(404) => return Ok(Held::Nothing),
        Err(e) => return Err(e.into()),
    };
    let info = listing.pointer("/data/key_info").and_then(Json::as_object);
    let Some(info) = info.filter(|m| !m.is_empty()) else {
        return Ok(Held::Nothing);
    };
    let default = info
        .iter()
        .find(|(_, i)| i.get("is_default").and_then(Json::as_bool) == Some(true));
    let Some((id, _)) = default else {
        return Ok(Held::NoDefault(info.len()));
    };
    let path = paths::issuer(mount, id);
    let body = vault.read(&path).await?.ok_or_else(|| {
        ObjectError::Concurrent(format!(
            "the default issuer {path} vanished while being read"
        ))
    })?;
    let data = body.get("data").cloned().unwrap_or(Json::Null);
    let text = |field: &str| {
        data.get(field)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(Held::Default(Issuer {
        id: id.clone(),
        name: text("issuer_name"),
        certificate: text("certificate"),
        data: data.clone(),
    }))
}
