//! A token in a Kubernetes Secret key. Read with GET; replaced with PUT
//! carrying the `resourceVersion` read (409 when another writer got there
//! first: never a lost update); created with POST and the managed-by label
//! when the Secret does not exist. Only the named key is written; every
//! other key, label and annotation is kept.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{Api, PostParams};

use super::{Loaded, StoreError};
use crate::plan::model::StoreSecretRef;
use crate::secret::Secret;
use crate::sources::kubernetes::KubeSecrets;

const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
const MANAGED_BY: &str = "vault-converge";

fn place(reference: &StoreSecretRef) -> String {
    format!(
        "Kubernetes Secret {}/{} key {}",
        reference.namespace, reference.name, reference.key
    )
}

pub(super) async fn load(
    kube: &KubeSecrets,
    reference: &StoreSecretRef,
) -> Result<Loaded, StoreError> {
    let api: Api<KubeSecret> = Api::namespaced(kube.client().await?, &reference.namespace);
    let found = api
        .get_opt(&reference.name)
        .await
        .map_err(|e| api_error(reference, "get", "read", e))?;
    let value = match found
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .and_then(|d| d.get(&reference.key))
    {
        Some(bytes) => {
            let text = String::from_utf8(bytes.0.clone()).map_err(|_| StoreError::Failed {
                doing: "read",
                place: place(reference),
                reason: "the value is not UTF-8 text".into(),
            })?;
            let token = text.trim();
            (!token.is_empty()).then(|| Secret::new(token))
        }
        None => None,
    };
    Ok(Loaded { value, kube: found })
}

pub(super) async fn save(
    kube: &KubeSecrets,
    reference: &StoreSecretRef,
    read: Option<&KubeSecret>,
    value: &Secret,
) -> Result<(), StoreError> {
    let api: Api<KubeSecret> = Api::namespaced(kube.client().await?, &reference.namespace);
    let bytes = ByteString(value.expose().as_bytes().to_vec());
    match read {
        Some(existing) => {
            let mut secret = existing.clone();
            secret.string_data = None;
            secret
                .data
                .get_or_insert_with(BTreeMap::new)
                .insert(reference.key.clone(), bytes);
            api.replace(&reference.name, &PostParams::default(), &secret)
                .await
                .map_err(|e| api_error(reference, "update", "replace", e))?;
        }
        None => {
            let secret = KubeSecret {
                metadata: ObjectMeta {
                    name: Some(reference.name.clone()),
                    namespace: Some(reference.namespace.clone()),
                    labels: Some(BTreeMap::from([(
                        MANAGED_BY_LABEL.to_owned(),
                        MANAGED_BY.to_owned(),
                    )])),
                    ..ObjectMeta::default()
                },
                data: Some(BTreeMap::from([(reference.key.clone(), bytes)])),
                type_: Some("Opaque".into()),
                ..KubeSecret::default()
            };
            api.create(&PostParams::default(), &secret)
                .await
                .map_err(|e| api_error(reference, "create", "create", e))?;
        }
    }
    Ok(())
}

/// 409 (a stale resourceVersion, or created meanwhile) is a lost race, not
/// an error to retry blindly; 401/403 name the RBAC verb to grant.
fn api_error(
    reference: &StoreSecretRef,
    verb: &'static str,
    doing: &'static str,
    error: kube::Error,
) -> StoreError {
    match error {
        kube::Error::Api(status) if status.code == 409 => StoreError::Conflict {
            place: place(reference),
        },
        kube::Error::Api(status) if status.code == 401 || status.code == 403 => {
            StoreError::Forbidden {
                place: place(reference),
                verb,
                message: status.message.clone(),
            }
        }
        other => StoreError::Failed {
            doing,
            place: place(reference),
            reason: other.to_string(),
        },
    }
}
