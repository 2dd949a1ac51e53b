//! Whether a running event source mapping may still read its source as its function's
//! execution role (`--auth iam`). AWS reads the queue or stream with the role's
//! credentials on every poll, so a role that loses `sqs:ReceiveMessage` (or the stream
//! actions) stops the mapping until the permission comes back. CreateEventSourceMapping
//! checks the same actions up front (`esm.rs`, `esm_stream.rs`); here the pollers re-check
//! before each receive. Answers are cached per poller by the role and IAM's policy
//! version, so a batch costs one atomic load and a function lookup; a blocked poller
//! waits for IAM's next change (a notification), never polls.

use crate::esm::Mapping;
use crate::service::Inner;

/// What an SQS mapping needs of its queue (AWSLambdaSQSQueueExecutionRole).
pub(crate) const SQS_READS: [&str; 3] = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"];

/// What a DynamoDB stream mapping needs of its stream (AWSLambdaDynamoDBExecutionRole).
pub(crate) const STREAM_READS: [&str; 4] = ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"];

/// One poller's cached answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Access {
    version: u64,
    role: String,
    /// The first action the role lacks.
    missing: Option<&'static str>,
    checked: bool,
    /// What this poller last recorded in the mapping's health (records only changes).
    reported: Option<&'static str>,
}

impl Access {
    /// IAM's policy version the answer was decided at (wait for a change past it).
    pub(crate) fn version(&self) -> u64 {
        self.version
    }
}

impl Inner {
    /// The first of `actions` the mapping's role may not perform on its source; None when
    /// it may read (always, unless IAM enforces), or when the function is gone (the
    /// invocation then fails as it does without IAM). A change from the poller's last
    /// answer is recorded in the mapping's health (`access_problem`).
    pub(crate) fn missing_read(&self, m: &Mapping, actions: &'static [&'static str], cache: &mut Access) -> Option<&'static str> {
        let missing = self.decide_read(m, actions, cache);
        if missing != cache.reported {
            self.access_problem(m, missing);
            cache.reported = missing;
        }
        missing
    }

    fn decide_read(&self, m: &Mapping, actions: &'static [&'static str], cache: &mut Access) -> Option<&'static str> {
        if !self.roles.enforcing() {
            return None;
        }
        let version = self.roles.policy_version();
        let role = {
            let functions = self.functions.read();
            let f = functions.get(&(m.account.clone(), m.region.clone(), m.function_name.clone()))?;
            let v = f.resolve(m.qualifier.as_deref())?;
            if cache.checked && cache.version == version && cache.role == v.role {
                return cache.missing;
            }
            v.role.clone()
        };
        let missing = actions.iter().copied().find(|a| !self.roles.role_allows(&role, a, crate::esm_kinesis::stream_arn(&m.event_source_arn)));
        *cache = Access { version, role, missing, checked: true, reported: cache.reported };
        missing
    }

    /// Records that the mapping's role lacks `missing` (or, with None, that it may read
    /// again), logging the change once each way.
    fn access_problem(&self, m: &Mapping, missing: Option<&str>) {
        let problem = missing.map(|action| problem_text(m, action));
        let mut all = self.mapping_health.lock();
        let h = all.entry(m.uuid.clone()).or_default();
        if h.access_problem == problem {
            return;
        }
        match &problem {
            Some(p) => tracing::warn!(mapping = %m.uuid, source = %m.event_source_arn, function = %m.function_arn(), "event source mapping stopped reading: {p}"),
            None => tracing::info!(mapping = %m.uuid, source = %m.event_source_arn, "event source mapping reads again: its execution role's permissions came back"),
        }
        h.access_problem = problem;
    }
}

/// How the API shows a role that may not read the source. AWS does not publish the
/// running mapping's wording; these follow its CreateEventSourceMapping messages for the
/// same cause, with the `PROBLEM: ` prefix of `LastProcessingResult`.
fn problem_text(m: &Mapping, action: &str) -> String {
    if m.stream.is_some() {
        format!(
            "PROBLEM: Cannot access stream {}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.",
            m.event_source_arn
        )
    } else {
        let name = action.split_once(':').map_or(action, |(_, a)| a);
        format!("PROBLEM: Lambda function execution role does not have permissions to call {name} on SQS")
    }
}
