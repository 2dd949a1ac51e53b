//! S3's errors: each code with AWS's HTTP status, turned into core's `AwsError`, whose
//! members the REST-XML codec writes into the `<Error>` document beside `Code`, `Message`,
//! `RequestId` and `HostId` (`Resource`, `BucketName`, `Key`, `Condition`, …).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>

use nimbus_core::AwsError;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("The specified bucket does not exist")]
    NoSuchBucket { bucket: String },
    #[error("The specified key does not exist.")]
    NoSuchKey { key: String },
    #[error("{message}")]
    Other { code: &'static str, status: u16, message: String },
    #[error("{operation} is not supported by nimbus")]
    NotImplemented { operation: String },
    /// `InvalidArgument` with the `ArgumentName` / `ArgumentValue` it names.
    #[error("{message}")]
    BadArgument { message: String, name: String, value: String },
    /// An error with elements of its own in the `<Error>` document (`ArgumentName`,
    /// `PartNumber`, `ProposedSize` …), in the order given.
    #[error("{message}")]
    Detailed { code: &'static str, status: u16, message: String, members: Vec<(&'static str, String)> },
    #[error("The lifecycle configuration does not exist")]
    NoSuchLifecycleConfiguration { bucket: String },
    /// An error built with its own members and headers (`Condition`, `x-amz-delete-marker`, …).
    #[error("{}", .0.message)]
    Aws(Box<AwsError>),
    #[error("We encountered an internal error. Please try again.")]
    Internal(String),
}

pub type S3Result<T> = Result<T, S3Error>;

impl From<nimbus_core::storage::StorageError> for S3Error {
    fn from(e: nimbus_core::storage::StorageError) -> S3Error {
        tracing::error!(error = %e, "s3 storage");
        S3Error::Internal(e.to_string())
    }
}

impl From<std::io::Error> for S3Error {
    fn from(e: std::io::Error) -> S3Error {
        tracing::error!(error = %e, "s3 blob files");
        S3Error::Internal(e.to_string())
    }
}

impl S3Error {
    /// An error with AWS's code, status, message and elements of its own.
    pub fn detailed(code: &'static str, status: u16, message: impl Into<String>, members: &[(&'static str, &str)]) -> S3Error {
        S3Error::Detailed { code, status, message: message.into(), members: members.iter().map(|(k, v)| (*k, v.to_string())).collect() }
    }

    /// An error with AWS's code, status and message.
    pub fn other(code: &'static str, status: u16, message: impl Into<String>) -> S3Error {
        S3Error::Other { code, status, message: message.into() }
    }

    /// An error with members written into the `<Error>` document.
    pub fn with(code: &'static str, status: u16, message: impl Into<String>, members: &[(&str, String)]) -> S3Error {
        let mut e = AwsError::new(code, status, message.into());
        for (k, v) in members {
            e.members.insert((*k).to_string(), v.clone().into());
        }
        S3Error::Aws(Box::new(e))
    }

    /// Adds a response header (kept on `Aws` errors; others become `Aws`).
    pub fn header(self, name: &str, value: impl Into<String>) -> S3Error {
        let mut e: AwsError = self.into();
        e.headers.push((name.to_string(), value.into()));
        S3Error::Aws(Box::new(e))
    }
}

impl From<S3Error> for AwsError {
    fn from(e: S3Error) -> AwsError {
        let message = e.to_string();
        let mut err = match &e {
            S3Error::NoSuchBucket { bucket } => {
                let mut err = AwsError::new("NoSuchBucket", 404, message);
                err.members.insert("BucketName".into(), bucket.clone().into());
                err
            }
            S3Error::NoSuchKey { key } => {
                let mut err = AwsError::new("NoSuchKey", 404, message);
                err.members.insert("Key".into(), key.clone().into());
                err
            }
            S3Error::Other { code, status, .. } => AwsError::new(*code, *status, message),
            S3Error::NotImplemented { .. } => AwsError::new("NotImplemented", 501, message),
            S3Error::NoSuchLifecycleConfiguration { bucket } => {
                let mut err = AwsError::new("NoSuchLifecycleConfiguration", 404, message);
                err.members.insert("BucketName".into(), bucket.clone().into());
                err
            }
            S3Error::BadArgument { name, value, .. } => {
                let mut err = AwsError::new("InvalidArgument", 400, message);
                err.members.insert("ArgumentName".into(), name.clone().into());
                err.members.insert("ArgumentValue".into(), value.clone().into());
                err
            }
            S3Error::Detailed { code, status, members, .. } => {
                let mut err = AwsError::new(*code, *status, message);
                for (name, value) in members {
                    err.members.insert((*name).to_string(), value.clone().into());
                }
                err
            }
            S3Error::Aws(e) => (**e).clone(),
            S3Error::Internal(_) => AwsError::new("InternalError", 500, message),
        };
        err.fault = if err.status >= 500 { nimbus_core::error::Fault::Receiver } else { nimbus_core::error::Fault::Sender };
        err
    }
}
