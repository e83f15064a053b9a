#!/bin/sh
# Creates, once, what compose.yml mounts as secrets (never committed):
#   docker/secrets/master_keys   the key that seals stored passwords (back it up)
#   docker/secrets/metrics_token the bearer token Prometheus sends for /metrics
#   docker/secrets/tls/          a private CA and a certificate + key per service and for
#                                the CLI (mutual TLS; the certificate's name is the identity)
# The certificates come from `postbote certs create`: from a local build when there is one
# (`npm ci`), otherwise from the image (`docker compose -f docker/compose.yml build` first).
# Running it again keeps the master key and the CA and renews the certificates (rotation:
# docs/security.md). The containers run as uid 1000 (node): files owned by another user
# must be made readable to it (compose mounts secret files as they are on the host).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
dir="$here/secrets"
mkdir -p "$dir/tls"
umask 077
[ -f "$dir/master_keys" ] || printf 'k1:%s\n' "$(head -c 32 /dev/urandom | base64)" > "$dir/master_keys"
[ -f "$dir/metrics_token" ] || head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$dir/metrics_token"
names=config,storage,trigger,fetcher,console,cli
if [ -f "$here/../dist/apps/cli/main.js" ] && command -v node >/dev/null 2>&1; then
  node "$here/../dist/apps/cli/main.js" certs create --out "$dir/tls" --for "$names"
else
  docker run --rm --user "$(id -u):$(id -g)" -v "$dir/tls:/out" postbote:local cli certs create --out /out --for "$names"
fi
[ "$(id -u)" = 1000 ] || echo "note: the containers run as uid 1000; make $dir readable to it (e.g. chown -R 1000 $dir)"
echo "secrets in $dir (keep master_keys and tls/ca.key safe)"
