//! Amazon CloudWatch metrics for nimbus (signing name `monitoring`; botocore speaks Smithy
//! RPC v2 CBOR to it, older SDKs JSON 1.0 or query, all three from the one model).
//!
//! [`service`] (model, dispatch, input helpers) → [`put`] (PutMetricData: AWS's limits,
//! datapoints to the store) and [`read`] (ListMetrics, GetMetricStatistics, GetMetricData)
//! → [`stats`] (a period's statistics and percentiles), [`math`] (metric math) and [`store`] (`cloudwatch.db`:
//! metrics and their datapoints, read back per query). [`errors`]: AWS's error codes. `sink`: CloudWatch as core's `MetricSink` (Logs' metric filters).
//!
//! Alarms: `alarm_put` (PutMetricAlarm, PutCompositeAlarm) and `alarm_ops` (the other alarm
//! operations) → [`alarm`] (one alarm, its stored document) and [`engine`] (every alarm in
//! memory, the evaluation timer on nimbus's clock, transitions, actions) → [`evaluate`]
//! (M of N, missing data, AWS's reasons), [`rule`] (composite AlarmRule) and [`notify`]
//! (the SNS message, Lambda event and EventBridge event of a state change).

pub mod alarm;
mod alarm_ops;
mod alarm_put;
pub mod engine;
pub mod errors;
pub mod evaluate;
pub mod notify;
pub mod rule;
pub mod math;
mod put;
mod read;
pub mod service;
mod sink;
pub mod stats;
pub mod store;

pub use service::CloudWatchService;
