#!/usr/bin/env bash
# Builds nimbus and nimbus-bench (release), starts nimbus, the null server and the
# peers asked for, measures startup and SQS throughput/latency against all of them
# in one invocation, prints the comparison, and stops everything it started.
# With --with-lambda it also builds the test function (nimbus-test-fn) and runs the
# Lambda benchmark (warm invoke + cold start) against nimbus. With --with-dynamodb it
# also runs the DynamoDB benchmark (PutItem, GetItem, Query, UpdateItem) against nimbus,
# the null server and moto (with --with-moto). With --with-apigw it runs the API Gateway
# benchmark (HTTP API -> Lambda proxy vs direct Invoke of the same event). With
# --with-sfn it runs the Step Functions benchmark (transitions/s of a Pass chain and of a
# Lambda-task chain) and with --with-kinesis the Kinesis benchmark (PutRecords records/s,
# GetRecords latency) against nimbus and LocalStack (with --with-localstack).
#
#   bench/run.sh [--with-moto] [--with-localstack] [--clients 1,16,64]
#                [--duration 5s] [--warmup 500ms] [--mode raw,sdk]
#                [--workload send,recv-delete] [--prefill 2000] [--json FILE]
#                [--with-lambda] [--lambda-clients 1,16] [--cold-starts 20] [--no-sqs]
#                [--with-apigw] [--with-dynamodb] [--ddb-workload put,get,update,query] [--ddb-stream]
#                [--with-sfn] [--sfn-chains pass,lambda] [--with-kinesis] [--kinesis-workload put,latency,get]
#                [--rounds N]
#                [--no-build] [--no-startup] [--no-null]
#
# All traffic stays on 127.0.0.1. Ports: nimbus 4566, null 4580, moto 5001,
# LocalStack 4599 (override with NIMBUS_PORT, NULL_PORT, MOTO_PORT, LOCALSTACK_PORT).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

with_moto=0
with_localstack=0
build=1
startup=1
null=1
clients="1,16,64"
duration="5s"
warmup="500ms"
mode="raw,sdk"
workload="send,recv-delete"
prefill="2000"
json=""
with_lambda=0
with_apigw=0
sqs=1
lambda_clients="1,16"
cold_starts="20"
with_dynamodb=0
ddb_workload="put,get,update,query"
ddb_stream=0
with_sfn=0
sfn_chains="pass,lambda"
with_kinesis=0
kinesis_workload="put,latency,get"
rounds=1

while [ $# -gt 0 ]; do
    case "$1" in
        --with-moto) with_moto=1 ;;
        --with-localstack) with_localstack=1 ;;
        --with-lambda) with_lambda=1 ;;
        --with-apigw) with_apigw=1 ;;
        --no-sqs) sqs=0 ;;
        --with-dynamodb) with_dynamodb=1 ;;
        --ddb-workload) ddb_workload="$2"; shift ;;
        --ddb-stream) ddb_stream=1 ;;
        --with-sfn) with_sfn=1 ;;
        --sfn-chains) sfn_chains="$2"; shift ;;
        --with-kinesis) with_kinesis=1 ;;
        --kinesis-workload) kinesis_workload="$2"; shift ;;
        --rounds) rounds="$2"; shift ;;
        --lambda-clients) lambda_clients="$2"; shift ;;
        --cold-starts) cold_starts="$2"; shift ;;
        --no-build) build=0 ;;
        --no-startup) startup=0 ;;
        --no-null) null=0 ;;
        --clients) clients="$2"; shift ;;
        --duration) duration="$2"; shift ;;
        --warmup) warmup="$2"; shift ;;
        --mode) mode="$2"; shift ;;
        --workload) workload="$2"; shift ;;
        --prefill) prefill="$2"; shift ;;
        --json) json="$2"; shift ;;
        -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

NIMBUS_PORT="${NIMBUS_PORT:-4566}"
NULL_PORT="${NULL_PORT:-4580}"
MOTO_PORT="${MOTO_PORT:-5001}"
LOCALSTACK_PORT="${LOCALSTACK_PORT:-4599}"

work="$(mktemp -d /tmp/nimbus-bench-run.XXXXXX)"
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        # Each server was started with setsid: its id is its process group's.
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME PORT CMD...: runs CMD in its own session, output to $work/NAME.log.
start() {
    local name="$1" port="$2"
    shift 2
    if ! port_free "$port"; then
        echo "run.sh: 127.0.0.1:$port is already in use (for $name); stop that first" >&2
        exit 1
    fi
    setsid "$@" >"$work/$name.log" 2>&1 </dev/null &
    pids+=("$!")
    echo "run.sh: started $name (pid $!) on 127.0.0.1:$port, log $work/$name.log" >&2
}

