#!/bin/sh
# Creates docker/secrets/{master_keys,internal_token} once (never committed).
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir"
umask 077
[ -f "$dir/master_keys" ] || printf 'k1:%s\n' "$(head -c 32 /dev/urandom | base64)" > "$dir/master_keys"
[ -f "$dir/internal_token" ] || head -c 24 /dev/urandom | base64 | tr -d '\n=' > "$dir/internal_token"
echo "secrets in $dir (keep master_keys safe: without it stored passwords are lost)"
