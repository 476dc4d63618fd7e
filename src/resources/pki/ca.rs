//! A pki mount's CA (DESIGN.md "Once"): generated when the mount holds none,
//! never again. A mount that holds a CA is compared by subject: the planned
//! one differing is refused (exit 5), because regenerating would break the
//! trust of everything the CA signed. A CA the registry says was generated
//! in this mount (instance, by its accessor) but that is gone now is refused
//! too, rather than silently replaced. Only the issuer's name converges.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use super::cert::{self, PlannedSubject};
use super::generate::{Generation, KeyTarget, Signing};
use super::{held, paths, Held, Issuer};
use crate::plan::model::CaSpec;
use crate::resources::checked_fields::FieldSet;
use crate::resources::compare::{created_fields, FieldChange};
use crate::resources::context::table_entry;
use crate::resources::mount::kv_version;
use crate::resources::{
    resolve_fields, Action, Change, Context, Diff, ObjectError, ObjectId, Planned, Request,
    Resource,
};

/// Fields only `sign-intermediate` knows: not sent with the CSR request.
const SIGN_ONLY: &[&str] = &[
    "ext_key_usage",
    "ext_key_usage_oids",
    "key_usage",
    "max_path_length",
    "permitted_dns_domains",
    "skid",
    "use_csr_values",
    "issuer_ref",
];
/// Fields only the CSR request knows: not sent for signing.
const KEY_ONLY: &[&str] = &[
    "add_basic_constraints",
    "external_key_ref",
    "key_bits",
    "key_name",
    "key_ref",
    "key_type",
    "private_key_format",
];
/// Settings of an issuer that a POST to `issuer/<id>` resets unless carried.
const ISSUER_SETTINGS: &[&str] = &[
    "leaf_not_after_behavior",
    "usage",
    "manual_chain",
    "revocation_signature_algorithm",
    "issuing_certificates",
    "crl_distribution_points",
    "delta_crl_distribution_points",
    "ocsp_servers",
    "enable_aia_url_templating",
];

pub struct CaResource {
    pub id: ObjectId,
    pub mount: String,
    pub spec: CaSpec,
    /// Whether the plan configures `urls` for this mount.
    pub urls_planned: bool,
    pub check: Option<FieldSet>,
}

/// The fields of an intermediate that its CSR request takes (the others go
/// to the signer, or are ours).
pub fn csr_fields(fields: &crate::plan::model::Fields) -> Vec<String> {
    fields
        .keys()
        .filter(|k| !SIGN_ONLY.contains(&k.as_str()) && k.as_str() != "issuer_name")
        .cloned()
        .collect()
}

/// The registry's record that the CA of `mount` was generated; per mount
/// instance (its accessor), so a mount disabled and enabled again starts anew.
/// `None` while the mount does not exist (`plan` before it is enabled). A
/// mount of another type is refused: generating there would write nonsense
/// (a KV secret at `root/generate/internal`).
async fn once_key(ctx: &Context, mount: &str) -> Result<Option<String>, ObjectError> {
    let table = ctx.fresh_mount_table().await?;
    let Some(entry) = table_entry(&table, mount) else {
        return Ok(None);
    };
    match entry.get("type").and_then(Json::as_str) {
        Some("pki") | None => {}
        Some(other) => {
            return Err(ObjectError::Conflict(format!(
                "{mount} is a mount of type `{other}`, not pki: no CA is generated there"
            )))
        }
    }
    Ok(entry
        .get("accessor")
        .and_then(Json::as_str)
        .map(|accessor| format!("pki_ca:{mount}@{accessor}")))
}

