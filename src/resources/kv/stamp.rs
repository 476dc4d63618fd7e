//! The ownership stamp of KV v2 fixtures (DESIGN.md "Ownership and
//! prune"): `custom_metadata: {managed-by: vault-converge, instance: <name>}`,
//! written with a fixture this instance creates, owns or adopts.

use serde_json::{json, Map, Value as Json};

use super::KvResource;
use crate::paths;
use crate::resources::compare::FieldChange;
use crate::resources::{Change, Context, ObjectError, Request};

/// The ownership stamp's update alone, or no change.
pub(super) fn stamp_only(stamp: Option<(FieldChange, Request)>) -> Change {
    match stamp {
        Some((field, request)) => {
            Change::new(crate::resources::Action::Update, vec![field], vec![request])
        }
        None => Change::unchanged(),
    }
}

impl KvResource {
    /// `custom_metadata: {managed-by, instance}` on the secret's metadata,
    /// added to what is there (`have`).
    pub(super) fn stamp_request(&self, ctx: &Context, have: Option<&Map<String, Json>>) -> Request {
        let mut metadata = have.cloned().unwrap_or_default();
        metadata.insert(MANAGED_BY.into(), json!(TOOL));
        metadata.insert("instance".into(), json!(ctx.registry.instance()));
        Request::post(
            paths::kv::metadata(&self.mount, &self.path),
            json!({ "custom_metadata": metadata }),
        )
    }

    /// A secret this instance owns (or adopts) that lacks the stamp gets it;
    /// one another instance stamped keeps that stamp.
    /// `have`: the current version's `custom_metadata`.
    pub(super) async fn restamp(
        &self,
        ctx: &Context,
        have: Option<&Map<String, Json>>,
    ) -> Result<Option<(FieldChange, Request)>, ObjectError> {
        if !ctx.ownership.track {
            return Ok(None);
        }
        if have.is_some_and(|m| m.get(MANAGED_BY).and_then(Json::as_str) == Some(TOOL)) {
            return Ok(None);
        }
        let standing = ctx.registry.standing(&ctx.vault, &self.id.path).await?;
        if !ctx.ownership.adopt && standing != crate::registry::Standing::Owned {
            return Ok(None);
        }
        let field = FieldChange {
            field: format!("custom_metadata.{MANAGED_BY}"),
            old: None,
            new: Some(format!("{TOOL} (instance {})", ctx.registry.instance())),
        };
        Ok(Some((field, self.stamp_request(ctx, have))))
    }
}

const MANAGED_BY: &str = "managed-by";
const TOOL: &str = "vault-converge";
