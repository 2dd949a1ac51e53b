//! Narrow interfaces services use to reach each other inside one nimbus, without knowing
//! each other's internals. The binary wires the implementations together.

/// One log line for CloudWatch Logs.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
    pub message: String,
}

/// Where services write logs (Lambda's function output, START/END/REPORT lines). The
/// CloudWatch Logs service implements it; the group and stream are created if missing.
pub trait LogSink: Send + Sync {
    fn append(&self, account: &str, region: &str, group: &str, stream: &str, lines: Vec<LogLine>);
}

/// A sink that drops everything (when no logs service is wired).
pub struct NoLogs;

impl LogSink for NoLogs {
    fn append(&self, _: &str, _: &str, _: &str, _: &str, _: Vec<LogLine>) {}
}

/// Sends messages to a queue by ARN (Lambda destinations and dead-letter queues, SNS
/// subscriptions later). The SQS service implements it.
pub trait MessageBus: Send + Sync {
    /// Sends `body` with String message attributes; returns the new message's id, or why
    /// it could not be sent.
    fn send_to_queue<'a>(&'a self, queue_arn: &'a str, body: String, attributes: Vec<(String, String)>) -> crate::service::BoxFuture<'a, Result<String, String>>;
    /// The same, with `trace` (an `X-Amzn-Trace-Id` value) as the message's
    /// `AWSTraceHeader` (Lambda's destinations and dead-letter queues carry the
    /// invocation's trace).
    fn send_to_queue_traced<'a>(&'a self, queue_arn: &'a str, body: String, attributes: Vec<(String, String)>, _trace: Option<String>) -> crate::service::BoxFuture<'a, Result<String, String>> {
        self.send_to_queue(queue_arn, body, attributes)
    }
}

/// A bus with no queues (when SQS is not wired).
pub struct NoBus;

impl MessageBus for NoBus {
    fn send_to_queue<'a>(&'a self, queue_arn: &'a str, _body: String, _attributes: Vec<(String, String)>) -> crate::service::BoxFuture<'a, Result<String, String>> {
        Box::pin(async move { Err(format!("no queue service for {queue_arn}")) })
    }
}

/// SendMessage on a queue named by ARN with SQS's own checks and answer (API Gateway's
/// `SQS-SendMessage` integrations). `input` is SendMessage's JSON input (`MessageBody`,
/// `DelaySeconds`, `MessageAttributes`, `MessageGroupId`, `MessageDeduplicationId`);
/// the answer is SendMessage's JSON output, or SQS's error. The SQS service implements it.
///
/// The other SQS subtypes work the same way: ReceiveMessage's input (`MaxNumberOfMessages`,
/// `VisibilityTimeout`, `WaitTimeSeconds`, `AttributeNames`, `MessageAttributeNames`,
/// `ReceiveRequestAttemptId`) and output; DeleteMessage's (`ReceiptHandle`); PurgeQueue's.
pub trait QueueSender: Send + Sync {
    fn send_message<'a>(&'a self, queue_arn: &'a str, input: serde_json::Value) -> crate::service::BoxFuture<'a, Result<serde_json::Value, crate::AwsError>>;
    fn receive_message<'a>(&'a self, queue_arn: &'a str, input: serde_json::Value) -> crate::service::BoxFuture<'a, Result<serde_json::Value, crate::AwsError>>;
    fn delete_message<'a>(&'a self, queue_arn: &'a str, input: serde_json::Value) -> crate::service::BoxFuture<'a, Result<serde_json::Value, crate::AwsError>>;
    fn purge_queue<'a>(&'a self, queue_arn: &'a str) -> crate::service::BoxFuture<'a, Result<serde_json::Value, crate::AwsError>>;
    /// SendMessage carrying `trace` (an `X-Amzn-Trace-Id` value) as the message's
    /// `AWSTraceHeader` system attribute (SNS and EventBridge deliveries, S3 notifications).
    fn send_message_traced<'a>(&'a self, queue_arn: &'a str, mut input: serde_json::Value, trace: Option<String>) -> crate::service::BoxFuture<'a, Result<serde_json::Value, crate::AwsError>> {
        if let Some(t) = trace {
            input["MessageSystemAttributes"] = serde_json::json!({ "AWSTraceHeader": { "DataType": "String", "StringValue": t } });
        }
        self.send_message(queue_arn, input)
    }
    /// Whether the queue exists (S3 validates its notification destinations).
    fn queue_exists(&self, _queue_arn: &str) -> bool {
        true
    }
}

