//! AWS Step Functions for nimbus (JSON 1.0, target prefix `AWSStepFunctions`).
//!
//! [`service`] (model, dispatch, the seams the binary wires) → `ops_machines` (state
//! machines, versions, aliases, tags, validation), `ops_executions` (start, describe,
//! stop, list, history), `ops_activities` (activities and task tokens) → [`engine`] (the
//! registry, running executions, the interpreter) → [`store`] (`stepfunctions.db`).
//! [`definition`] parses and checks the Amazon States Language; [`tasks`] is the
//! contract between the engine and the task integrations; [`authorization`] is what IAM
//! reads of it (resource tags, `--auth iam`).

pub mod arns;
pub mod authorization;
pub mod definition;
pub mod engine;
pub mod errors;
mod ops_activities;
mod ops_executions;
mod ops_machines;
mod ops_map_runs;
mod ops_test_state;
pub mod service;
pub mod store;
pub mod tasks;

pub use service::StepFunctionsService;