# wait_http NAME URL SECONDS [any]: until URL answers 200 (or anything, with "any").
wait_http() {
    local name="$1" url="$2" secs="$3" any="${4:-}"
    local deadline=$((SECONDS + secs)) code
    while [ "$SECONDS" -lt "$deadline" ]; do
        code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null || true)"
        if [ "$code" = "200" ] || { [ -n "$any" ] && [ "$code" != "000" ] && [ -n "$code" ]; }; then
            return 0
        fi
        sleep 0.2
    done
    echo "run.sh: $name did not come up at $url within ${secs}s; its log:" >&2
    tail -30 "$work/$name.log" >&2 || true
    exit 1
}

cd "$root"
build_pkgs=(-p nimbus -p nimbus-bench)
{ [ "$with_lambda" = 1 ] || [ "$with_apigw" = 1 ] || [ "$with_sfn" = 1 ]; } && build_pkgs+=(-p nimbus-test-fn)
if [ "$build" = 1 ]; then
    echo "run.sh: cargo build --release ${build_pkgs[*]}" >&2
    cargo build --release "${build_pkgs[@]}"
fi
nimbus_bin="$root/target/release/nimbus"
bench_bin="$root/target/release/nimbus-bench"
bootstrap_bin="$root/target/release/bootstrap"
check_bins=("$nimbus_bin" "$bench_bin")
{ [ "$with_lambda" = 1 ] || [ "$with_apigw" = 1 ] || [ "$with_sfn" = 1 ]; } && check_bins+=("$bootstrap_bin")
for b in "${check_bins[@]}"; do
    [ -x "$b" ] || { echo "run.sh: $b missing (build first)" >&2; exit 1; }
done
# The release profile keeps debug info (debug = 1): the test function is ~68 MB, its zip
# above nimbus's 16 MiB request limit. Functions get a stripped copy (~6 MB).
if [[ " ${build_pkgs[*]} " == *" nimbus-test-fn "* ]] && command -v strip >/dev/null; then
    strip -o "$work/bootstrap" "$bootstrap_bin" && bootstrap_bin="$work/bootstrap"
fi

# Peers first: their installs and starts are the slow part.
if [ "$with_moto" = 1 ]; then
    bash "$here/peers.sh" install-moto
    start moto "$MOTO_PORT" bash "$here/peers.sh" moto "$MOTO_PORT"
fi
if [ "$with_localstack" = 1 ]; then
    # The services LocalStack starts: what this run measures (unless given).
    if [ -z "${LOCALSTACK_SERVICES:-}" ]; then
        ls_services=()
        [ "$sqs" = 1 ] && ls_services+=(sqs)
        [ "$with_sfn" = 1 ] && ls_services+=(stepfunctions lambda)
        [ "$with_kinesis" = 1 ] && ls_services+=(kinesis)
        [ "${#ls_services[@]}" = 0 ] && ls_services=(sqs)
        LOCALSTACK_SERVICES="$(IFS=,; echo "${ls_services[*]}")"
        export LOCALSTACK_SERVICES
    fi
    bash "$here/peers.sh" install-localstack
    start localstack "$LOCALSTACK_PORT" bash "$here/peers.sh" localstack "$LOCALSTACK_PORT"
fi

if [ "$startup" = 1 ]; then
    echo "run.sh: startup time and idle RSS of $nimbus_bin" >&2
    "$bench_bin" startup --bin "$nimbus_bin" --runs 5
fi

nimbus_args=(serve --listen "127.0.0.1:$NIMBUS_PORT" --data-dir "$work/nimbus-data")
if [ "$with_kinesis" = 1 ]; then
    # Kinesis's per-shard limits (1 MB/s, 1,000 records/s in) would cap PutRecords.
    if "$nimbus_bin" serve --help 2>/dev/null | grep -q -- '--kinesis-no-throughput-limits'; then
        nimbus_args+=(--kinesis-no-throughput-limits)
    else
        echo "run.sh: this nimbus has no --kinesis-no-throughput-limits; its shard limits apply" >&2
    fi
fi
start nimbus "$NIMBUS_PORT" "$nimbus_bin" "${nimbus_args[@]}"
targets=(--target "nimbus=http://127.0.0.1:$NIMBUS_PORT")
if [ "$null" = 1 ]; then
    start null "$NULL_PORT" "$bench_bin" null-server --listen "127.0.0.1:$NULL_PORT"
    targets+=(--target "null=http://127.0.0.1:$NULL_PORT")