/// PutEvents on an account's and region's event buses with EventBridge's own checks and
/// answer (API Gateway's `EventBridge-PutEvents` integrations, Lambda's destinations on
/// event buses): `input` is PutEvents' JSON input (`Entries`), the answer its JSON output
/// (`Entries`, `FailedEntryCount`) or EventBridge's error. The EventBridge service implements it.
pub trait EventPublisher: Send + Sync {
    fn put_events<'a>(&'a self, account: &'a str, region: &'a str, input: serde_json::Value) -> crate::service::BoxFuture<'a, Result<serde_json::Value, crate::AwsError>>;
}

/// No event buses (when EventBridge is not wired).
pub struct NoEvents;

impl EventPublisher for NoEvents {
    fn put_events<'a>(&'a self, _: &'a str, _: &'a str, _: serde_json::Value) -> crate::service::BoxFuture<'a, Result<serde_json::Value, crate::AwsError>> {
        Box::pin(async { Err(crate::AwsError::internal("no EventBridge service")) })
    }
}

/// A message as an event source mapping receives it, already in the shape of Lambda's
/// SQS event record (`attributes` and `messageAttributes` as AWS writes them there).
#[derive(Debug, Clone)]
pub struct PolledMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub message_attributes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy)]
pub struct QueueFacts {
    pub fifo: bool,
    pub visibility_timeout_s: u64,
}

/// What an event source mapping needs of a queue (the SQS service implements it). The
/// receive waits for messages by notification, like a long poll.
pub trait QueueSource: Send + Sync {
    fn facts(&self, queue_arn: &str) -> Result<QueueFacts, String>;
    fn receive<'a>(&'a self, queue_arn: &'a str, max: usize, wait_ms: u64) -> crate::service::BoxFuture<'a, Result<Vec<PolledMessage>, String>>;
    fn delete<'a>(&'a self, queue_arn: &'a str, receipt_handles: Vec<String>) -> crate::service::BoxFuture<'a, Result<(), String>>;
}

/// One stream record as an event source mapping delivers it: its position and the
/// record already in the shape of Lambda's event record for that source.
#[derive(Debug, Clone)]
pub struct StreamEntry {
    pub seq: u64,
    /// The record's sequence number as the event shows it.
    pub sequence_number: String,
    pub created_ms: u64,
    /// The record's partition key (DynamoDB: the item's hash key), which
    /// `ParallelizationFactor` keeps in order.
    pub partition_key: String,
    pub record: serde_json::Value,
    /// The `X-Amzn-Trace-Id` of the request whose write made this record (kept by nimbus,
    /// not part of the record: AWS's stream records carry no trace).
    pub trace: Option<String>,
}

