//! ExternalSecrets listed through the Kubernetes API, across namespaces:
//! `external-secrets.io/v1`, or `v1beta1` on clusters that do not serve v1
//! yet (an ESO older than 0.17). Needs `list` on
//! `externalsecrets.external-secrets.io` (`vault-converge rbac`).

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};

use super::refs::external_secret;
use super::yaml::Tree;
use super::Gathered;
use crate::sources::kubernetes::KubeSecrets;

const GROUP: &str = "external-secrets.io";
const PLURAL: &str = "externalsecrets";
/// Items per page: a cluster with thousands of ExternalSecrets is listed in chunks.
const PAGE: u32 = 500;

/// Lists every ExternalSecret; `Err` when the API cannot be asked.
pub async fn read(kube: &KubeSecrets, store: &str) -> Result<Gathered, String> {
    let client = kube.client().await.map_err(|e| e.to_string())?;
    let mut objects = None;
    for version in ["v1", "v1beta1"] {
        match list(client.clone(), version).await {
            Ok(found) => {
                objects = Some(found);
                break;
            }
            // This version is not served: try the older one.
            Err(kube::Error::Api(status)) if status.code == 404 => continue,
            Err(kube::Error::Api(status)) if status.code == 403 || status.code == 401 => {
                return Err(format!(
                    "listing ExternalSecrets is forbidden ({}); grant `list` on externalsecrets.{GROUP} (`vault-converge rbac` prints the ClusterRole)",
                    status.message
                ))
            }
            Err(e) => return Err(format!("cannot list ExternalSecrets: {e}")),
        }
    }
    let objects = objects.ok_or_else(|| {
        format!("the cluster serves no ExternalSecrets ({GROUP}/v1 or v1beta1): is the External Secrets Operator installed?")
    })?;
    let mut gathered = Gathered::default();
    for object in objects {
        let doc = Tree::from_json(&object);
        if let Some((secret, stores)) = external_secret(&doc, store) {
            gathered.seen += 1;
            gathered.stores.extend(stores.iter().cloned());
            if stores.contains(store) {
                gathered.secrets.push(secret);
            }
        }
    }
    Ok(gathered)
}

/// Every object of one version, page by page, as JSON with its apiVersion and kind.
async fn list(client: kube::Client, version: &str) -> Result<Vec<serde_json::Value>, kube::Error> {
    let gvk = GroupVersionKind::gvk(GROUP, version, "ExternalSecret");
    let resource = ApiResource::from_gvk_with_plural(&gvk, PLURAL);
    let api: Api<DynamicObject> = Api::all_with(client, &resource);
    let mut out = Vec::new();
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let page = api.list(&params).await?;
        for mut object in page.items {
            // Items of a List may leave out their type; the list's version is theirs.
            object.types.get_or_insert_with(|| kube::api::TypeMeta {
                api_version: resource.api_version.clone(),
                kind: resource.kind.clone(),
            });
            out.push(serde_json::to_value(&object).map_err(kube::Error::SerdeError)?);
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(out),
        }
    }
}
