#!/usr/bin/env bash
# Fails when gen/ is not what `buf generate` makes from proto/ and
# third_party/proto today. Generates into a temporary copy of the inputs, so
# the work tree is never touched.
#
#   npm run check:gen        # or: bash scripts/check-gen.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"   # buf and the local protoc-gen-es plugin

for tool in buf protoc-gen-es; do
  if ! command -v "$tool" >/dev/null; then
    echo "check-gen: $tool not found in node_modules/.bin; run npm ci first" >&2
    exit 2
  fi
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/check-gen.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cp buf.yaml buf.gen.yaml "$tmp"/
[[ -f buf.lock ]] && cp buf.lock "$tmp"/
mkdir -p "$tmp/third_party"
cp -R proto "$tmp"/
cp -R third_party/proto "$tmp/third_party"/
# buf.gen.yaml's local plugin scripts/protoc-gen-openapi.ts, run as from the
# work tree: it and its imports resolve through the links to the real files.
ln -s "$root/scripts" "$tmp/scripts"
ln -s "$root/node_modules" "$tmp/node_modules"

(cd "$tmp" && buf generate)

if [[ ! -d gen ]]; then
  echo "check-gen: gen/ is missing: run 'npm run generate' and commit gen/" >&2
  exit 1
fi

if diff -r -q gen "$tmp/gen" >"$tmp/summary.txt" 2>&1; then
  echo "check-gen: gen/ is up to date ($(find gen -type f | wc -l) files)"
  exit 0
fi

{
  echo "check-gen: gen/ is STALE: it differs from what 'buf generate' makes from proto/ and third_party/proto."
  echo "check-gen: run 'npm run generate' and commit gen/. Differences ('gen' = committed, '$tmp/gen' = fresh):"
  sed 's/^/  /' "$tmp/summary.txt"
  echo "check-gen: first lines of the diff:"
  diff -r -u gen "$tmp/gen" | cut -c1-160 | head -n 80 | sed 's/^/  /' || true
} >&2
exit 1
