#!/bin/sh
# Picks the process to run: one service, the all-in-one, or the CLI.
set -e
what="${1:-all}"
[ $# -gt 0 ] && shift
case "$what" in
  config|storage|trigger|fetcher|console) exec node "/app/dist/apps/${what}-service/main.js" "$@" ;;
  all) exec node /app/dist/apps/cli/main.js start "$@" ;;
  cli|postbote) exec node /app/dist/apps/cli/main.js "$@" ;;
  *) echo "usage: postbote-entrypoint all|config|storage|trigger|fetcher|console|cli [args]" >&2; exit 2 ;;
esac