fi
wait_http nimbus "http://127.0.0.1:$NIMBUS_PORT/_nimbus/health" 30
[ "$null" = 1 ] && wait_http null "http://127.0.0.1:$NULL_PORT/" 10
if [ "$with_moto" = 1 ]; then
    wait_http moto "http://127.0.0.1:$MOTO_PORT/moto-api/" 60 any
    targets+=(--target "moto=http://127.0.0.1:$MOTO_PORT")
fi
if [ "$with_localstack" = 1 ]; then
    wait_http localstack "http://127.0.0.1:$LOCALSTACK_PORT/_localstack/health" 180
    targets+=(--target "localstack=http://127.0.0.1:$LOCALSTACK_PORT")
fi

if [ "$sqs" = 1 ]; then
    extra=()
    [ -n "$json" ] && extra+=(--json "$json")
    "$bench_bin" sqs "${targets[@]}" \
        --clients "$clients" --duration "$duration" --warmup "$warmup" \
        --mode "$mode" --workload "$workload" --prefill "$prefill" "${extra[@]}"
fi

if [ "$with_dynamodb" = 1 ]; then
    # nimbus, the null server (canned DynamoDB answers) and moto. Not LocalStack: it is
    # started with SERVICES=sqs, and its DynamoDB needs DynamoDB Local (Java).
    ddb_targets=()
    for ((i = 0; i < ${#targets[@]}; i += 2)); do
        case "${targets[$((i + 1))]}" in
            localstack=*) ;;
            *) ddb_targets+=("${targets[$i]}" "${targets[$((i + 1))]}") ;;
        esac
    done
    extra=()
    [ -n "$json" ] && extra+=(--json "${json%.json}-dynamodb.json")
    [ "$ddb_stream" = 1 ] && extra+=(--stream)
    "$bench_bin" dynamodb "${ddb_targets[@]}" \
        --clients "$clients" --duration "$duration" --warmup "$warmup" \
        --mode "$mode" --workload "$ddb_workload" "${extra[@]}"
fi

if [ "$with_lambda" = 1 ]; then
    # nimbus only: the null server and the SQS peers have no Lambda to compare.
    extra=()
    [ -n "$json" ] && extra+=(--json "${json%.json}-lambda.json")
    "$bench_bin" lambda --target "nimbus=http://127.0.0.1:$NIMBUS_PORT" \
        --clients "$lambda_clients" --duration "$duration" --warmup "$warmup" \
        --bootstrap "$bootstrap_bin" --cold-starts "$cold_starts" "${extra[@]}"
fi

if [ "$with_apigw" = 1 ]; then
    extra=()
    [ -n "$json" ] && extra+=(--json "${json%.json}-apigw.json")
    "$bench_bin" apigw --target "nimbus=http://127.0.0.1:$NIMBUS_PORT" \
        --clients "$lambda_clients" --duration "$duration" --warmup "$warmup" \
        --bootstrap "$bootstrap_bin" --ws "${extra[@]}"
fi

# nimbus and LocalStack only: the null server has no Step Functions or Kinesis, and
# neither peer is started with them otherwise.
svc_targets=(--target "nimbus=http://127.0.0.1:$NIMBUS_PORT")
[ "$with_localstack" = 1 ] && svc_targets+=(--target "localstack=http://127.0.0.1:$LOCALSTACK_PORT")

if [ "$with_sfn" = 1 ]; then
    extra=()
    [ -n "$json" ] && extra+=(--json "${json%.json}-sfn.json")
    "$bench_bin" sfn "${svc_targets[@]}" --chains "$sfn_chains" \
        --clients "$lambda_clients" --duration "$duration" --rounds "$rounds" \
        --bootstrap "$bootstrap_bin" "${extra[@]}"
fi

if [ "$with_kinesis" = 1 ]; then
    extra=()
    [ -n "$json" ] && extra+=(--json "${json%.json}-kinesis.json")
    "$bench_bin" kinesis "${svc_targets[@]}" --workload "$kinesis_workload" \
        --clients "$lambda_clients" --duration "$duration" --warmup "$warmup" \
        --rounds "$rounds" "${extra[@]}"
fi

echo >&2
echo "run.sh: RSS after the load (VmRSS):" >&2
for i in "${!pids[@]}"; do
    pid="${pids[$i]}"
    # The server may be a child of the session leader (peers.sh exec's, so usually not).
    rss="$(awk '/^VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null || echo "n/a")"
    echo "  pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80): $rss" >&2
done
