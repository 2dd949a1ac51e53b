//! Buckets as IAM reads them under `--auth iam` (`ResourcePolicies`): a bucket's policy
//! (PutBucketPolicy) is the resource-based policy of the bucket and of every object in it,
//! and the bucket's owner is the account the request is decided against (S3 ARNs carry no
//! account: `arn:aws:s3:::bucket`, `arn:aws:s3:::bucket/key`), so a bucket policy can grant
//! another account's principals (who then also need their own identity allow) or deny any
//! principal, as AWS evaluates it.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html>

use crate::buckets::kind;
use crate::S3Service;
use serde_json::Value;

/// The bucket an S3 ARN names (`arn:aws:s3:::bucket[/key]`).
fn bucket_of(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?.split_once(":s3:::")?.1;
    Some(rest.split('/').next().unwrap_or(rest)).filter(|b| !b.is_empty())
}

impl nimbus_core::internal::ResourcePolicies for S3Service {
    fn policy_of(&self, arn: &str) -> Option<String> {
        let bucket = self.buckets.get(bucket_of(arn)?)?;
        bucket.configs.get(kind::POLICY).and_then(Value::as_str).map(str::to_string)
    }

    fn account_of(&self, arn: &str) -> Option<String> {
        self.buckets.get(bucket_of(arn)?).map(|b| b.account.clone())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn arns_name_their_bucket() {
        assert_eq!(super::bucket_of("arn:aws:s3:::b"), Some("b"));
        assert_eq!(super::bucket_of("arn:aws:s3:::b/a/k"), Some("b"));
        assert_eq!(super::bucket_of("arn:aws:sqs:us-east-1:1:q"), None);
        assert_eq!(super::bucket_of("*"), None);
    }
}