/// What an event source mapping needs of a stream (DynamoDB Streams implements it;
/// Kinesis will too). Positions are exclusive sequence numbers; waiting is by
/// notification through `subscribe`.
pub trait StreamSource: Send + Sync {
    /// The stream's shard ids (DynamoDB: one shard).
    fn shards(&self, stream_arn: &str) -> Result<Vec<String>, String>;
    /// Up to `max` records of the shard after `after` (`None`: from the oldest retained).
    fn read(&self, stream_arn: &str, shard_id: &str, after: Option<u64>, max: usize) -> Result<Vec<StreamEntry>, String>;
    /// The last record's position now (for `StartingPosition: LATEST`).
    fn latest(&self, stream_arn: &str) -> Result<Option<u64>, String>;
    /// A receiver that changes whenever records are appended.
    fn subscribe(&self, stream_arn: &str) -> Option<tokio::sync::watch::Receiver<u64>>;
    /// The last record's position in one shard now (`StartingPosition: LATEST` on a
    /// stream of several shards); by default the stream's `latest`.
    fn latest_in(&self, stream_arn: &str, _shard_id: &str) -> Result<Option<u64>, String> {
        self.latest(stream_arn)
    }
    /// The position just before the shard's first record that arrived at or after
    /// `at_ms` (`AT_TIMESTAMP`; `None`: from the oldest retained). The default reads the
    /// shard from its start.
    fn position_at(&self, stream_arn: &str, shard_id: &str, at_ms: u64) -> Result<Option<u64>, String> {
        let mut after = None;
        loop {
            let page = self.read(stream_arn, shard_id, after, 1000)?;
            for r in &page {
                if r.created_ms >= at_ms {
                    return Ok(after);
                }
                after = Some(r.seq);
            }
            if page.len() < 1000 {
                return Ok(after);
            }
        }
    }
    /// The shards `shard_id` was split or merged from (Kinesis resharding): an event
    /// source mapping reads them to their end before it reads this shard.
    fn parent_shards(&self, _stream_arn: &str, _shard_id: &str) -> Vec<String> {
        Vec::new()
    }
    /// Whether the shard is closed (no record will be added to it any more).
    fn shard_closed(&self, _stream_arn: &str, _shard_id: &str) -> bool {
        false
    }
    /// Whether the enhanced fan-out consumer (its ARN) is registered and active.
    fn consumer_exists(&self, _consumer_arn: &str) -> bool {
        true
    }
}

/// What a signed request's access key id stands for: its secret, and who signs with it.
/// IAM implements the lookup (user access keys, temporary credentials from STS); the
/// binary adds the account's root key pair in front of it.
#[derive(Debug, Clone)]
pub struct ResolvedKey {
    pub secret_access_key: String,
    pub account_id: String,
    /// The signer: `arn:aws:iam::<acct>:root`, `arn:aws:iam::<acct>:user/<path><name>`,
    /// `arn:aws:sts::<acct>:assumed-role/<role>/<session>`, `arn:aws:sts::<acct>:federated-user/<name>`.
    pub principal_arn: String,
    /// The unique id GetCallerIdentity shows as `UserId` (`AIDA…`, `AROA…:<session>`, the account id for root).
    pub user_id: String,
    /// Temporary credentials: the session token that must accompany the key, and when it expires.
    pub session_token: Option<String>,
    pub expires_at_ms: Option<u64>,
    /// False for an access key made Inactive by UpdateAccessKey.
    pub active: bool,
}

/// Looks up access key ids (see `ResolvedKey`).
pub trait CredentialResolver: Send + Sync {
    fn resolve(&self, access_key_id: &str) -> Option<ResolvedKey>;
    /// A request signed with the key was accepted (GetAccessKeyLastUsed).
    fn note_used(&self, _access_key_id: &str, _service: &str, _region: &str) {}
}

/// No keys known (when IAM is not wired).
pub struct NoCredentials;

impl CredentialResolver for NoCredentials {
    fn resolve(&self, _access_key_id: &str) -> Option<ResolvedKey> {
        None
    }
}

/// Temporary credentials a service receives for a role it acts as.
#[derive(Debug, Clone)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expires_at_ms: u64,
}

