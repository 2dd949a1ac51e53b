//! Stream tags: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream (paginated by
//! key), and the ARN-based TagResource, UntagResource, ListTagsForResource. At most 50
//! tags per stream, keys 1–128 characters, values up to 256.
//! <https://docs.aws.amazon.com/streams/latest/dev/tagging.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::service::{int_in, parse_stream_arn, req, s, KinesisService};
use crate::stream::StreamHandle;
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const MAX_TAGS: usize = 50;

pub fn check_tags(tags: &BTreeMap<String, String>) -> KinesisResult<()> {
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(KinesisError::InvalidArgument(format!(
                "Tag key {k} must be between 1 and 128 characters."
            )));
        }
        if k.starts_with("aws:") {
            return Err(KinesisError::InvalidArgument(format!(
                "Tag key {k} uses the reserved prefix aws:."
            )));
        }
        if v.chars().count() > 256 {
            return Err(KinesisError::InvalidArgument(format!(
                "Tag value for key {k} must be at most 256 characters."
            )));
        }
    }
    Ok(())
}

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Value> {
    tags.iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect()
}

impl KinesisService {
    /// The stream a tagging ARN names (streams only; consumers carry no tags here).
    fn tagged(&self, arn: &str) -> KinesisResult<Arc<StreamHandle>> {
        let key = parse_stream_arn(arn)
            .filter(|_| !arn.contains("/consumer/"))
            .ok_or_else(|| KinesisError::InvalidArgument(format!("Invalid ResourceARN: {arn}")))?;
        self.stream_by_key(&key)
            .ok_or_else(|| KinesisError::stream_not_found(&key.2, &key.0))
    }

    async fn edit_tags(
        &self,
        handle: &StreamHandle,
        edit: impl FnOnce(&mut BTreeMap<String, String>) -> KinesisResult<()>,
    ) -> KinesisResult<Value> {
        let pending = {
            let mut st = handle.state.lock();
            let mut tags = st.meta.tags.clone();
            edit(&mut tags)?;
            check_tags(&tags)?;
            if tags.len() > MAX_TAGS {
                return Err(KinesisError::LimitExceeded(format!("Failed to add tags to stream {} under account {} because a given stream cannot have more than {MAX_TAGS} tags.", st.meta.name, st.meta.account)));
            }
            st.meta.tags = tags;
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) async fn add_tags_to_stream(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let new = crate::ops_streams::tag_map(Some(
            input
                .get("Tags")
                .ok_or_else(|| KinesisError::missing("tags"))?,
        ))?;
        if new.is_empty() {
            return Err(KinesisError::constraint(
                "{}",
                "tags",
                "Member must have length greater than or equal to 1",
            ));
        }
        let handle = self.stream(ctx, input)?;
        self.edit_tags(&handle, |tags| {
            tags.extend(new);
            Ok(())
        })
        .await
    }

    pub(crate) async fn remove_tags_from_stream(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let keys = strings(input, "TagKeys").ok_or_else(|| KinesisError::missing("tagKeys"))?;
        let handle = self.stream(ctx, input)?;
        self.edit_tags(&handle, |tags| {
            keys.iter().for_each(|k| drop(tags.remove(k)));
            Ok(())
        })
        .await
    }

    pub(crate) fn list_tags_for_stream(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let limit = int_in(input, "Limit", 1, 50)?.unwrap_or(50) as usize;
        let handle = self.stream(ctx, input)?;
        let st = handle.state.lock();
        let after = s(input, "ExclusiveStartTagKey");
        let tags: BTreeMap<String, String> = st
            .meta
            .tags
            .iter()
            .filter(|(k, _)| after.is_none_or(|a| k.as_str() > a))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let more = tags.len() > limit;
        let page: BTreeMap<String, String> = tags.into_iter().take(limit).collect();
        Ok(json!({ "Tags": tag_list(&page), "HasMoreTags": more }))
    }

    pub(crate) async fn tag_resource(
        &self,
        _ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let handle = self.tagged(req(input, "ResourceARN")?)?;
        let new = crate::ops_streams::tag_map(Some(
            input
                .get("Tags")
                .ok_or_else(|| KinesisError::missing("tags"))?,
        ))?;
        self.edit_tags(&handle, |tags| {
            tags.extend(new);
            Ok(())
        })
        .await
    }

    pub(crate) async fn untag_resource(
        &self,
        _ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let handle = self.tagged(req(input, "ResourceARN")?)?;
        let keys = strings(input, "TagKeys").ok_or_else(|| KinesisError::missing("tagKeys"))?;
        self.edit_tags(&handle, |tags| {
            keys.iter().for_each(|k| drop(tags.remove(k)));
            Ok(())
        })
        .await
    }

    pub(crate) fn list_tags_for_resource(
        &self,
        _ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        let handle = self.tagged(req(input, "ResourceARN")?)?;
        let st = handle.state.lock();
        Ok(json!({ "Tags": tag_list(&st.meta.tags) }))
    }
}

fn strings(input: &Value, member: &str) -> Option<Vec<String>> {
    input.get(member).and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    })
}
