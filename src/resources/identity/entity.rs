//! An identity entity, `identity/entity/name/<name>`: policies, metadata and
//! `disabled`, compared as planned. Its aliases are objects of their own.

use serde_json::{Map, Value as Json};

use super::{compare_common, created, paths};
use crate::plan::model::Entity;
use crate::resources::owned::{Owned, PruneKind};
use crate::resources::{Action, Change, Context, Diff, ObjectId, Request, Resource};

pub struct EntityResource {
    pub id: ObjectId,
    pub name: String,
    /// The planned fields only: unset ones are neither compared nor written.
    pub fields: Json,
}

impl EntityResource {
    pub fn new(id: ObjectId, name: &str, entity: &Entity) -> EntityResource {
        let mut fields = Map::new();
        if let Some(policies) = &entity.policies {
            fields.insert("policies".into(), Json::from(policies.clone()));
        }
        if let Some(metadata) = &entity.metadata {
            let metadata = metadata
                .iter()
                .map(|(k, v)| (k.clone(), Json::from(v.clone())))
                .collect();
            fields.insert("metadata".into(), Json::Object(metadata));
        }
        if let Some(disabled) = entity.disabled {
            fields.insert("disabled".into(), Json::Bool(disabled));
        }
        EntityResource {
            id,
            name: name.to_owned(),
            fields: Json::Object(fields),
        }
    }
}

impl Resource for EntityResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    /// Deleting an entity deletes its aliases too.
    fn ownership(&self) -> Option<Owned> {
        Some(Owned::new(
            PruneKind::IdentityEntities,
            paths::entity(&self.name),
        ))
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let path = paths::entity(&self.name);
            let write = || vec![Request::post(path.clone(), self.fields.clone())];
            let Some(current) = ctx.identity.read(&ctx.vault, &path).await? else {
                return Ok(Change::new(Action::Create, created(&self.fields), write()));
            };
            let changes = compare_common(&self.fields, &current);
            if changes.is_empty() {
                return Ok(Change::unchanged());
            }
            Ok(Change::new(Action::Update, changes, write()))
        })
    }
}