/// How services act as roles (Lambda runs a function as its execution role). IAM/STS
/// implements it; the binary wires it.
pub trait RoleAssumer: Send + Sync {
    /// Whether `service` (e.g. `lambda.amazonaws.com`) may assume the role: Err names why
    /// not (no such role, or its trust policy does not name the service).
    fn check_service_trust(&self, role_arn: &str, service: &str) -> Result<(), String>;
    /// Whether a failed trust check refuses the call (the `iam` auth mode) or only warns.
    fn enforcing(&self) -> bool;
    /// Whether the role's policies allow `action` on `resource` (a service acting as the
    /// role: an event source mapping reading its queue). Always true when not enforcing.
    fn role_allows(&self, _role_arn: &str, _action: &str, _resource: &str) -> bool {
        true
    }
    /// A counter that moves whenever an identity policy may have changed (IAM's change
    /// generation): a service caches `role_allows` answers per role and this version.
    fn policy_version(&self) -> u64 {
        0
    }
    /// Resolves once `policy_version` differs from `seen` (a running event source mapping
    /// that lost its permissions waits on it instead of polling). Never, without IAM.
    fn policy_changed(&self, _seen: u64) -> crate::service::BoxFuture<'_, ()> {
        Box::pin(std::future::pending())
    }
    /// Credentials for the role, as `service` gets them, valid for `duration_s`.
    fn assume_for_service<'a>(&'a self, role_arn: &'a str, service: &'a str, session_name: &'a str, duration_s: u64) -> crate::service::BoxFuture<'a, Result<RoleCredentials, String>>;
}

/// No IAM wired: nothing to check, no credentials.
pub struct NoRoles;

impl RoleAssumer for NoRoles {
    fn check_service_trust(&self, _role_arn: &str, _service: &str) -> Result<(), String> {
        Ok(())
    }
    fn enforcing(&self) -> bool {
        false
    }
    fn assume_for_service<'a>(&'a self, _role_arn: &'a str, _service: &'a str, _session_name: &'a str, _duration_s: u64) -> crate::service::BoxFuture<'a, Result<RoleCredentials, String>> {
        Box::pin(async { Err("no IAM".to_string()) })
    }
}

/// Resource-based policies a service keeps (an SQS queue's `Policy` attribute, a Lambda
/// function's policy), read by the IAM authorizer when it decides a request on that
/// resource.
pub trait ResourcePolicies: Send + Sync {
    /// The policy document of the resource named by `arn`, if it has one.
    fn policy_of(&self, arn: &str) -> Option<String>;
    /// The resource's tags (the `aws:ResourceTag/<key>` condition keys).
    fn tags_of(&self, _arn: &str) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Service-specific condition keys that need the resource's own data, for a request
    /// of `operation` (decoded `input`) on the resource `arn`: DynamoDB's
    /// `dynamodb:LeadingKeys` needs the table's key schema. `(key, values)`.
    fn condition_keys(&self, _arn: &str, _operation: &str, _input: &serde_json::Value) -> Vec<(String, Vec<String>)> {
        Vec::new()
    }
    /// The ARN of the resource a request names some other way, in `account` / `region`:
    /// KMS resolves an alias name or ARN, a key id, or a ciphertext blob (base64) to its
    /// key's ARN, which is what IAM authorizes. `None`: not known.
    fn canonical_arn(&self, _account: &str, _region: &str, _reference: &str) -> Option<String> {
        None
    }
    /// The account owning the resource `arn` names, for ARNs that carry none (S3's
    /// `arn:aws:s3:::bucket`: the bucket's owner). `None`: not known (the caller's own).
    fn account_of(&self, _arn: &str) -> Option<String> {
        None
    }
}

/// Decides whether a verified caller may run an operation (`--auth iam`); IAM
/// implements it with AWS's policy evaluation logic. Called after the request is decoded
/// (resource names come from the input) and before the service runs it.
pub trait Authorizer: Send + Sync {
    /// `service` is the signing name (`sqs`, `dynamodb`, …); the error is the service's
    /// AccessDenied shape with AWS's message.
    fn authorize(&self, ctx: &crate::RequestContext, service: &str, operation: &str, input: &serde_json::Value) -> Result<(), crate::AwsError>;
}

