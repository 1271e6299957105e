#!/bin/bash
# Fetches the three Vega builds `iclr report` inlines into its pages (pinned versions, checked by
# SHA-256) from the npm registry with `npm pack`: no package is installed, no script runs.
# Usage: fetch_vega.sh OUT_DIR
set -euo pipefail
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent vega@6.4.0 vega-lite@6.5.0 vega-embed@7.3.0 >/dev/null
for p in vega-6.4.0 vega-lite-6.5.0 vega-embed-7.3.0; do
  mkdir "$p" && tar xzf "$p.tgz" -C "$p"
done
sha256sum -c --quiet - <<SUMS
8f6a3587cf8d4f42c7e08120e3eb05d067e746d554e39d2dcf52acc0bd5ba28f  vega-6.4.0/package/build/vega.min.js
83e215e84e308ee8688fa6503ba0f1cf8a3c05c0d61df2841a0b92bf86809e00  vega-lite-6.5.0/package/build/vega-lite.min.js
b1455caba2fb1a72fb46025ba0ba1316e2dbc7f0dd40a3f6040172bf9c08ba91  vega-embed-7.3.0/package/build/vega-embed.min.js
SUMS
mkdir -p "$out"
cp vega-6.4.0/package/LICENSE "$out/LICENSE.vega"
cp vega-lite-6.5.0/package/LICENSE "$out/LICENSE.vega-lite"
cp vega-embed-7.3.0/package/LICENSE "$out/LICENSE.vega-embed"
cp vega-6.4.0/package/build/vega.min.js vega-lite-6.5.0/package/build/vega-lite.min.js "$out/"
cp vega-embed-7.3.0/package/build/vega-embed.min.js "$out/" # last: the build's marker that all are there
