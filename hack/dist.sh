#!/usr/bin/env bash
# Builds the release archives of kubectl-mesh that krew.yaml names, and
# <out>/krew.yaml with their version and sha256 filled in.
#   VERSION=v0.1.0 LDFLAGS='...' hack/dist.sh dist
# PLATFORMS (default: those in krew.yaml) limits the build, e.g. "linux/amd64".
set -euo pipefail

out=${1:?usage: hack/dist.sh OUTPUT_DIR}
: "${VERSION:?VERSION must be set}"
LDFLAGS=${LDFLAGS:-}
cd "$(dirname "$0")/.."
platforms=${PLATFORMS:-$(grep -oE 'kubectl-mesh_\{\{VERSION\}\}_[a-z0-9]+_[a-z0-9]+' krew.yaml | sed -E 's/.*_([a-z0-9]+)_([a-z0-9]+)$/\1\/\2/')}

mkdir -p "$out"
manifest=$(<krew.yaml)
for platform in $platforms; do
  os=${platform%/*} arch=${platform#*/}
  exe=kubectl-mesh
  [ "$os" = windows ] && exe=kubectl-mesh.exe
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$LDFLAGS" -o "$stage/$exe" ./cmd/kubectl-mesh
  cp LICENSE "$stage/"
  [ "$os" = windows ] || cp hack/kubectl_complete-mesh "$stage/"
  archive="$out/kubectl-mesh_${VERSION}_${os}_${arch}.tar.gz"
  # Reproducible: fixed order, owner and time.
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -czf "$archive" .
  rm -rf "$stage"
  sha=$(sha256sum "$archive" | cut -d' ' -f1)
  manifest=${manifest//"{{SHA256_${os}_${arch}}}"/$sha}
  echo "$archive $sha"
done
manifest=${manifest//"{{VERSION}}"/$VERSION}
printf '%s\n' "$manifest" > "$out/krew.yaml"
echo "$out/krew.yaml"
