#!/bin/bash
# Userspace instructions per SendMessage, counted by valgrind's callgrind: repeatable on a
# shared, noisy machine where wall-clock throughput is not. Runs nimbus under callgrind twice
# (idle, then under raw SendMessage load) and subtracts the idle run's start-up cost.
# Needs valgrind (Debian package) and release builds of nimbus and nimbus-bench.
# usage: bench/callgrind.sh CLIENTS SECONDS   (e.g. 4 8) -> requests and Ir/request
set -u
cd "$(dirname "$0")/.."
BIN=$PWD/target/release/nimbus
run() { # $1 = seconds of load (0 = none)
  rm -rf /tmp/cgx && mkdir -p /tmp/cgx
  valgrind --tool=callgrind --callgrind-out-file=/tmp/cgx/out $BIN serve --listen 127.0.0.1:4711 --data-dir /tmp/cgx/data >/dev/null 2>&1 &
  local P=$!
  for i in $(seq 1 200); do curl -s -o /dev/null http://127.0.0.1:4711/_nimbus/health && break; sleep 0.1; done
  local N=0
  if [ "$1" != "0" ]; then
    N=$(timeout 120 $PWD/target/release/nimbus-bench sqs --target x=http://127.0.0.1:4711 --clients $2 --duration ${1}s --warmup 0s --mode raw --workload send 2>&1 | awk '/^x /{print int($3*'"$1"')}')
  fi
  kill -INT $P; wait $P 2>/dev/null
  local IR=$(grep -E "^summary:|^totals:" /tmp/cgx/out | head -1 | awk '{print $2}')
  echo "$N $IR"
}
read N0 IR0 < <(run 0 1)
read N IR < <(run $2 $1)
python3 -c "print('requests', $N, 'Ir/request', int(($IR-$IR0)/max($N,1)), '(startup Ir', $IR0, ')')"