/// What a synchronous function invocation answered: the function's result document, and
/// whether it is an error document (`X-Amz-Function-Error`).
#[derive(Debug, Clone)]
pub struct InvokeOutcome {
    pub payload: bytes::Bytes,
    pub function_error: bool,
}

/// Runs a function synchronously by ARN (API Gateway's `AWS_PROXY` integrations). The
/// Lambda service implements it. `Err` is why the function could not be run at all (no
/// such function, throttled); the caller decides how that surfaces.
pub trait FunctionInvoker: Send + Sync {
    fn invoke<'a>(&'a self, function_arn: &'a str, payload: bytes::Bytes) -> crate::service::BoxFuture<'a, Result<InvokeOutcome, String>>;
    /// The same, continuing the caller's trace (`trace`: an `X-Amzn-Trace-Id` value whose
    /// `Parent` is the caller's segment, e.g. API Gateway's stage segment).
    fn invoke_traced<'a>(&'a self, function_arn: &'a str, payload: bytes::Bytes, _trace: Option<String>) -> crate::service::BoxFuture<'a, Result<InvokeOutcome, String>> {
        self.invoke(function_arn, payload)
    }
}

/// No functions (when Lambda is not wired).
pub struct NoFunctions;

impl FunctionInvoker for NoFunctions {
    fn invoke<'a>(&'a self, function_arn: &'a str, _payload: bytes::Bytes) -> crate::service::BoxFuture<'a, Result<InvokeOutcome, String>> {
        Box::pin(async move { Err(format!("no function service for {function_arn}")) })
    }
}

/// Queues an asynchronous (`InvocationType=Event`) invocation of a function by ARN, with
/// Lambda's own retries, destinations and dead-letter queue (SNS and EventBridge deliver
/// to functions this way). `Ok` once Lambda has stored the event; `Err` when it cannot be
/// queued (no such function). The Lambda service implements it.
pub trait EventInvoker: Send + Sync {
    fn invoke_event<'a>(&'a self, function_arn: &'a str, payload: bytes::Bytes) -> crate::service::BoxFuture<'a, Result<(), String>>;
    /// The same, carrying the triggering request's `X-Amzn-Trace-Id` (S3 event
    /// notifications) into the invocation's trace header.
    fn invoke_event_traced<'a>(&'a self, function_arn: &'a str, payload: bytes::Bytes, _trace_id: Option<String>) -> crate::service::BoxFuture<'a, Result<(), String>> {
        self.invoke_event(function_arn, payload)
    }
    /// Whether the function (and the ARN's qualifier) exists (S3 validates its
    /// notification destinations).
    fn function_exists(&self, _function_arn: &str) -> bool {
        true
    }
}

/// No functions (when Lambda is not wired).
impl EventInvoker for NoFunctions {
    fn invoke_event<'a>(&'a self, function_arn: &'a str, _payload: bytes::Bytes) -> crate::service::BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { Err(format!("no function service for {function_arn}")) })
    }
}

/// Publishes a message to an SNS topic by ARN (Lambda's asynchronous-invocation
/// destinations). `Ok` is the new message's id. The SNS service implements it.
pub trait TopicPublisher: Send + Sync {
    fn publish<'a>(&'a self, topic_arn: &'a str, message: String) -> crate::service::BoxFuture<'a, Result<String, String>>;
    /// Publishes carrying `trace` (an `X-Amzn-Trace-Id` value) to the topic's deliveries
    /// (Lambda's destinations on topics).
    fn publish_traced<'a>(&'a self, topic_arn: &'a str, message: String, _trace: Option<String>) -> crate::service::BoxFuture<'a, Result<String, String>> {
        self.publish(topic_arn, message)
    }
    /// Publishes with a `Subject` (S3's event notifications: "Amazon S3 Notification").
    fn publish_with_subject<'a>(&'a self, topic_arn: &'a str, _subject: String, message: String) -> crate::service::BoxFuture<'a, Result<String, String>> {
        self.publish(topic_arn, message)
    }
    /// With a `Subject`, carrying `trace` to the deliveries (S3's traced notifications).
    fn publish_with_subject_traced<'a>(&'a self, topic_arn: &'a str, subject: String, message: String, _trace: Option<String>) -> crate::service::BoxFuture<'a, Result<String, String>> {
        self.publish_with_subject(topic_arn, subject, message)
    }
    /// Whether the topic exists (S3 validates its notification destinations).
    fn topic_exists(&self, _topic_arn: &str) -> bool {
        true
    }
}

