#!/bin/bash
# The benchmark in its short mode (3 s per figure, one repetition, at most a
# 10 s wait for an idle machine), so it cannot rot: it builds its own
# topology and measures kernel DNAT, HAProxy and every nfqlb method this
# build accepts (NAT, NAT with 2 queues, NAT offload, DR, DR offload, TUN; a
# method a build refuses as "not supported yet" is skipped with a notice):
# TCP both ways, UDP packets/s, connection rate with p50/p99, director CPU.  It
# passes when every figure was measured and replies took the expected path.
# It never fails on low numbers - speed is judged by reading its output
# (bench/bench.sh in full, by hand, on a quiet machine), never by a timed
# assertion.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
NFQLB=${NFQLB:-$TOP/nfqlb} exec "$TOP/bench/bench.sh" --short
