//! Unknown fields are found before anything is written (DESIGN.md "Unknown
//! parameters"): every planned field is checked against the server's own API
//! description, read once per run. Objects under a mount the run creates are
//! checked against another mount of the same type, or, when the server has
//! none, right after the mounts stage created it (before anything under it),
//! against that mount's own description (its help).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use super::build::Stage;
use crate::plan::LoadedPlan;
use crate::resources::{CheckedFields, Context, Kind};
use crate::vault::schema::{ApiSchema, FieldCheck};
use crate::vault::schema_mounts::{mount_types, path_help_fields};
use crate::vault::schema_prefetch::PrefetchedSchema;
use crate::vault::VaultError;

/// Objects by (stage, index in stage).
type At = (usize, usize);

pub struct FieldsGate<'p> {
    /// Where each field was declared, for the error.
    plan: &'p LoadedPlan,
    schema: ApiSchema,
    /// Unknown fields found so far: the error text per object.
    errors: HashMap<At, String>,
    /// Objects whose mount does not exist yet and that no other mount of its
    /// type could vouch for: checked again after the mounts stage.
    deferred: Vec<At>,
    /// Time spent reading descriptions and checking, for the report.
    elapsed: Duration,
    /// The stage that creates the plan's namespace, while it does not exist:
    /// every object waits for it.
    waiting_for: Option<usize>,
}

impl<'p> FieldsGate<'p> {
    /// Reads the API description (or takes the one `prefetched` read, when
    /// it was read for this namespace and token) and checks every object it can.
    pub async fn check(
        ctx: &Context,
        plan: &'p LoadedPlan,
        stages: &[Stage],
        prefetched: Option<PrefetchedSchema>,
    ) -> Result<FieldsGate<'p>, VaultError> {
        let started = Instant::now();
        let all: Vec<At> = stages
            .iter()
            .enumerate()
            .flat_map(|(s, stage)| (0..stage.resources.len()).map(move |i| (s, i)))
            .collect();
        if ctx.home.pending.is_some() {
            // The plan's namespace does not exist yet: its description is
            // read right after the namespaces stage created it.
            tracing::info!("the plan's namespace does not exist yet: planned fields are checked once it is created");
            let waiting_for = stages.iter().position(|stage| {
                stage
                    .resources
                    .iter()
                    .any(|r| r.id().kind == Kind::Namespace)
            });
            return Ok(FieldsGate {
                plan,
                schema: ApiSchema::unavailable("the plan's namespace does not exist yet".into()),
                errors: HashMap::new(),
                deferred: all,
                elapsed: started.elapsed(),
                waiting_for,
            });
        }
        let mut gate = FieldsGate {
            plan,
            schema: fetch(ctx, prefetched).await?,
            errors: HashMap::new(),
            deferred: Vec::new(),
            elapsed: Duration::ZERO,
            waiting_for: None,
        };
        gate.run(ctx, stages, all).await;
        gate.elapsed = started.elapsed();
        Ok(gate)
    }

    /// After stage `after` wrote: new mounts (and a new namespace) are in
    /// the description now.
    pub async fn recheck(
        &mut self,
        ctx: &Context,
        stages: &[Stage],
        after: usize,
    ) -> Result<(), VaultError> {
        if self.deferred.is_empty() || self.waiting_for.is_some_and(|w| after < w) {
            return Ok(());
        }
        self.waiting_for = None;
        let started = Instant::now();
        self.refresh(ctx, stages).await?;
        // Objects of the stages that ran are moot (and freed): their turn passed.
        let deferred: Vec<At> = std::mem::take(&mut self.deferred)
            .into_iter()
            .filter(|&(s, _)| s > after)
            .collect();
        self.run(ctx, stages, deferred).await;
        // Still unknown after its mount exists: nothing can be checked. Objects
        // under a mount a later stage creates wait for it.
        let schema = &self.schema;
        self.deferred.retain(|&(s, i)| {
            let set = stages[s].resources.get(i).and_then(|r| r.fields_to_check());
            set.is_some_and(|set| {
                (set.place.mount.as_ref()).is_some_and(|mount| !schema.has_mount(&mount.path))
            })
        });
        self.elapsed += started.elapsed();
        Ok(())
    }

    /// The description with the mounts the run created: each new mount's own
    /// help when the description read before is otherwise current, else (a
    /// namespace created, a help without a description) the whole one again.
    async fn refresh(&mut self, ctx: &Context, stages: &[Stage]) -> Result<(), VaultError> {
        if !self.schema.is_available() {
            return self.read_whole(ctx).await;
        }
        let types = mount_types_now(ctx).await?;
        let new_mounts: BTreeSet<String> = (self.deferred.iter())
            .filter_map(|&(s, i)| stages[s].resources.get(i)?.fields_to_check())
            .filter_map(|set| Some(set.place.mount.as_ref()?.path.trim_matches('/').to_owned()))
            .filter(|mount| types.contains_key(mount) && !self.schema.covers(mount))
            .collect();
        for mount in &new_mounts {
            match self.schema.add_mount_help(&ctx.vault, mount).await {
                Ok(true) => {}
                Ok(false) => return self.read_whole(ctx).await,
                Err(e) => {
                    tracing::debug!(%mount, error = %e, "a new mount's help cannot be read; reading the whole description");
                    return self.read_whole(ctx).await;
                }
            }
        }
        self.schema.set_mounts(types);
        Ok(())
    }

    async fn read_whole(&mut self, ctx: &Context) -> Result<(), VaultError> {
        self.schema = fetch(ctx, None).await?;
        Ok(())
    }

    /// Time spent reading the API description and checking fields.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Whether any unknown field was found.
    pub fn found_any(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The error for the object at (stage, index), if one of its fields is unknown.
    pub fn error_for(&self, stage: usize, index: usize) -> Option<&String> {
        self.errors.get(&(stage, index))
    }

    async fn run(&mut self, ctx: &Context, stages: &[Stage], objects: Vec<At>) {
        let mut confirmed: HashMap<String, Option<HashSet<String>>> = HashMap::new();
        for (s, i) in objects {
            let Some(set) = stages[s].resources.get(i).and_then(|r| r.fields_to_check()) else {
                continue;
            };
            let names = &set.names;
            if names.is_empty() {
                continue;
            }
            let mut result = self.schema.check(set.path, names);
            if let (FieldCheck::Unchecked(_), Some(mount)) = (&result, &set.place.mount) {
                // Borrowed from another mount of the type: only a hint, so
                // an object it doubts waits until its own mount exists.
                result = match self
                    .schema
                    .check_like(set.path, &mount.path, &mount.kind, names)
                {
                    FieldCheck::Known => FieldCheck::Known,
                    _ => {
                        self.deferred.push((s, i));
                        continue;
                    }
                };
            }
            match result {
                FieldCheck::Unknown(unknown) => {
                    // The full description can be wrong (two paths of one
                    // plugin sharing a schema name): the path's own help decides.
                    let parent = set.path.rsplit_once('/').map_or("", |(p, _)| p).to_owned();
                    if !confirmed.contains_key(&parent) {
                        let accepted = path_help_fields(&ctx.vault, set.path).await;
                        confirmed.insert(parent.clone(), accepted);
                    }
                    let unknown: Vec<String> = match confirmed.get(&parent).and_then(Option::as_ref)
                    {
                        Some(accepted) => unknown
                            .into_iter()
                            .filter(|f| !accepted.contains(f))
                            .collect(),
                        None => {
                            // Not provable without the path's help: a valid
                            // plan must never be refused on a doubtful description.
                            tracing::warn!(path = %set.path, fields = ?unknown, "fields look unknown but the path's help cannot be read to confirm; not checked");
                            Vec::new()
                        }
                    };
                    if !unknown.is_empty() {
                        self.errors
                            .insert((s, i), describe(self.plan, &set, &unknown));
                    }
                }
                FieldCheck::Unchecked(why) => {
                    tracing::debug!(path = %set.path, %why, "fields not checked");
                }
                FieldCheck::Known => {}
            }
        }
    }
}

