//! The parts of the API description the fields check reads, deserialized
//! straight from the answer: no JSON tree of the whole description (a
//! server with many mounts describes megabytes) is built and thrown away.

use std::collections::{BTreeMap, HashMap};

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

impl PathItem {
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