/// Reads one object of nimbus's S3 whole (Lambda's `Code.S3Bucket` / `S3Key` /
/// `S3ObjectVersion`). `Err` is S3's error (`NoSuchBucket`, `NoSuchKey`, `NoSuchVersion`,
/// `EntityTooLarge` past `max_bytes`) for the caller to word as its own service does. The S3
/// service implements it.
pub trait ObjectReader: Send + Sync {
    fn read_object<'a>(&'a self, account: &'a str, region: &'a str, bucket: &'a str, key: &'a str, version_id: Option<&'a str>, max_bytes: u64) -> crate::service::BoxFuture<'a, Result<bytes::Bytes, crate::AwsError>>;
}

/// One AWS service acting on another service's resource for one of the caller's
/// resources: SNS delivering a topic's message to a queue, EventBridge sending a rule's
/// event to a function. AWS decides it by the target resource's own policy, which must
/// allow the service principal (`sns.amazonaws.com`), usually under a condition on
/// `aws:SourceArn` (the topic or rule) or `aws:SourceAccount`.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourcearn>
#[derive(Debug, Clone, Copy)]
pub struct ServiceCall<'a> {
    /// The service principal, e.g. `sns.amazonaws.com`.
    pub service: &'a str,
    /// The action on the target, e.g. `sqs:SendMessage`.
    pub action: &'a str,
    /// The target resource's ARN.
    pub resource: &'a str,
    /// The resource the service acts for (`aws:SourceArn`).
    pub source_arn: &'a str,
    /// Its account (`aws:SourceAccount`).
    pub source_account: &'a str,
}

/// Decides `ServiceCall`s (IAM implements it; the binary wires it into the services that
/// deliver). Only enforced under `--auth iam`, like every other policy.
pub trait ServiceGrants: Send + Sync {
    /// `Err` says why the target's policy does not allow the call.
    fn allows(&self, call: &ServiceCall<'_>) -> Result<(), String>;
}

/// Nothing enforced (no IAM wired, or not `--auth iam`).
pub struct OpenGrants;

impl ServiceGrants for OpenGrants {
    fn allows(&self, _call: &ServiceCall<'_>) -> Result<(), String> {
        Ok(())
    }
}

/// One finished API request, as CloudTrail records it (`AWS API Call via CloudTrail`
/// events on the default event bus).
pub struct ApiCall<'a> {
    pub ctx: &'a crate::RequestContext,
    /// The service's signing name (`sqs`, `lambda`, …).
    pub service: &'a str,
    pub operation: &'a str,
    pub input: &'a serde_json::Value,
    pub outcome: Result<&'a serde_json::Value, &'a crate::AwsError>,
}

