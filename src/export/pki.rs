//! PKI mounts: the CA by its subject (a root, or an intermediate signed by
//! another exported pki mount), URLs, CRL settings and roles — never keys.

use serde_json::{Map, Value as Json};

use super::clean::clean;
use super::Exporter;
use crate::resources::pki::cert;
use crate::vault::VaultError;

/// The CA of a mount: its subject fields, whether it is self-signed, and its issuer's subject.
struct Ca {
    fields: Vec<(&'static str, Json)>,
    root: bool,
    subject: String,
    issuer: String,
}

async fn ca_of(ex: &mut Exporter<'_>, mount: &str) -> Result<Option<Ca>, VaultError> {
    let Some(read) = ex.read(&format!("{mount}/cert/ca")).await? else {
        return Ok(None);
    };
    let Some(pem) = read
        .get("certificate")
        .and_then(Json::as_str)
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    let Ok(der) = cert::one_der(pem) else {
        return Ok(None);
    };
    let Ok(parsed) = cert::parse(&der) else {
        return Ok(None);
    };
    Ok(Some(Ca {
        fields: cert::subject_fields_of(&parsed),
        root: cert::is_self_signed(&parsed),
        subject: parsed.subject().to_string(),
        issuer: parsed.issuer().to_string(),
    }))
}

pub(super) async fn mounts(ex: &mut Exporter<'_>) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    let mounts = ex.mounts_of_type("pki");
    let mut cas = Vec::new();
    for mount in &mounts {
        cas.push((mount.clone(), ca_of(ex, mount).await?));
    }
    for (mount, ca) in &cas {
        if !ex.wants_under(mount) {
            continue;
        }
        let mut pki = Map::new();
        if let Some(ca) = ca {
            let mut fields: Map<String, Json> = ca
                .fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            // The issuer's name is the one setting of a CA that converges.
            let issuer = ex.read(&format!("{mount}/issuer/default")).await?;
            if let Some(name) = issuer
                .as_ref()
                .and_then(|i| i.get("issuer_name"))
                .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
            {
                fields.insert("issuer_name".into(), name.clone());
            }
            if ca.root {
                pki.insert("root".into(), Json::Object(fields));
            } else if let Some((signer, _)) = cas
                .iter()
                .find(|(m, c)| m != mount && c.as_ref().is_some_and(|c| c.subject == ca.issuer))
            {
                fields.insert("signed_by".into(), Json::String(signer.clone()));
                pki.insert("intermediate".into(), Json::Object(fields));
            } else {
                ex.skipped.push(format!(
                    "{mount}: its CA is signed by `{}`, which no exported pki mount holds; declare it by hand",
                    ca.issuer
                ));
            }
        }
        for (key, path) in [("urls", "config/urls"), ("crl", "config/crl")] {
            if let Some(read) = ex.read(&format!("{mount}/{path}")).await? {
                let fields = read.as_object().map(clean).unwrap_or_default();
                if !fields.is_empty() {
                    pki.insert(key.into(), Json::Object(fields));
                }
            }
        }
        let mut roles = Map::new();
        for name in ex.list(&format!("{mount}/roles")).await? {
            if let Some(read) = ex.read(&format!("{mount}/roles/{name}")).await? {
                roles.insert(
                    name,
                    Json::Object(read.as_object().map(clean).unwrap_or_default()),
                );
            }
        }
        if !roles.is_empty() {
            pki.insert("roles".into(), Json::Object(roles));
        }
        if !pki.is_empty() {
            out.insert(mount.clone(), Json::Object(pki));
        }
    }
    Ok(out)
}
