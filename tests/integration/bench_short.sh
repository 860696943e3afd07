#!/bin/bash
# The benchmark in its short mode (3 s per figure, one repetition), so it
# cannot rot: it builds its own topology, measures kernel DNAT and nfqlb
# NAT, DR and TUN, and passes when every figure was measured.  It never fails
# on low numbers - speed is judged by reading its output (bench/bench.sh in
# full, by hand, on a quiet machine), never by a timed assertion.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
NFQLB=${NFQLB:-$TOP/nfqlb} exec "$TOP/bench/bench.sh" --short
