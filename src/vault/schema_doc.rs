//! The parts of the API description the fields check reads, deserialized
//! straight from the answer: no JSON tree of the whole description (a
//! server with many mounts describes megabytes) is built and thrown away.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Doc {
    /// Sorted, so patterns get the same ids whatever the answer's key order.
    pub paths: BTreeMap<String, PathItem>,
    pub components: Components,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Components {
    pub schemas: HashMap<String, SchemaDoc>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PathItem {
    pub post: Option<Post>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Post {
    #[serde(rename = "requestBody")]
    pub request_body: Option<RequestBody>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RequestBody {
    pub content: Content,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Content {
    #[serde(rename = "application/json")]
    pub json: Option<Media>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Media {
    pub schema: Option<SchemaDoc>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SchemaDoc {
    #[serde(rename = "$ref")]
    pub reference: Option<String>,
    /// Only the names are kept.
    pub properties: Option<BTreeMap<String, IgnoredAny>>,
    /// `false`, `true` or a schema: anything but `false` lets other fields in.
    #[serde(rename = "additionalProperties")]
    pub additional: Option<Json>,
}

/// Schemas that list some fields but pass the others on (a database
/// connection hands `connection_url`, `host`... to its plugin).
const PASS_THROUGH_SCHEMAS: &[&str] = &["DatabaseConfigureConnectionRequest"];

/// What the POST of one pattern accepts.
pub(super) enum Body {
    Fields(HashSet<String>),
    Arbitrary(&'static str),
    NoWrite,
}

impl PathItem {
    /// The POST body this item describes; `schemas` resolves its `$ref`.
    pub fn body(&self, schemas: &HashMap<String, SchemaDoc>) -> Body {
        let Some(schema) = self.post_schema() else {
            // KV v1, cubbyhole, sys/wrapping/wrap: the body is the data itself.
            return match self.post {
                Some(_) => Body::Arbitrary("takes arbitrary data"),
                None => Body::NoWrite,
            };
        };
        let (name, schema) = match &schema.reference {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or(r);
                match schemas.get(name) {
                    Some(s) => (name, s),
                    None => return Body::Arbitrary("request schema not in the description"),
                }
            }
            None => ("", schema),
        };
        match &schema.properties {
            _ if schema.is_open() || PASS_THROUGH_SCHEMAS.contains(&name) => {
                Body::Arbitrary("passes unlisted fields on")
            }
            Some(props) if !props.is_empty() => Body::Fields(props.keys().cloned().collect()),
            _ => Body::Arbitrary("request schema lists no fields"),
        }
    }

    /// The schema of the POST body, when it has a JSON one.
    pub fn post_schema(&self) -> Option<&SchemaDoc> {
        let body = self.post.as_ref()?.request_body.as_ref()?;
        body.content.json.as_ref()?.schema.as_ref()
    }
}

impl SchemaDoc {
    /// Whether fields the schema does not list are let in as well.
    pub fn is_open(&self) -> bool {
        self.additional
            .as_ref()
            .is_some_and(|a| a != &Json::Bool(false))
    }
}

/// A mount's answer to `GET {mount}?help=1`: its own description, with
/// paths relative to the mount.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Help {
    pub openapi: Option<Doc>,
}