/// Receives finished API requests (EventBridge implements it; the binary wires it when
/// asked to). The router asks `wants` before it keeps a copy of the input, so requests
/// nobody records cost one call.
pub trait ApiCallRecorder: Send + Sync {
    fn wants(&self, service: &str, operation: &str) -> bool;
    fn record(&self, call: ApiCall<'_>);
}

/// KMS as other services use it (Secrets Manager secrets, SSM SecureString parameters):
/// encryption under a key of the caller's account and region, bound to an encryption
/// context, and decryption of a blob that KMS made. `key_id` is anything KMS accepts as a
/// KeyId: a key id, key ARN, alias name (`alias/aws/ssm`) or alias ARN; AWS managed keys
/// (`alias/aws/<service>`) are created on first use, as AWS creates them. Errors are
/// KMS's (`NotFoundException`, `DisabledException`, `KMSInvalidStateException`,
/// `InvalidCiphertextException`, …) for the calling service to pass on or translate.
pub trait KeyService: Send + Sync {
    fn encrypt<'a>(&'a self, account: &'a str, region: &'a str, key_id: &'a str, plaintext: &'a [u8], context: &'a std::collections::BTreeMap<String, String>) -> crate::service::BoxFuture<'a, Result<EncryptedBlob, crate::AwsError>>;
    fn decrypt<'a>(&'a self, account: &'a str, region: &'a str, ciphertext: &'a [u8], context: &'a std::collections::BTreeMap<String, String>) -> crate::service::BoxFuture<'a, Result<Vec<u8>, crate::AwsError>>;
}

/// What `KeyService::encrypt` made: the ciphertext blob and the ARN of the key used.
#[derive(Debug, Clone)]
pub struct EncryptedBlob {
    pub ciphertext: Vec<u8>,
    pub key_arn: String,
}

/// No KMS wired: every use fails.
pub struct NoKeys;

impl KeyService for NoKeys {
    fn encrypt<'a>(&'a self, _: &'a str, _: &'a str, _: &'a str, _: &'a [u8], _: &'a std::collections::BTreeMap<String, String>) -> crate::service::BoxFuture<'a, Result<EncryptedBlob, crate::AwsError>> {
        Box::pin(async { Err(crate::AwsError::internal("no KMS service")) })
    }
    fn decrypt<'a>(&'a self, _: &'a str, _: &'a str, _: &'a [u8], _: &'a std::collections::BTreeMap<String, String>) -> crate::service::BoxFuture<'a, Result<Vec<u8>, crate::AwsError>> {
        Box::pin(async { Err(crate::AwsError::internal("no KMS service")) })
    }
}

/// One metric value a service emits (CloudWatch Logs' metric filters, later the standard
/// metrics of each service): the metric's namespace, name, dimensions, value, unit and time.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDatum {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    pub value: f64,
    /// A CloudWatch unit (`Count`, `Seconds`, …); `None` is `None`.
    pub unit: Option<String>,
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
}

/// Where services put metric data for an account and region. The CloudWatch metrics
/// service implements it; until it is wired, [`NoMetrics`] drops every datum.
pub trait MetricSink: Send + Sync {
    fn put(&self, account: &str, region: &str, datum: MetricDatum);

    /// Aggregated datapoints (the standard service metrics, from core's `metrics.rs`):
    /// statistic sets, with the distinct values when they are known. The default puts each
    /// set's values one by one (or its sum when they are not known).
    fn put_sets(&self, sets: Vec<MetricSet>) {
        for s in sets {
            let datum = |value: f64| MetricDatum { namespace: s.namespace.clone(), name: s.name.clone(), dimensions: s.dimensions.clone(), value, unit: Some(s.unit.clone()), timestamp_ms: s.timestamp_ms };
            match &s.values {
                Some(values) => values.iter().for_each(|(v, n)| (0..*n as u64).for_each(|_| self.put(&s.account, &s.region, datum(*v)))),
                None => self.put(&s.account, &s.region, datum(s.sum)),
            }
        }
    }
}

/// One metric's statistic set for one minute (PutMetricData's `StatisticValues`, plus the
/// `(value, count)` pairs when every value is known, so percentiles still work).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSet {
    pub account: String,
    pub region: String,
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    /// A CloudWatch unit name (`Count`, `Milliseconds`, `Bytes`, …).
    pub unit: String,
    /// Milliseconds since the epoch (the start of the minute).
    pub timestamp_ms: u64,
    pub sample_count: f64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub values: Option<Vec<(f64, f64)>>,
}

