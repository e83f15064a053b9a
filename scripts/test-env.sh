#!/usr/bin/env bash
# Starts (and stops) the outside servers the test suite talks to, as local processes:
#   up      make sure each is installed and running; wait until it answers
#   down    stop what `up` started (by pid), leave servers that were already running
#   status  print what is up
# Servers so far: MariaDB on 127.0.0.1:3306 (root, no password). Dovecot, GreenMail
# and Kafka join as their issues land.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=.cache/test-env
mkdir -p "$STATE"

log() { printf 'test-env: %s\n' "$*" >&2; }

mariadb_ping() {
  node -e "require('mysql2/promise').createConnection(process.env.POSTBOTE_TEST_MYSQL_URL||'mysql://root@127.0.0.1:3306').then(c=>c.end()).then(()=>process.exit(0),()=>process.exit(1))" 2>/dev/null
}

mariadb_up() {
  if mariadb_ping; then log "MariaDB is up"; return; fi
  if [ ! -x /usr/sbin/mariadbd ]; then
    log "installing mariadb-server from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  fi
  log "starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  touch "$STATE/mariadb.started-by-us"
  for _ in $(seq 1 60); do
    if mariadb_ping; then log "MariaDB is up"; return; fi
    sleep 1
  done
  log "MariaDB did not come up within 60 s"; exit 1
}

mariadb_down() {
  # The machine runs MariaDB for everyone; only stop it if we started it.
  if [ -f "$STATE/mariadb.started-by-us" ]; then
    rm -f "$STATE/mariadb.started-by-us"
    log "leaving MariaDB running (shared system service)"
  fi
}

case "${1:-up}" in
  up) mariadb_up ;;
  down) mariadb_down ;;
  status) mariadb_ping && echo "mariadb: up" || echo "mariadb: down" ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
