//! Event operations: PutLogEvents (limits and rejected events), GetLogEvents (one
//! stream, `f/`/`b/` tokens) and FilterLogEvents (several streams merged in event order,
//! filter patterns). Events are read from the store after a sync (every event accepted
//! before the request is seen), in bounded chunks: a response never holds more than
//! AWS's caps, whatever the stream holds.

use crate::api::*;
use crate::engine::{Stream, DAY_MS, EVENT_OVERHEAD};
use crate::errors::{in_range, required, LogsError, LogsResult};
use crate::filter::Pattern;
use crate::names::group_from;
use crate::service::LogsService;
use crate::store::{EventRecord, Scan};
use crate::tokens::{self, EventKey, Position};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
/// Responses carry at most this many bytes of events (AWS's 1 MB).
const MAX_RESPONSE_BYTES: usize = 1_048_576;
const MAX_AGE_MS: u64 = 14 * DAY_MS;
const MAX_FUTURE_MS: u64 = 2 * 3_600_000;
/// Events FilterLogEvents reads from one stream at a time.
const CHUNK_EVENTS: usize = 256;

/// One stream's place in FilterLogEvents' merge: read ahead by chunks.
struct Cursor<'a> {
    name: &'a str,
    id: u64,
    /// Where the next chunk starts; `None` once the stream's range is read.
    next_from: Option<EventKey>,
    to: EventKey,
    buffered: VecDeque<EventRecord>,
}

impl Cursor<'_> {
    /// The next event's key, reading a chunk from the store when the buffer is empty.
    fn peek(&mut self, svc: &LogsService) -> LogsResult<Option<EventKey>> {
        if self.buffered.is_empty() {
            if let Some(from) = self.next_from {
                let scan = Scan { from, to: self.to, backward: false, max_events: CHUNK_EVENTS, max_bytes: MAX_RESPONSE_BYTES };
                let chunk = svc.engine.events(self.id, &scan)?;
                self.next_from = chunk.last().map(|e| tokens::succ(e.key())).filter(|k| *k <= self.to);
                self.buffered.extend(chunk);
            }
        }
        Ok(self.buffered.front().map(|e| e.key()))
    }
}

fn non_negative(member: &str, v: Option<i64>) -> LogsResult<Option<u64>> {
    match v {
        Some(t) if t < 0 => Err(LogsError::validation(t, member, "Member must have value greater than or equal to 0")),
        other => Ok(other.map(|t| t as u64)),
    }
}

impl LogsService {
    pub(crate) async fn put_log_events(&self, ctx: &RequestContext, req: PutLogEvents) -> LogsResult<Value> {
        let group = required("logGroupName", req.log_group_name)?;
        let stream = required("logStreamName", req.log_stream_name)?;
        let events = required("logEvents", req.log_events)?;
        if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
            return Err(LogsError::validation(
                format!("[{} events]", events.len()),
                "logEvents",
                &format!("Member must have length between 1 and {MAX_BATCH_EVENTS}"),
            ));
        }
        let mut batch = Vec::with_capacity(events.len());
        let mut bytes = 0;
        for (i, e) in events.into_iter().enumerate() {
            let ts = non_negative(&format!("logEvents.{}.member.timestamp", i + 1), e.timestamp)?
                .ok_or_else(|| LogsError::missing(&format!("logEvents.{}.member.timestamp", i + 1)))?;
            let msg = required(&format!("logEvents.{}.member.message", i + 1), e.message)?;
            if msg.is_empty() {
                return Err(LogsError::validation("", &format!("logEvents.{}.member.message", i + 1), "Member must have length greater than or equal to 1"));
            }
            bytes += msg.len() + EVENT_OVERHEAD;
            batch.push((ts, msg));
        }
        if bytes > MAX_BATCH_BYTES {
            return Err(LogsError::InvalidParameter(format!("Upload too large: {bytes} bytes exceeds limit of {MAX_BATCH_BYTES}")));
        }
        let (min, max) = batch.iter().fold((u64::MAX, 0), |(lo, hi), (t, _)| (lo.min(*t), hi.max(*t)));
        if max - min > DAY_MS {
            return Err(LogsError::InvalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.".into()));
        }
        let key = Self::key(ctx, group);
        let now = self.engine.clock.now_ms();
        let cutoff = self.engine.read(|st| {
            let g = st.group(&key)?;
            if !g.streams.contains_key(&stream) {
                return Err(LogsError::StreamNotFound);
            }
            Ok(g.cutoff(now))
        })?;
        let (mut too_new, mut too_old, mut expired) = (None::<usize>, None::<usize>, None::<usize>);
        let mut accepted = Vec::with_capacity(batch.len());
        for (i, (ts, msg)) in batch.into_iter().enumerate() {
            if ts > now + MAX_FUTURE_MS {
                too_new = Some(too_new.map_or(i, |x| x.min(i)));
            } else if ts + MAX_AGE_MS < now {
                too_old = Some(i + 1);
            } else if ts < cutoff {
                expired = Some(i + 1);
            } else {
                accepted.push((ts, msg));
            }
        }
        let (pending, uploads, records) = self.engine.put_events(&key, &stream, accepted)?;
        Self::committed(pending).await?;
        self.apply_filters(&key, &stream, &records);
        let mut resp = Map::new();
        resp.insert("nextSequenceToken".into(), json!(format!("{uploads:056}")));
        if too_new.is_some() || too_old.is_some() || expired.is_some() {
            let mut info = Map::new();
            if let Some(i) = too_new {
                info.insert("tooNewLogEventStartIndex".into(), json!(i));
            }
            if let Some(i) = too_old {
                info.insert("tooOldLogEventEndIndex".into(), json!(i));
            }
            if let Some(i) = expired {
                info.insert("expiredLogEventEndIndex".into(), json!(i));
            }
            resp.insert("rejectedLogEventsInfo".into(), Value::Object(info));
        }
        Ok(Value::Object(resp))
    }