impl CaResource {
    fn what(&self) -> &'static str {
        if self.spec.signed_by.is_some() {
            "an intermediate CA"
        } else {
            "a root CA"
        }
    }

    fn compare(
        &self,
        issuer: Issuer,
        fields: &BTreeMap<String, Planned>,
    ) -> Result<Change, ObjectError> {
        let unreadable = |e: String| {
            ObjectError::Conflict(format!(
                "cannot read the CA certificate of {} ({e}), so its subject cannot be compared; \
                 nothing is generated over it",
                self.mount
            ))
        };
        let der = cert::one_der(&issuer.certificate).map_err(unreadable)?;
        let held = cert::parse(&der).map_err(unreadable)?;
        let planned = PlannedSubject::from_fields(fields);
        if !planned.matches(&held) {
            return Err(ObjectError::Conflict(format!(
                "{} holds {} with subject `{}`, but the plan asks for `{planned}`: a CA is never \
                 regenerated (everything it signed would lose its trust); set the plan back to the \
                 CA's subject, or replace the CA by hand (on a new mount, or with {}/root/replace)",
                self.mount,
                self.what(),
                cert::subject_of(&held),
                self.mount
            )));
        }
        let wanted = fields.get("issuer_name").and_then(|p| p.value.as_str());
        let Some(name) = wanted.filter(|n| *n != issuer.name) else {
            return Ok(Change::unchanged());
        };
        let mut body = Map::new();
        for setting in ISSUER_SETTINGS {
            if let Some(value) = issuer.data.get(*setting).filter(|v| !v.is_null()) {
                body.insert((*setting).into(), value.clone());
            }
        }
        body.insert("issuer_name".into(), json!(name));
        Ok(Change::new(
            Action::Update,
            vec![FieldChange {
                field: "issuer_name".into(),
                old: Some(issuer.name.clone()),
                new: Some(name.to_owned()),
            }],
            vec![Request::post(
                paths::issuer(&self.mount, &issuer.id),
                Json::Object(body),
            )],
        ))
    }

    async fn generate(
        &self,
        ctx: &Context,
        fields: BTreeMap<String, Planned>,
    ) -> Result<Change, ObjectError> {
        let key = once_key(ctx, &self.mount).await?;
        if let Some(key) = &key {
            if ctx.registry.has_once(&ctx.vault, key).await? {
                return Err(ObjectError::Conflict(format!(
                    "the registry ({}) records that {} of {} was generated, but the mount holds no \
                     issuer now: it was deleted behind the tool's back. A CA is generated only once; to \
                     generate a new one, disable and enable the mount again (records are per mount) or \
                     delete the record `{key}`",
                    ctx.registry.location(),
                    self.what(),
                    self.mount
                )));
            }
        }
        let export = match &self.spec.export_key_to {
            Some(export) => Some(self.key_target(ctx, &export.mount, &export.path).await?),
            None => None,
        };
        let values: Map<String, Json> = fields
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        let only = |keep: &dyn Fn(&str) -> bool| -> Map<String, Json> {
            values
                .iter()
                .filter(|(k, _)| keep(k) && k.as_str() != "format")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let (body, signing, issuer_name) = match &self.spec.signed_by {
            None => (only(&|_| true), None, None),
            Some(signer) => (
                only(&|k| !SIGN_ONLY.contains(&k) && k != "issuer_name"),
                Some(Signing {
                    signer: signer.clone(),
                    body: only(&|k| !KEY_ONLY.contains(&k) && k != "issuer_name"),
                }),
                values
                    .get("issuer_name")
                    .and_then(Json::as_str)
                    .map(str::to_owned),
            ),
        };
        let mut shown = fields;
        let plain = |value: String| Planned {
            value: Json::String(value),
            sensitive: false,
        };
        if let Some(signer) = &self.spec.signed_by {
            shown.insert("signed_by".into(), plain(signer.clone()));
        }
        if let Some(export) = &self.spec.export_key_to {
            shown.insert(
                "export_key_to".into(),
                plain(format!("{}/{}", export.mount, export.path)),
            );
        }
        let mut change = Change::new(Action::Create, created_fields(&shown), Vec::new());
        change.steps = Some(Box::new(Generation {
            mount: self.mount.clone(),
            body,
            signing,
            issuer_name,
            export,
            urls_planned: self.urls_planned,
        }));
        change.once = key;
        Ok(change)
    }

    /// Where the exported key goes; refused when something is there already.
    async fn key_target(
        &self,
        ctx: &Context,
        mount: &str,
        path: &str,
    ) -> Result<KeyTarget, ObjectError> {
        let table = ctx.fresh_mount_table().await?;
        let v2 = match table_entry(&table, mount) {
            Some(entry) => kv_version(entry).as_deref() == Some("2"),
            // Enabled by this run's mounts stage; `apply` reads it then.
            None if ctx.planning => true,
            None => {
                return Err(ObjectError::Invalid(format!(
                    "export_key_to names mount `{mount}`, which does not exist; plan it under `mounts:` \
                     as a kv mount"
                )))
            }
        };
        let target = KeyTarget {
            path: if v2 {
                crate::paths::kv::data(mount, path)
            } else {
                format!("{mount}/{path}")
            },
            v2,
        };
        if ctx.vault.read(&target.path).await?.is_some() {
            return Err(ObjectError::Conflict(format!(
                "export_key_to names {mount}/{path}, which already holds a secret; a new CA's key is \
                 never written over it: name another path, or delete it if it is stale"
            )));
        }
        Ok(target)
    }
}

impl Resource for CaResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn fields_to_check(&self) -> Option<crate::resources::CheckedFields<'_>> {
        self.check.as_ref().map(FieldSet::view)
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let fields = resolve_fields(ctx, &self.spec.fields).await?;
            match held(&ctx.vault, &self.mount).await? {
                Held::Default(issuer) => self.compare(issuer, &fields),
                Held::NoDefault(count) => Err(ObjectError::Conflict(format!(
                    "{} holds {count} issuer(s) but none is the default, so it is unclear which is its CA; \
                     make one the default ({}/config/issuers) or remove them",
                    self.mount, self.mount
                ))),
                Held::Nothing => self.generate(ctx, fields).await,
            }
        })
    }
}
