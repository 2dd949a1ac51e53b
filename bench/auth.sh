#!/usr/bin/env bash
# The cost of authentication modes on SendMessage: three nimbus servers side by side in
# one run — open (no checks), `--auth sigv4` (signature verified) and `--auth iam`
# (verified, then authorized by an IAM user's policy) — loaded by the same SDK-mode
# clients signing as that IAM user (created on each server with the same key pair is not
# possible, so the open and sigv4 servers accept the root key pair and the iam server
# gets a user whose key the clients use; open mode accepts any key).
#
#   bench/auth.sh [--clients 1,16] [--duration 8s] [--no-build]
#
# Ports: 4571 open, 4572 sigv4, 4573 iam. Needs the AWS CLI (or the test venv's).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
clients="1,16"
duration="8s"
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ "$build" = 1 ]; then
  (cd "$root" && cargo build --release -p nimbus -p nimbus-bench)
fi
bin="$root/target/release"
aws_cli="${AWS_CLI:-aws}"
root_key="AKIABENCHROOTEXAMPLE"
root_secret="bench/root+secret/EXAMPLEKEY"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for spec in "open 4571" "sigv4 4572" "iam 4573"; do
  set -- $spec
  NIMBUS_ROOT_ACCESS_KEY_ID="$root_key" NIMBUS_ROOT_SECRET_ACCESS_KEY="$root_secret" \
    "$bin/nimbus" serve --in-memory --listen "127.0.0.1:$2" --auth "$1" --log-level warn &
  pids+=($!)
done
for port in 4571 4572 4573; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/_nimbus/health" >/dev/null && break; sleep 0.1; done
done
as_root() { AWS_ACCESS_KEY_ID="$root_key" AWS_SECRET_ACCESS_KEY="$root_secret" AWS_DEFAULT_REGION=us-east-1 "$aws_cli" --endpoint-url "$1" "${@:2}"; }
# The user and its policy on the sigv4 and iam servers (the same key id cannot be chosen,
# so each server's user has its own key; the open server accepts the iam server's).
policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:SendMessage","sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueUrl","sqs:CreateQueue","sqs:DeleteQueue","sqs:PurgeQueue","sqs:GetQueueAttributes"],"Resource":"arn:aws:sqs:us-east-1:000000000000:*"}]}'
as_root http://127.0.0.1:4573 iam create-user --user-name bench >/dev/null
as_root http://127.0.0.1:4573 iam put-user-policy --user-name bench --policy-name sqs --policy-document "$policy"
read -r key secret < <(as_root http://127.0.0.1:4573 iam create-access-key --user-name bench --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
# On the sigv4 server the clients sign with the root key pair (no IAM user there).
echo "== open and iam servers: the IAM user's key; sigv4 server: the root key pair"
NIMBUS_BENCH_ACCESS_KEY_ID="$key" NIMBUS_BENCH_SECRET_ACCESS_KEY="$secret" "$bin/nimbus-bench" sqs --mode sdk --workload send \
  --clients "$clients" --duration "$duration" --target iam=http://127.0.0.1:4573 --target open=http://127.0.0.1:4571 --baseline iam --null-name none
NIMBUS_BENCH_ACCESS_KEY_ID="$root_key" NIMBUS_BENCH_SECRET_ACCESS_KEY="$root_secret" "$bin/nimbus-bench" sqs --mode sdk --workload send \
  --clients "$clients" --duration "$duration" --target sigv4=http://127.0.0.1:4572 --target open=http://127.0.0.1:4571 --baseline sigv4 --null-name none
