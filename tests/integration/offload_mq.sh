#!/bin/bash
# offload_nat.sh with daemon.queues = 2: the first packets of offloaded
# flows reach either worker (CPU fanout), the verdict's server id is the
# one the same worker's core call chose, and conntrack events (on the main
# loop, under the core lock) still follow every flow.
OFFLOAD_QUEUES=2
# shellcheck source=offload_nat.sh
source "$(dirname "$0")/offload_nat.sh"
