#!/usr/bin/env python3
"""Vendor AWS service models (botocore's service-2.json, Apache-2.0) into the crates.

nimbus's protocol codecs are driven by these models. SQS needs two sources: the current
model (JSON protocol, newest members such as MessageSystemAttributeNames) and the last
query-protocol model (botocore 1.31.30), whose `locationName`, `flattened` and
`resultWrapper` traits name the query/XML wire elements. We keep the current model and
overlay the query-era XML traits onto it. CloudWatch Logs and EventBridge (JSON only), KMS, SSM and Secrets Manager (JSON), CloudWatch (RPC v2 CBOR, JSON 1.0, query), X-Ray (REST-JSON), IAM and SNS (query) and API Gateway v2 (REST-JSON) are the current
models as they are; S3 (REST-XML) gets its response documents' root names (below).
Documentation strings are dropped: they are
large and not needed at run time.

usage: tools/vendor_models.py <path to an unpacked botocore-1.31.30 wheel>
"""
import gzip, json, os, sys

import botocore

XML_TRAITS = ("locationName", "flattened", "queryName", "xmlNamespace", "resultWrapper")


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)


def strip_docs(node):
    if isinstance(node, dict):
        return {k: strip_docs(v) for k, v in node.items() if k not in ("documentation", "examples")}
    if isinstance(node, list):
        return [strip_docs(v) for v in node]
    return node


def overlay(current, old):
    """Copy the query/XML traits of `old` onto the same places of `current`."""
    for name, shape in current["shapes"].items():
        was = old["shapes"].get(name)
        if not was:
            continue
        for t in XML_TRAITS:
            if t in was:
                shape[t] = was[t]
        if shape["type"] == "structure":
            for m, member in shape["members"].items():
                for t in XML_TRAITS:
                    if t in was.get("members", {}).get(m, {}):
                        member[t] = was["members"][m][t]
        if shape["type"] == "list":
            for t in XML_TRAITS:
                if t in was["member"]:
                    shape["member"][t] = was["member"][t]
        if shape["type"] == "map":
            for side in ("key", "value"):
                for t in XML_TRAITS:
                    if t in was[side]:
                        shape[side][t] = was[side][t]
    for op, spec in current["operations"].items():
        was = old["operations"].get(op, {})
        if "resultWrapper" in was.get("output", {}):
            spec.setdefault("output", {})["resultWrapper"] = was["output"]["resultWrapper"]
    current["metadata"]["xmlNamespace"] = old["metadata"].get("xmlNamespace")
    # members that are new since the query era: give lists the flattened singular name
    # AWS uses on the query wire (e.g. MessageSystemAttributeName.1).
    rm = current["shapes"]["ReceiveMessageRequest"]["members"]
    if "MessageSystemAttributeNames" in rm:
        rm["MessageSystemAttributeNames"]["locationName"] = "MessageSystemAttributeName"
    return current


def model_path(service, version):
    base = os.path.join(os.path.dirname(botocore.__file__), "data", service, version)
    for name in ("service-2.json.gz", "service-2.json"):
        if os.path.exists(os.path.join(base, name)):
            return os.path.join(base, name)
    raise SystemExit(f"no model for {service} {version}")


def write(model, dest, sort_keys=True):
    """`sort_keys=False` keeps the model's member order (S3 writes XML elements in it)."""
    with open(dest, "w") as f:
        json.dump(strip_docs(model), f, indent=1, sort_keys=sort_keys)
        f.write("\n")
    print("wrote", dest)


# The models vendored as botocore has them now: (botocore name, API version, crate).
CURRENT_MODELS = [
    ("sts", "2011-06-15", "iam"),
    ("lambda", "2015-03-31", "lambda"),
    ("dynamodb", "2012-08-10", "dynamodb"),
    ("dynamodbstreams", "2012-08-10", "dynamodb"),
    ("logs", "2014-03-28", "logs"),
    ("iam", "2010-05-08", "iam"),
    ("apigatewayv2", "2018-11-29", "apigateway"),
    ("events", "2015-10-07", "events"),
    ("sns", "2010-03-31", "sns"),
    ("kms", "2014-11-01", "kms"),
    ("ssm", "2014-11-06", "ssm"),
    ("secretsmanager", "2017-10-17", "secretsmanager"),
    ("cloudwatch", "2010-08-01", "cloudwatch"),
    ("xray", "2016-04-12", "xray"),
]

# S3's response documents are named by the Smithy model's @xmlName on each output
# structure, which botocore leaves out (its parser does not check the root element; the
# AWS SDK for Rust does). Written onto the output shapes as `locationName`.
S3_RESPONSE_ROOTS = {
    "CompleteMultipartUploadOutput": "CompleteMultipartUploadResult",
    "CreateMultipartUploadOutput": "InitiateMultipartUploadResult",
    "CreateSessionOutput": "CreateSessionResult",
    "DeleteObjectsOutput": "DeleteResult",
    "GetBucketAccelerateConfigurationOutput": "AccelerateConfiguration",
    "GetBucketAclOutput": "AccessControlPolicy",
    "GetBucketCorsOutput": "CORSConfiguration",
    "GetBucketLifecycleOutput": "LifecycleConfiguration",
    "GetBucketLifecycleConfigurationOutput": "LifecycleConfiguration",
    "GetBucketLocationOutput": "LocationConstraint",
    "GetBucketLoggingOutput": "BucketLoggingStatus",
    "GetBucketRequestPaymentOutput": "RequestPaymentConfiguration",
    "GetBucketTaggingOutput": "Tagging",
    "GetBucketVersioningOutput": "VersioningConfiguration",
    "GetBucketWebsiteOutput": "WebsiteConfiguration",
    "GetObjectAclOutput": "AccessControlPolicy",
    "GetObjectAttributesOutput": "GetObjectAttributesResponse",
    "GetObjectTaggingOutput": "Tagging",
    "ListBucketsOutput": "ListAllMyBucketsResult",
    "ListDirectoryBucketsOutput": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploadsOutput": "ListMultipartUploadsResult",
    "ListObjectVersionsOutput": "ListVersionsResult",
    "ListObjectsOutput": "ListBucketResult",
    "ListObjectsV2Output": "ListBucketResult",
    "ListPartsOutput": "ListPartsResult",
    "NotificationConfiguration": "NotificationConfiguration",
    "NotificationConfigurationDeprecated": "NotificationConfiguration",
}


def s3_model():
    model = load(model_path("s3", "2006-03-01"))
    for shape, root in S3_RESPONSE_ROOTS.items():
        model["shapes"][shape]["locationName"] = root
    return model


def main():
    old_root = sys.argv[1]
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sqs = overlay(load(model_path("sqs", "2012-11-05")),
                  load(os.path.join(old_root, "botocore/data/sqs/2012-11-05/service-2.json")))
    write(sqs, os.path.join(here, "crates/sqs/model/sqs-2012-11-05.json"))
    for botocore_name, version, crate in CURRENT_MODELS:
        os.makedirs(os.path.join(here, f"crates/{crate}/model"), exist_ok=True)
        write(load(model_path(botocore_name, version)), os.path.join(here, f"crates/{crate}/model/{botocore_name}-{version}.json"))
    os.makedirs(os.path.join(here, "crates/s3/model"), exist_ok=True)
    write(s3_model(), os.path.join(here, "crates/s3/model/s3-2006-03-01.json"), sort_keys=False)


if __name__ == "__main__":
    main()