/// Where finished X-Ray segment documents go (the X-Ray service implements it; the binary
/// installs it with [`crate::trace::install`]). `record` never blocks a request: an
/// implementation buffers and writes in the background.
pub trait TraceSink: Send + Sync {
    fn record(&self, segment: serde_json::Value);
}

/// A sink that drops every datum (when no metrics service is wired).
pub struct NoMetrics;

impl MetricSink for NoMetrics {
    fn put(&self, _: &str, _: &str, _: MetricDatum) {}
}

/// One AWS API call another service makes in-process, as if a client had sent it (Step
/// Functions' Task states: the optimized integrations and `arn:aws:states:::aws-sdk:*`).
/// No HTTP, no signature: the call runs as the account's root (`ServiceCaller::call`) or as
/// a role (`call_as`), in `region`.
#[derive(Debug, Clone)]
pub struct InProcessCall {
    pub account: String,
    pub region: String,
    /// The service's SigV4 signing name (`sqs`, `lambda`, `dynamodb`, `states`, `events`,
    /// `kinesis`, `s3`, …); DynamoDB Streams is `dynamodbstreams`.
    pub service: String,
    /// The operation as the model names it (`SendMessage`).
    pub operation: String,
    /// Shaped like the operation's input shape, as a codec would have decoded it.
    pub input: serde_json::Value,
    /// The caller's `X-Amzn-Trace-Id`, continued by the call.
    pub trace: Option<String>,
}

/// Runs `InProcessCall`s against the registered services (the binary implements it over
/// the router's services, after registering them all). Errors are the called service's
/// own (`QueueDoesNotExist`, `ConditionalCheckFailedException`, …).
pub trait ServiceCaller: Send + Sync {
    fn call(&self, call: InProcessCall) -> crate::service::BoxFuture<'_, Result<serde_json::Value, crate::AwsError>>;
    /// `call`, made as the IAM role `role_arn` (a Step Functions execution role): under
    /// `--auth iam` the call is first authorized as that role, and a denial is the called
    /// service's AccessDenied error; otherwise, and by default, the same as `call`.
    fn call_as<'a>(&'a self, call: InProcessCall, _role_arn: &'a str) -> crate::service::BoxFuture<'a, Result<serde_json::Value, crate::AwsError>> {
        self.call(call)
    }
    /// Whether `call_as` authorizes (`--auth iam`): a caller acting as another role
    /// checks that it may assume it only then.
    fn authorizes_roles(&self) -> bool {
        false
    }
    /// Whether a service of that signing name is registered.
    fn has_service(&self, service: &str) -> bool;
    /// The model of the service of that signing name (Step Functions' AWS SDK
    /// integrations map parameters and results through its shapes).
    fn service_model(&self, _service: &str) -> Option<&crate::model::ServiceModel> {
        None
    }
}

/// One record for a Kinesis data stream.
#[derive(Debug, Clone)]
pub struct StreamRecordInput {
    pub partition_key: String,
    pub data: Vec<u8>,
    pub explicit_hash_key: Option<String>,
}

/// Kinesis as other services write to it: DynamoDB's Kinesis streaming destination,
/// CloudWatch Logs subscription filters, EventBridge targets (Kinesis implements it).
/// Errors are Kinesis's (`ResourceNotFoundException`, …).
pub trait RecordSink: Send + Sync {
    /// Appends the records in order (one PutRecords' worth, all or nothing).
    fn put_records<'a>(&'a self, stream_arn: &'a str, records: Vec<StreamRecordInput>) -> crate::service::BoxFuture<'a, Result<(), crate::AwsError>>;
    /// Whether the stream exists (destinations are checked when configured).
    fn stream_exists(&self, _stream_arn: &str) -> bool {
        true
    }
}
