//! Log stream operations: create, delete, describe (prefix, order, paging).

use crate::api::*;
use crate::engine::Stream;
use crate::errors::{in_range, required, LogsError, LogsResult};
use crate::names::{check_stream_name, group_from, stream_arn};
use crate::service::LogsService;
use crate::tokens;
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

/// A stream's description; `hidden` bytes are past retention, not counted.
fn stream_json(ctx: &RequestContext, group: &str, name: &str, s: &Stream, hidden: u64) -> Value {
    let mut m = Map::new();
    m.insert("logStreamName".into(), json!(name));
    m.insert("creationTime".into(), json!(s.created_ms));
    if let Some(t) = s.first_ts {
        m.insert("firstEventTimestamp".into(), json!(t));
    }
    if let Some(t) = s.last_ts {
        m.insert("lastEventTimestamp".into(), json!(t));
    }
    if let Some(t) = s.last_ingestion_ms {
        m.insert("lastIngestionTime".into(), json!(t));
    }
    if s.uploads > 0 {
        m.insert("uploadSequenceToken".into(), json!(s.uploads.to_string()));
    }
    m.insert("arn".into(), json!(stream_arn(&ctx.region, &ctx.account_id, group, name)));
    m.insert("storedBytes".into(), json!(s.stored_bytes.saturating_sub(hidden)));
    Value::Object(m)
}

impl LogsService {
    pub(crate) async fn create_log_stream(&self, ctx: &RequestContext, req: StreamRef) -> LogsResult<Value> {
        let group = required("logGroupName", req.log_group_name)?;
        let stream = required("logStreamName", req.log_stream_name)?;
        check_stream_name("logStreamName", &stream)?;
        let pending = self.engine.create_stream(&Self::key(ctx, group), &stream)?;
        Self::committed(pending).await?;
        Ok(Value::Null)
    }

    pub(crate) async fn delete_log_stream(&self, ctx: &RequestContext, req: StreamRef) -> LogsResult<Value> {
        let group = required("logGroupName", req.log_group_name)?;
        let stream = required("logStreamName", req.log_stream_name)?;
        let pending = self.engine.delete_stream(&Self::key(ctx, group), &stream)?;
        Self::committed(pending).await?;
        Ok(Value::Null)
    }

    pub(crate) async fn describe_log_streams(&self, ctx: &RequestContext, req: DescribeLogStreams) -> LogsResult<Value> {
        let group = group_from(req.log_group_name, req.log_group_identifier)?;
        let limit = in_range("limit", req.limit, 1, 50, 50)? as usize;
        let by_time = match req.order_by.as_deref() {
            None | Some("LogStreamName") => false,
            Some("LastEventTime") => true,
            Some(other) => return Err(LogsError::validation(other, "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")),
        };
        if by_time && req.log_stream_name_prefix.is_some() {
            return Err(LogsError::InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.".into()));
        }
        let descending = req.descending.unwrap_or(false);
        let after = req.next_token.as_deref().filter(|t| !t.is_empty()).map(tokens::parse_item_token).transpose()?;
        let prefix = req.log_stream_name_prefix.unwrap_or_default();
        let key = Self::key(ctx, group.clone());
        // Retention due in the store first: storedBytes and firstEventTimestamp follow it.
        self.engine.expire(&key).await?;
        let hidden = self.engine.hidden_bytes(&key).await?;
        self.engine.read(|st| {
            let g = st.group(&key)?;
            let mut items: Vec<((u64, &str), &Stream)> = g
                .streams
                .iter()
                .filter(|(n, _)| n.starts_with(&prefix))
                .map(|(n, s)| ((if by_time { s.last_ts.unwrap_or(0) } else { 0 }, n.as_str()), s))
                .collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            if descending {
                items.reverse();
            }
            let start = match &after {
                None => 0,
                Some((k, n)) => {
                    let tok = (*k, n.as_str());
                    items.iter().position(|(sk, _)| if descending { *sk < tok } else { *sk > tok }).unwrap_or(items.len())
                }
            };
            let page = &items[start..(start + limit).min(items.len())];
            let out: Vec<Value> = page.iter().map(|((_, n), s)| stream_json(ctx, &group, n, s, hidden.get(&s.id).copied().unwrap_or(0))).collect();
            let mut resp = json!({ "logStreams": out });
            if start + limit < items.len() {
                if let (Some(((k, n), _)), Value::Object(m)) = (page.last(), &mut resp) {
                    m.insert("nextToken".into(), json!(tokens::item_token(*k, n)));
                }
            }
            Ok(resp)
        })
    }
}