    pub(crate) async fn get_log_events(&self, ctx: &RequestContext, req: GetLogEvents) -> LogsResult<Value> {
        let group = group_from(req.log_group_name, req.log_group_identifier)?;
        let stream = required("logStreamName", req.log_stream_name)?;
        let limit = in_range("limit", req.limit, 1, 10_000, 10_000)? as usize;
        let start = non_negative("startTime", req.start_time)?.unwrap_or(0);
        let end = non_negative("endTime", req.end_time)?.unwrap_or(u64::MAX);
        let given = req.next_token.filter(|t| !t.is_empty());
        let position = given.as_deref().map(tokens::parse_event_token).transpose()?;
        let key = Self::key(ctx, group);
        self.engine.expire(&key).await?;
        self.engine.sync().await?;
        let now = self.engine.clock.now_ms();
        let (id, lo) = self.engine.read(|st| {
            let g = st.group(&key)?;
            let s = g.streams.get(&stream).ok_or(LogsError::StreamNotFound)?;
            Ok::<_, LogsError>((s.id, start.max(g.cutoff(now))))
        })?;
        // Events with timestamps in [lo, end), in key order (no event has seq 0, so an
        // `end` of 0 selects nothing); a token narrows it to one side of its key.
        let to = if end == 0 { (0, 0) } else { (end - 1, u64::MAX) };
        let (mut from, mut to, mut backward) = ((lo, 0), to, !req.start_from_head.unwrap_or(false));
        match position {
            Some(Position::After(k)) => (from, backward) = (from.max(tokens::succ(k)), false),
            Some(Position::Before(k)) => (to, backward) = (to.min(tokens::pred(k)), true),
            None => {}
        }
        let mut page = self.engine.events(id, &Scan { from, to, backward, max_events: limit, max_bytes: MAX_RESPONSE_BYTES })?;
        if backward {
            page.reverse();
        }
        let (forward, backward) = match (page.first(), page.last(), position) {
            (Some(first), Some(last), _) => (tokens::forward(last.key()), tokens::backward(first.key())),
            // Nothing more: hand back the same token, and its opposite from the same place.
            (_, _, Some(Position::After(k))) => (given.clone().unwrap_or_default(), tokens::backward(tokens::succ(k))),
            (_, _, Some(Position::Before(k))) => (tokens::forward(tokens::pred(k)), given.clone().unwrap_or_default()),
            (_, _, None) => (tokens::forward((0, 0)), tokens::backward((0, 0))),
        };
        let events: Vec<Value> = page.iter().map(|e| json!({ "timestamp": e.timestamp, "message": &*e.message, "ingestionTime": e.ingestion_ms })).collect();
        Ok(json!({ "events": events, "nextForwardToken": forward, "nextBackwardToken": backward }))
    }

