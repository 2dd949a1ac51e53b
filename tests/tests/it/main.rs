//! The integration tests: one binary (each file under tests/tests/ would be its own
//! binary, each linking every AWS SDK again), one module per area. Every test starts its
//! own nimbus (see `nimbus_tests::Nimbus`) unless it says otherwise. Run one area with
//! `cargo test -p nimbus-tests --test it sqs_messages::`.

mod apigateway;
mod apigateway_auth;
mod apigateway_integrations;
mod apigateway_runtimes;
mod apigateway_ws;
mod auth_sigv4;
mod cloudwatch;
mod crash;
mod data_dir_lock;
mod dynamodb_durability;
mod dynamodb_fidelity;
mod dynamodb_gsi_multikey;
mod dynamodb_items;
mod dynamodb_legacy;
mod dynamodb_partiql;
mod dynamodb_streams;
mod dynamodb_tables;
mod eventbridge;
mod iam_enforcement;
mod iam_sfn_kinesis;
mod kinesis;
mod kms;
mod s3;
mod s3_aws_chunked;
mod s3_crash;
mod s3_multipart;
mod s3_events;
mod secretsmanager;
mod service_metrics;
mod lambda_async;
mod lambda_control;
mod lambda_esm;
mod lambda_esm_kinesis;
mod lambda_esm_rust;
mod lambda_esm_streams;
mod lambda_invoke;
mod lambda_runtimes;
mod logs;
mod sns;
mod sqs_dlq;
mod sqs_fidelity;
mod sqs_fifo;
mod sqs_messages;
mod sqs_queues;
mod ssm;
mod stepfunctions;
mod stepfunctions_tasks;
mod stepfunctions_dmap;
mod stepfunctions_tracing;
mod stepfunctions_test_state;
mod sts_and_isolation;
mod trace_chain;
mod xray;
