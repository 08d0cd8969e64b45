#!/usr/bin/env bash
# Packs what `bench/device/run.sh` needs on a larger machine that has no Node and no network (see
# ../shared/DEVICE.md): Node itself, and the few packages the scaling benchmark loads. Writes .device/ (ignored by
# git, well under the 64 MiB a device call carries); the working tree itself travels as it is.
#
# Usage, from the repository root: bash bench/device/pack.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.device
rm -rf "$out" && mkdir -p "$out"

# Node 20 needs glibc 2.28 or newer there.
xz -6 -T2 -c "$(command -v node)" > "$out/node.xz"

# Only what bench/scaling.ts loads: tsx (with esbuild's binary) to run TypeScript, jsonata and ajv (with Ajv's
# dependencies) for the job schema. run.sh checks the list by running the benchmark, so a package missing
# here fails there with Node's "Cannot find package" naming it.
packages=(tsx esbuild @esbuild/linux-x64 jsonata ajv fast-deep-equal
  json-schema-traverse require-from-string fast-uri commander)
paths=()
for p in "${packages[@]}"; do
  [ -d "node_modules/$p" ] || { echo "node_modules/$p is missing: run npm ci first" >&2; exit 1; }
  paths+=("node_modules/$p")
done
tar -cf - "${paths[@]}" | xz -6 -T2 > "$out/node_modules.tar.xz"
du -sh "$out"/*