    pub(crate) async fn filter_log_events(&self, ctx: &RequestContext, req: FilterLogEvents) -> LogsResult<Value> {
        let group = group_from(req.log_group_name, req.log_group_identifier)?;
        if req.log_stream_names.is_some() && req.log_stream_name_prefix.is_some() {
            return Err(LogsError::InvalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.".into()));
        }
        if let Some(names) = &req.log_stream_names {
            if names.is_empty() || names.len() > 100 {
                return Err(LogsError::validation(format!("[{} names]", names.len()), "logStreamNames", "Member must have length between 1 and 100"));
            }
        }
        let limit = in_range("limit", req.limit, 1, 10_000, 10_000)? as usize;
        let start = non_negative("startTime", req.start_time)?.unwrap_or(0);
        let end = non_negative("endTime", req.end_time)?.unwrap_or(u64::MAX);
        let pattern = Pattern::parse(req.filter_pattern.as_deref())?;
        let after = req.next_token.as_deref().filter(|t| !t.is_empty()).map(tokens::parse_filter_token).transpose()?;
        let prefix = req.log_stream_name_prefix.unwrap_or_default();
        let key = Self::key(ctx, group);
        self.engine.expire(&key).await?;
        self.engine.sync().await?;
        let now = self.engine.clock.now_ms();
        // The selected streams' names and ids, and the key range, taken from memory.
        let (selected, from) = self.engine.read(|st| {
            let g = st.group(&key)?;
            let lo = start.max(g.cutoff(now));
            let from = after.map_or((lo, 0), |a| tokens::succ(a).max((lo, 0)));
            let wanted = |n: &String, s: &Stream| {
                n.starts_with(&prefix) && req.log_stream_names.as_ref().is_none_or(|names| names.contains(n)) && s.last_ts.is_some_and(|t| t >= from.0)
                    && s.first_ts.is_some_and(|t| t <= end)
            };
            let all: Vec<(String, Option<u64>)> = g
                .streams
                .iter()
                .filter(|(n, _)| n.starts_with(&prefix) && req.log_stream_names.as_ref().is_none_or(|names| names.contains(n)))
                .map(|(n, s)| (n.clone(), Some(s.id).filter(|_| wanted(n, s))))
                .collect();
            Ok::<_, LogsError>((all, from))
        })?;
        let to = (end, u64::MAX);
        let mut cursors: Vec<Cursor> = selected
            .iter()
            .filter_map(|(n, id)| id.map(|id| Cursor { name: n, id, next_from: Some(from).filter(|f| *f <= to), to, buffered: VecDeque::new() }))
            .collect();
        let (page, more) = self.merge(&mut cursors, &pattern, limit)?;
        let events: Vec<Value> = page
            .iter()
            .map(|(stream, e)| {
                json!({
                    "logStreamName": stream,
                    "timestamp": e.timestamp,
                    "message": &*e.message,
                    "ingestionTime": e.ingestion_ms,
                    "eventId": tokens::event_id(e.key()),
                })
            })
            .collect();
        let searched: Vec<Value> = selected.iter().map(|(n, _)| json!({ "logStreamName": n, "searchedCompletely": !more })).collect();
        let mut resp = json!({ "events": events, "searchedLogStreams": searched });
        if let (true, Some((_, last)), Value::Object(m)) = (more, page.last(), &mut resp) {
            m.insert("nextToken".into(), json!(tokens::filter_token(last.key())));
        }
        Ok(resp)
    }

    /// Merges the cursors' events in key order, keeps those matching `pattern`, up to
    /// `limit` events and the response size cap; also says whether another match follows.
    fn merge<'a>(&self, cursors: &mut [Cursor<'a>], pattern: &Pattern, limit: usize) -> LogsResult<(Vec<(&'a str, EventRecord)>, bool)> {
        let mut heap = BinaryHeap::new();
        for (i, c) in cursors.iter_mut().enumerate() {
            if let Some(k) = c.peek(self)? {
                heap.push(Reverse((k, i)));
            }
        }
        let mut page = Vec::new();
        let mut bytes = 0;
        while let Some(Reverse((_, i))) = heap.pop() {
            let c = &mut cursors[i];
            let Some(e) = c.buffered.pop_front() else { continue };
            if let Some(k) = c.peek(self)? {
                heap.push(Reverse((k, i)));
            }
            if !pattern.matches(&e.message) {
                continue;
            }
            if page.len() == limit || (bytes + e.size() > MAX_RESPONSE_BYTES && !page.is_empty()) {
                return Ok((page, true));
            }
            bytes += e.size();
            page.push((c.name, e));
        }
        Ok((page, false))
    }
}
