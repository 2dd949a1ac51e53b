#!/usr/bin/env bash
# Installs and runs the peers nimbus is compared with, each in its own venv, in the
# foreground (run.sh puts them in the background and stops them).
#
#   bench/peers.sh install-moto              venv /tmp/nimbus-bench-moto with moto[server]
#   bench/peers.sh moto [PORT]               moto_server on 127.0.0.1:PORT (default 5001)
#   bench/peers.sh install-localstack        venv /tmp/nimbus-bench-localstack, LocalStack 4.14.0
#   bench/peers.sh localstack [PORT]         LocalStack (no Docker) on 127.0.0.1:PORT (default 4599)
#
# Environment: MOTO_VENV, LOCALSTACK_VENV, LOCALSTACK_PYTHON override the defaults.
set -euo pipefail

MOTO_VENV="${MOTO_VENV:-/tmp/nimbus-bench-moto}"
LOCALSTACK_VENV="${LOCALSTACK_VENV:-/tmp/nimbus-bench-localstack}"
LOCALSTACK_PYTHON="${LOCALSTACK_PYTHON:-/root/.pyenv/versions/3.13.0/bin/python}"
LOCALSTACK_VERSION="4.14.0"

log() { echo "peers.sh: $*" >&2; }

install_moto() {
    if [ -x "$MOTO_VENV/bin/moto_server" ]; then
        return 0
    fi
    log "installing moto[server] into $MOTO_VENV"
    local py
    py="$(command -v python3)"
    "$py" -m venv "$MOTO_VENV"
    "$MOTO_VENV/bin/pip" install --quiet 'moto[server]' >&2
}

install_localstack() {
    if [ -x "$LOCALSTACK_VENV/bin/python" ] &&
        "$LOCALSTACK_VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('localstack-core') != '$LOCALSTACK_VERSION')" 2>/dev/null; then
        return 0
    fi
    log "installing LocalStack $LOCALSTACK_VERSION into $LOCALSTACK_VENV (takes a few minutes)"
    "$LOCALSTACK_PYTHON" -m venv "$LOCALSTACK_VENV"
    "$LOCALSTACK_VENV/bin/pip" install --quiet \
        "localstack-core[runtime]==$LOCALSTACK_VERSION" 'cbor2==5.8.0' 'localstack-twisted==25.5.0' >&2
}

run_moto() {
    local port="${1:-5001}"
    install_moto
    log "moto_server on 127.0.0.1:$port"
    exec "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$port"
}

run_localstack() {
    local port="${1:-4599}"
    install_localstack
    local state="${LOCALSTACK_STATE_DIR:-/tmp/nimbus-bench-localstack-state}"
    mkdir -p "$state"
    # LocalStack 4.14 generates its self-signed gateway certificate with
    # pyOpenSSL's X509.add_extensions, which pyOpenSSL >= 25 no longer has
    # ("'X509' object has no attribute 'add_extensions'"). Hand it a ready one.
    local pem="$state/server.test.pem"
    if [ ! -s "$pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=localhost" \
            -keyout "$state/key.pem" -out "$state/cert.pem" >/dev/null 2>&1
        cat "$state/key.pem" "$state/cert.pem" >"$pem"
    fi
    log "LocalStack $LOCALSTACK_VERSION on 127.0.0.1:$port"
    # Everything local: no DNS server, no certificate download, no analytics.
    export GATEWAY_LISTEN="127.0.0.1:$port"
    export CUSTOM_SSL_CERT_PATH="$pem"
    export SKIP_SSL_CERT_DOWNLOAD=1
    export DNS_ADDRESS=0
    export DISABLE_EVENTS=1
    export LOCALSTACK_VOLUME_DIR="$state/volume"
    export SQS_ENDPOINT_STRATEGY=path
    export SERVICES="${LOCALSTACK_SERVICES:-sqs}"
    # Kinesis is kinesis-mock 0.5.2, run by LocalStack as `node .../kinesis-local/main.js`
    # (engine "node"; the "scala" engine wants Java 21 and would download one), installed
    # with npm into /var/lib/localstack/lib on first use. kinesis-mock has no per-shard
    # throughput limits; LocalStack's own knobs: KINESIS_ERROR_PROBABILITY (injected
    # ProvisionedThroughputExceededException, 0 = none) and KINESIS_LATENCY, which despite
    # its name only delays stream state changes (CreateStream → ACTIVE, DeleteStream, …;
    # default 500 ms), never PutRecords or GetRecords: 0 keeps setup short.
    if [[ ",$SERVICES," == *,kinesis,* ]] && ! command -v node >/dev/null; then
        log "LocalStack's Kinesis (kinesis-mock) needs node on PATH"
        exit 1
    fi
    export KINESIS_MOCK_PROVIDER_ENGINE="${KINESIS_MOCK_PROVIDER_ENGINE:-node}"
    export KINESIS_ERROR_PROBABILITY="${KINESIS_ERROR_PROBABILITY:-0}"
    export KINESIS_LATENCY="${KINESIS_LATENCY:-0}"
    cd "$state"
    exec "$LOCALSTACK_VENV/bin/python" -m localstack.runtime.main
}

case "${1:-}" in
    install-moto) install_moto ;;
    install-localstack) install_localstack ;;
    moto) shift; run_moto "$@" ;;
    localstack) shift; run_localstack "$@" ;;
    *)
        sed -n '2,11p' "$0" >&2
        exit 2
        ;;
esac
