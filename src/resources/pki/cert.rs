//! X.509 for the pki kinds: the subject a CA in Vault has, compared with the
//! planned one, and the signature chain of an issued certificate up to its
//! root. Parsing and signature checks are x509-parser's (ring underneath).

use std::collections::BTreeMap;

use serde_json::Value as Json;
use x509_parser::oid_registry::{
    Oid, OID_X509_COMMON_NAME, OID_X509_COUNTRY_NAME, OID_X509_LOCALITY_NAME,
    OID_X509_ORGANIZATIONAL_UNIT, OID_X509_ORGANIZATION_NAME, OID_X509_POSTAL_CODE,
    OID_X509_SERIALNUMBER, OID_X509_STATE_OR_PROVINCE_NAME, OID_X509_STREET_ADDRESS,
};
use x509_parser::pem::Pem;
use x509_parser::prelude::{parse_x509_certificate, X509Certificate};

use crate::resources::Planned;

/// Longer chains are refused: bounds the walk on any input.
const MAX_DEPTH: usize = 8;

/// The DER certificates in PEM text (one certificate or a bundle).
pub fn ders(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| format!("invalid PEM: {e}"))?;
        if block.label == "CERTIFICATE" {
            out.push(block.contents);
        }
    }
    Ok(out)
}

/// The single certificate in `pem`.
pub fn one_der(pem: &str) -> Result<Vec<u8>, String> {
    ders(pem)?
        .into_iter()
        .next()
        .ok_or_else(|| "no certificate in the PEM text".to_owned())
}

pub fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    parse_x509_certificate(der)
        .map(|(_, cert)| cert)
        .map_err(|e| format!("invalid certificate: {e}"))
}

/// The subject as text (`CN=Example Root CA, O=Acme`).
pub fn subject_of(cert: &X509Certificate<'_>) -> String {
    cert.subject().to_string()
}

/// The plan's fields that make up a CA's subject: field, label, attribute.
fn subject_fields() -> [(&'static str, &'static str, Oid<'static>); 9] {
    [
        ("common_name", "CN", OID_X509_COMMON_NAME),
        ("organization", "O", OID_X509_ORGANIZATION_NAME),
        ("ou", "OU", OID_X509_ORGANIZATIONAL_UNIT),
        ("country", "C", OID_X509_COUNTRY_NAME),
        ("province", "ST", OID_X509_STATE_OR_PROVINCE_NAME),
        ("locality", "L", OID_X509_LOCALITY_NAME),
        ("street_address", "street", OID_X509_STREET_ADDRESS),
        ("postal_code", "postalCode", OID_X509_POSTAL_CODE),
        ("serial_number", "serialNumber", OID_X509_SERIALNUMBER),
    ]
}

/// The subject of `cert` as plan fields (`common_name`, `organization`, ...):
/// what `export` writes so the planned subject matches the CA held.
pub fn subject_fields_of(cert: &X509Certificate<'_>) -> Vec<(&'static str, Json)> {
    let mut out = Vec::new();
    for (field, _, oid) in subject_fields() {
        let values: Vec<String> = cert
            .subject()
            .iter_by_oid(&oid)
            .filter_map(|attr| attr.as_str().ok().map(|s| s.trim().to_owned()))
            .collect();
        match values.as_slice() {
            [] => {}
            [one] => out.push((field, Json::String(one.clone()))),
            many => out.push((field, Json::from(many.to_vec()))),
        }
    }
    out
}

/// Whether `cert` is self-signed (a root CA).
pub fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    self_signed(cert)
}

/// The subject attributes the plan sets; the others are not compared.
#[derive(Debug, PartialEq, Eq)]
pub struct PlannedSubject(Vec<(&'static str, Oid<'static>, Vec<String>)>);

impl PlannedSubject {
    pub fn from_fields(fields: &BTreeMap<String, Planned>) -> PlannedSubject {
        let mut attrs = Vec::new();
        for (field, label, oid) in subject_fields() {
            let Some(planned) = fields.get(field) else {
                continue;
            };
            let mut values: Vec<String> = match &planned.value {
                Json::String(s) if field == "common_name" => vec![s.trim().to_owned()],
                // Vault takes these as a list or a comma-separated string.
                Json::String(s) => s.split(',').map(|v| v.trim().to_owned()).collect(),
                Json::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect(),
                Json::Null => Vec::new(),
                other => vec![other.to_string()],
            };
            values.retain(|v| !v.is_empty());
            values.sort();
            attrs.push((label, oid, values));
        }
        PlannedSubject(attrs)
    }

