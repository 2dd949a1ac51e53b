//! The null server: the same HTTP stack nimbus uses (hyper 1.x http1 + hyper-util
//! `TokioIo` + `service_fn` on a multi-thread tokio runtime), answering every request
//! with a constant, small JSON body. It reads the request body (as any real server
//! must) and picks one of a handful of pre-built responses by `X-Amz-Target`, so that
//! the `recv-delete` workload has a message and receipt handle to work with. Its
//! throughput is the ceiling of this machine for this client and this HTTP stack.

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

struct Canned {
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
    fn new(addr: SocketAddr) -> Self {
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
    let body = canned.pick(target.as_deref());
    let resp = Response::builder()
        .status(200)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(body))
        .unwrap();
    Ok(resp)
}

pub fn run(listen: SocketAddr, threads: Option<usize>) -> Result<(), String> {
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
        let canned: &'static Canned = Box::leak(Box::new(Canned::new(addr)));
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
