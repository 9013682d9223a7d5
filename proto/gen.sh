#!/usr/bin/env bash
# Regenerates both sides of proto/heaptop/v1/heaptop.proto.
#
#   proto/gen.sh            write generated code into agent/ and source/
#   proto/gen.sh --check    generate into a scratch dir and fail if the
#                           committed code differs (used by the tests)
#
# Generators come from the package registries, never from a download at
# install time: protoc and ts-proto from npm (package.json devDependencies),
# protoc-gen-go and protoc-gen-go-grpc from the Go module proxy at the versions
# pinned by the `tool` block of agent/go.mod.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

out=$root
[ "${1:-}" = "--check" ] && out=$(mktemp -d)
bin=$(mktemp -d)
cleanup() { rm -rf "$bin"; if [ "$out" != "$root" ]; then rm -rf "$out"; fi; }
trap cleanup EXIT
(cd agent && go build -o "$bin/" google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc)

mkdir -p "$out/agent/api" "$out/source/gen"
node_modules/.bin/protoc -I proto \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
  --plugin=protoc-gen-ts_proto="node_modules/.bin/protoc-gen-ts_proto" \
  --go_out="$out/agent/api" --go_opt=paths=source_relative \
  --go-grpc_out="$out/agent/api" --go-grpc_opt=paths=source_relative \
  --ts_proto_out="$out/source/gen" \
  --ts_proto_opt=outputServices=grpc-js,forceLong=bigint,importSuffix=.js,esModuleInterop=true,env=node,useExactTypes=false \
  heaptop/v1/heaptop.proto

if [ "$out" != "$root" ]; then
  status=0
  for d in agent/api source/gen; do
    if ! diff -r "$root/$d" "$out/$d" >/dev/null; then
      echo "proto/gen.sh --check: $d is stale; run 'npm run gen' and commit" >&2
      diff -r "$root/$d" "$out/$d" | head -20 >&2
      status=1
    fi
  done
  exit $status
fi
