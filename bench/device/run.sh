#!/usr/bin/env bash
# Runs `npm run bench:scaling` on a machine without Node, from what bench/device/pack.sh packed into .device/, and
# leaves the results in $OUT (RESULTS.md's scaling section, the log, and the machine's description).
#
# Usage, on that machine from the repository root: bash bench/device/run.sh [threads=1,2,4,8,16] [bound=...]
# Defaults: every power of two up to the machine's cores, and the cores themselves.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$(mktemp -d)}
tools=$(mktemp -d)
xz -dc .device/node.xz > "$tools/node" && chmod +x "$tools/node"
export PATH="$tools:$PATH"
[ -d node_modules ] || xz -dc .device/node_modules.tar.xz | tar -xf -
{
  echo "date: $(date -u +%FT%TZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "cores: $(nproc)"
  echo "memory: $(grep MemTotal /proc/meminfo)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "node: $(node --version)"
} | tee "$out/machine.txt"
status=0
node --import tsx bench/scaling.ts "$@" 2> >(tee "$out/scaling.log" >&2) || status=$?
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
cp bench/RESULTS.md "$out/RESULTS.md"
exit "$status"