async fn fetch(
    ctx: &Context,
    prefetched: Option<PrefetchedSchema>,
) -> Result<ApiSchema, VaultError> {
    let read = match prefetched {
        Some(prefetched) => prefetched.take(&ctx.vault).await,
        None => None,
    };
    let schema = match read {
        Some(read) => ApiSchema::settle(read)?,
        None => ApiSchema::fetch(&ctx.vault).await?,
    };
    Ok(schema.with_mounts(mount_types_now(ctx).await?))
}

/// Mount path → type, from the mount tables read again.
async fn mount_types_now(ctx: &Context) -> Result<HashMap<String, String>, VaultError> {
    // A token that may not read a table only loses the checks that borrow
    // another mount's description; the objects themselves report the 403.
    let table = |answer: Result<std::sync::Arc<serde_json::Value>, VaultError>| match answer {
        Ok(table) => Ok(table),
        Err(e) if e.code() == Some(403) => Ok(Default::default()),
        Err(e) => Err(e),
    };
    let (mounts, auth) = futures::join!(ctx.fresh_mount_table(), ctx.fresh_auth_table());
    let (mounts, auth) = (table(mounts)?, table(auth)?);
    Ok(mount_types(&mounts, &auth))
}

fn describe(plan: &LoadedPlan, set: &CheckedFields, unknown: &[String]) -> String {
    let named: Vec<String> = unknown
        .iter()
        .map(|name| {
            let at = plan
                .loc_of(set.place.at.child(name))
                .map(|l| format!(" ({}:{})", l.file, l.line))
                .unwrap_or_default();
            format!("`{name}`{at}")
        })
        .collect();
    format!(
        "the server does not know field(s) {} at {}: a typo, or a field of another method type; \
         fix or remove them (nothing was written)",
        named.join(", "),
        set.path
    )
}
