//! AWS Step Functions for nimbus (JSON 1.0, target prefix `AWSStepFunctions`).
//!
//! [`service`] (model, dispatch); [`tasks`] (what a Task state's `Resource` does: the
//! contract between the execution engine and the integrations). The control plane, the
//! engine and the integrations are being built (issue 18); an operation not yet here
//! answers "… is not supported by nimbus".

pub mod service;
pub mod tasks;

pub use service::StepFunctionsService;