    /// Whether `cert`'s subject holds exactly the planned values of every
    /// attribute the plan sets.
    pub fn matches(&self, cert: &X509Certificate<'_>) -> bool {
        self.0.iter().all(|(_, oid, want)| {
            let mut have: Vec<String> = cert
                .subject()
                .iter_by_oid(oid)
                .filter_map(|attr| attr.as_str().ok().map(|s| s.trim().to_owned()))
                .collect();
            have.sort();
            &have == want
        })
    }
}

impl std::fmt::Display for PlannedSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .flat_map(|(label, _, values)| values.iter().map(move |v| format!("{label}={v}")))
            .collect();
        write!(f, "{}", parts.join(", "))
    }
}

fn self_signed(cert: &X509Certificate<'_>) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok()
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

/// Walks from `leaf` up through `pool` (and `anchor`), checking each
/// signature with its issuer's key, each issuer is a CA and every
/// certificate is valid now, up to a self-signed CA; with `anchor`, that
/// must be the anchor. Returns the subjects of the path, leaf first.
pub fn verify_chain(
    leaf: &[u8],
    pool: &[Vec<u8>],
    anchor: Option<&[u8]>,
) -> Result<Vec<String>, String> {
    let leaf = parse(leaf)?;
    let pool = pool
        .iter()
        .map(|der| parse(der))
        .collect::<Result<Vec<_>, _>>()?;
    let anchor = anchor.map(parse).transpose()?;
    let mut path = vec![subject_of(&leaf)];
    let mut current = &leaf;
    for _ in 0..MAX_DEPTH {
        if !current.validity().is_valid() {
            return Err(format!(
                "`{}` is not valid now (not before {}, not after {})",
                subject_of(current),
                current.validity().not_before,
                current.validity().not_after
            ));
        }
        if self_signed(current) {
            return match &anchor {
                Some(root) if root.as_raw() != current.as_raw() => Err(format!(
                    "the chain ends at the self-signed `{}`, not at the planned root `{}`",
                    subject_of(current),
                    subject_of(root)
                )),
                _ => Ok(path),
            };
        }
        let named: Vec<&X509Certificate<'_>> = pool
            .iter()
            .chain(anchor.iter())
            .filter(|c| c.subject().as_raw() == current.issuer().as_raw())
            .collect();
        let Some(issuer) = named
            .iter()
            .find(|c| current.verify_signature(Some(c.public_key())).is_ok())
        else {
            return Err(if named.is_empty() {
                format!(
                    "the chain stops at `{}`: its issuer `{}` is neither in the chain Vault returned nor the planned root",
                    subject_of(current),
                    current.issuer()
                )
            } else {
                format!(
                    "the signature of `{}` does not verify with the key of its issuer `{}`",
                    subject_of(current),
                    current.issuer()
                )
            });
        };
        if !is_ca(issuer) {
            return Err(format!(
                "`{}` signed `{}` but is not a CA (no basicConstraints cA)",
                subject_of(issuer),
                subject_of(current)
            ));
        }
        path.push(subject_of(issuer));
        current = issuer;
    }
    Err(format!("the chain is longer than {MAX_DEPTH} certificates"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(fields: &[(&str, Json)]) -> BTreeMap<String, Planned> {
        fields
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    Planned {
                        value: v.clone(),
                        sensitive: false,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn planned_subjects_render_only_what_the_plan_sets_in_a_stable_order() {
        let subject = PlannedSubject::from_fields(&planned(&[
            ("ou", Json::from("b, a")),
            ("common_name", Json::from("Example Root CA, Inc")),
            ("key_type", Json::from("ec")),
            ("organization", serde_json::json!(["Acme"])),
        ]));
        assert_eq!(
            subject.to_string(),
            "CN=Example Root CA, Inc, O=Acme, OU=a, OU=b"
        );
    }

    #[test]
    fn text_without_certificates_is_an_error_not_a_panic() {
        assert!(one_der("not a certificate").is_err());
        assert!(parse(b"\x30\x03\x02\x01\x00").is_err());
        assert!(verify_chain(b"garbage", &[], None).is_err());
        let broken = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(ders(broken).is_err());
    }
}
