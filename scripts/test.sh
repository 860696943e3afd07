#!/bin/bash
# THE test command (README and .ci/run call it): install dependencies, build,
# run the unit and integration tests.  Arguments go to tests/run.sh (an
# optional test-name filter).  Exit status is non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/build.sh
exec tests/run.sh "$@"
