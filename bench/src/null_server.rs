//! The null server: the same HTTP stack nimbus uses (hyper 1.x http1 + hyper-util
//! `TokioIo` + `service_fn` on a multi-thread tokio runtime), answering every request
//! with a constant, small JSON body. It reads the request body (as any real server
//! must) and picks one of a handful of pre-built responses by `X-Amz-Target`, so that
//! the `recv-delete` workload has a message and receipt handle to work with. DynamoDB
//! targets (`DynamoDB_20120810.*`) get DynamoDB-shaped answers, with `x-amz-crc32` as
//! DynamoDB sends it: `{}` for PutItem/UpdateItem, one ~200-byte item for GetItem, 100
//! such items for Query, an ACTIVE table for CreateTable/DescribeTable. Its throughput
//! is the ceiling of this machine for this client and this HTTP stack.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::payload::{message_body, DEFAULT_MESSAGE_SIZE};

/// One pre-built DynamoDB answer and its `x-amz-crc32`.
struct DdbBody {
    body: Bytes,
    crc32: String,
}

impl DdbBody {
    fn new(v: serde_json::Value) -> DdbBody {
        let body = Bytes::from(serde_json::to_vec(&v).unwrap());
        let crc32 = crc32fast::hash(&body).to_string();
        DdbBody { body, crc32 }
    }
}

struct DdbCanned {
    empty: DdbBody,
    get_item: DdbBody,
    query: DdbBody,
    batch_write: DdbBody,
    create_table: DdbBody,
    describe_table: DdbBody,
}

impl DdbCanned {
    /// Items shaped like nimbus-bench dynamodb's: pk S, sk N, c N, data S (~`item_size` B).
    fn new(query_items: usize, item_size: usize) -> DdbCanned {
        let data = message_body(item_size.saturating_sub(20).max(1));
        let item = |sk: usize| {
            serde_json::json!({
                "pk": {"S": "p000000"},
                "sk": {"N": sk.to_string()},
                "c": {"N": "0"},
                "data": {"S": data},
            })
        };
        let table = |status: &str| {
            serde_json::json!({
                "TableName": "null-table",
                "TableStatus": status,
                "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/null-table",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                ],
                "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                "ItemCount": 0,
                "TableSizeBytes": 0,
                "CreationDateTime": 1.7637696E9,
            })
        };
        DdbCanned {
            empty: DdbBody::new(serde_json::json!({})),
            get_item: DdbBody::new(serde_json::json!({"Item": item(0)})),
            query: DdbBody::new(serde_json::json!({
                "Count": query_items,
                "Items": (0..query_items).map(item).collect::<Vec<_>>(),
                "ScannedCount": query_items,
            })),
            batch_write: DdbBody::new(serde_json::json!({"UnprocessedItems": {}})),
            create_table: DdbBody::new(serde_json::json!({"TableDescription": table("ACTIVE")})),
            describe_table: DdbBody::new(serde_json::json!({"Table": table("ACTIVE")})),
        }
    }

    fn pick(&self, op: &[u8]) -> &DdbBody {
        match op {
            b"GetItem" => &self.get_item,
            b"Query" => &self.query,
            b"BatchWriteItem" => &self.batch_write,
            b"CreateTable" => &self.create_table,
            b"DescribeTable" => &self.describe_table,
            // PutItem, UpdateItem, DeleteItem, DeleteTable, ...
            _ => &self.empty,
        }
    }
}

struct Canned {
    ddb: DdbCanned,
    create_queue: Bytes,
    send_message: Bytes,
    send_batch: Bytes,
    receive: Bytes,
    empty: Bytes,
}

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    let digest = Md5::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Canned {
    fn new(addr: SocketAddr, query_items: usize, item_size: usize) -> Self {
        let body = message_body(DEFAULT_MESSAGE_SIZE);
        let md5 = md5_hex(body.as_bytes());
        let create_queue = serde_json::json!({
            "QueueUrl": format!("http://{addr}/000000000000/null-queue")
        });
        let send_message = serde_json::json!({
            "MD5OfMessageBody": md5,
            "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274"
        });
        let send_batch = serde_json::json!({
            "Successful": (0..10).map(|i| serde_json::json!({
                "Id": i.to_string(),
                "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274",
                "MD5OfMessageBody": md5,
            })).collect::<Vec<_>>(),
            "Failed": []
        });
        let receive = serde_json::json!({
            "Messages": [{
                "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274",
                "ReceiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a+null+receipt+handle==",
                "MD5OfBody": md5,
                "Body": body,
            }]
        });
        let to_bytes = |v: serde_json::Value| Bytes::from(serde_json::to_vec(&v).unwrap());
        Canned {
            ddb: DdbCanned::new(query_items, item_size),
            create_queue: to_bytes(create_queue),
            send_message: to_bytes(send_message),
            send_batch: to_bytes(send_batch),
            receive: to_bytes(receive),
            empty: Bytes::from_static(b"{}"),
        }
    }

    fn pick(&self, target: Option<&[u8]>) -> Bytes {
        let op = target
            .and_then(|t| t.strip_prefix(b"AmazonSQS.".as_slice()))
            .unwrap_or(b"SendMessage");
        match op {
            b"SendMessage" => self.send_message.clone(),
            b"ReceiveMessage" => self.receive.clone(),
            b"SendMessageBatch" => self.send_batch.clone(),
            b"CreateQueue" | b"GetQueueUrl" => self.create_queue.clone(),
            _ => self.empty.clone(),
        }
    }
}

async fn handle(
    canned: &'static Canned,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = req
        .headers()
        .get("x-amz-target")
        .map(|v| v.as_bytes().to_vec());
    // Read the whole request body, as a real server has to.
    let _ = req.into_body().collect().await;
    if let Some(op) = target.as_deref().and_then(|t| t.strip_prefix(b"DynamoDB_20120810.".as_slice())) {
        let d = canned.ddb.pick(op);
        let resp = Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
            .header("x-amz-crc32", d.crc32.as_str())
            .body(Full::new(d.body.clone()))
            .unwrap();
        return Ok(resp);
    }
    let body = canned.pick(target.as_deref());
    let resp = Response::builder()
        .status(200)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(body))
        .unwrap();
    Ok(resp)
}

pub fn run(
    listen: SocketAddr,
    threads: Option<usize>,
    query_items: usize,
    item_size: usize,
) -> Result<(), String> {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(t) = threads {
        rt.worker_threads(t);
    }
    let rt = rt.build().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| format!("bind {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let canned: &'static Canned = Box::leak(Box::new(Canned::new(addr, query_items, item_size)));
        eprintln!("null-server listening on http://{addr}");
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(canned, req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    })
}
