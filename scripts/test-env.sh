#!/usr/bin/env bash
# Starts (and stops) the outside servers the test suite talks to, as local processes:
#   up      make sure each is installed and running; wait until it answers
#   down    stop what `up` started (by pid), leave servers that were already running
#   status  print what is up
# Servers:
#   MariaDB  127.0.0.1:3306 (root, no password): the machine's own; started if stopped
#   Kafka    127.0.0.1:19092, single-node KRaft broker from Maven Central's jars
#            (org.apache.kafka:kafka_2.13, see scripts/kafka/pom.xml), data under .cache;
#            SASL_SSL on 19094 (SCRAM-SHA-512 user postbote, CA in .cache/test-env/kafka-19092/tls)
#   Dovecot  IMAP 127.0.0.1:21143 (STARTTLS), IMAPS 21993, POP3 21110 (STLS), POP3S 21995;
#            Debian's dovecot-imapd/dovecot-pop3d, private config under .cache/test-env/dovecot,
#            a self-signed CA (ca.crt there), any user name with one test password, Maildir
#   GreenMail POP3 127.0.0.1:23110, IMAP 23143, SMTP 23025 (com.icegreen:greenmail-standalone
#            from Maven Central): a second POP3 and IMAP implementation, whose IDLE announces
#            a message within milliseconds (the push floor); any login is accepted (auth disabled)
#   MariaDB TLS 127.0.0.1:23306: a second instance of the machine's mariadbd with
#            require_secure_transport=ON and a certificate from its own CA (ca.crt, client.crt
#            and client.key under .cache/test-env/mariadb-tls), data under the same folder
#   S3Proxy  127.0.0.1:23380, an S3 API server (org.gaul:s3proxy from Maven Central, see
#            scripts/s3proxy/pom.xml) on its filesystem backend under .cache/test-env/s3proxy;
#            access key postbote-test, secret postbote-test-secret (decision 0029)
#   Chromium  Debian's `chromium` for the web console's browser tests (installed, not started)
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

KAFKA_VERSION=${KAFKA_VERSION:-3.9.1}
KAFKA_PORT=${POSTBOTE_TEST_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
# A second listener for the tests of KAFKA_TLS_* and KAFKA_SASL_*: TLS with a certificate
# from its own CA (ca.crt under $KAFKA_RUN/tls) and SCRAM-SHA-512 logins (one user,
# created when the log dir is formatted).
KAFKA_SASL_PORT=$((KAFKA_PORT + 2))
KAFKA_SASL_USER=postbote
KAFKA_SASL_PASSWORD=postbote-test-kafka-pw
KAFKA_HOME=.cache/kafka/$KAFKA_VERSION
KAFKA_RUN=$STATE/kafka-$KAFKA_PORT

kafka_ping() {
  node -e "
    const { Kafka, logLevel } = require('kafkajs');
    const admin = new Kafka({ brokers: ['127.0.0.1:$KAFKA_PORT'], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    admin.connect().then(() => admin.describeCluster()).then(() => admin.disconnect()).then(() => process.exit(0), () => process.exit(1));
  " 2>/dev/null
}

kafka_fetch() {
  if [ -f "$KAFKA_HOME/libs/kafka_2.13-$KAFKA_VERSION.jar" ]; then return; fi
  command -v mvn >/dev/null || { log "installing maven"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null; }
  log "fetching Kafka $KAFKA_VERSION from Maven Central"
  mvn -q -B -f scripts/kafka/pom.xml dependency:copy-dependencies -Dkafka.version="$KAFKA_VERSION" \
    -DincludeScope=runtime -DoutputDirectory="$PWD/$KAFKA_HOME/libs"
}

MARIADB_TLS_RUN="$STATE/mariadb-tls"
MARIADB_TLS_PORT="${POSTBOTE_TEST_MARIADB_TLS_PORT:-23306}"

mariadb_tls_ping() {
  [ -f "$MARIADB_TLS_RUN/ca.crt" ] || return 1
  node -e "require('mysql2/promise').createConnection({host:'127.0.0.1',port:$MARIADB_TLS_PORT,user:'root',ssl:{ca:require('fs').readFileSync('$MARIADB_TLS_RUN/ca.crt')}}).then(c=>c.end()).then(()=>process.exit(0),()=>process.exit(1))" 2>/dev/null
}

# A second mariadbd that refuses plaintext clients: the tests of DATABASE_TLS_* run against it.
mariadb_tls_up() {
  if mariadb_tls_ping; then log "MariaDB TLS is up"; return; fi
  mkdir -p "$MARIADB_TLS_RUN"
  if [ ! -f "$MARIADB_TLS_RUN/server.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Postbote Test DB CA" \
      -keyout "$MARIADB_TLS_RUN/ca.key" -out "$MARIADB_TLS_RUN/ca.crt" 2>/dev/null
    for who in server client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$([ $who = server ] && echo 127.0.0.1 || echo postbote)" -keyout "$MARIADB_TLS_RUN/$who.key" -out "$MARIADB_TLS_RUN/$who.csr" 2>/dev/null
      openssl x509 -req -in "$MARIADB_TLS_RUN/$who.csr" -CA "$MARIADB_TLS_RUN/ca.crt" -CAkey "$MARIADB_TLS_RUN/ca.key" -CAcreateserial \
        -days 3650 -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost') -out "$MARIADB_TLS_RUN/$who.crt" 2>/dev/null
    done
    chmod 644 "$MARIADB_TLS_RUN"/*.key
  fi
  if [ ! -d "$MARIADB_TLS_RUN/data/mysql" ]; then
    mariadb-install-db --no-defaults --user=root --datadir="$PWD/$MARIADB_TLS_RUN/data" --auth-root-authentication-method=normal >/dev/null 2>&1
  fi
  log "starting MariaDB TLS (127.0.0.1:$MARIADB_TLS_PORT, require_secure_transport)"
  nohup /usr/sbin/mariadbd --no-defaults --user=root --datadir="$PWD/$MARIADB_TLS_RUN/data" --bind-address=127.0.0.1 --port="$MARIADB_TLS_PORT" \
    --socket="$PWD/$MARIADB_TLS_RUN/mysqld.sock" --pid-file="$PWD/$MARIADB_TLS_RUN/pid" --skip-name-resolve \
    --ssl-ca="$PWD/$MARIADB_TLS_RUN/ca.crt" --ssl-cert="$PWD/$MARIADB_TLS_RUN/server.crt" --ssl-key="$PWD/$MARIADB_TLS_RUN/server.key" \
    --require-secure-transport=ON --innodb-buffer-pool-size=32M >"$MARIADB_TLS_RUN/log" 2>&1 &
  for _ in $(seq 1 60); do
    if mariadb_tls_ping; then log "MariaDB TLS is up"; return; fi
    sleep 1
  done
  log "MariaDB TLS did not come up within 60 s:"; tail -20 "$MARIADB_TLS_RUN/log" >&2; exit 1
}

mariadb_tls_down() {
  [ -f "$MARIADB_TLS_RUN/pid" ] || return 0
  local pid; pid=$(cat "$MARIADB_TLS_RUN/pid")
  if kill -0 "$pid" 2>/dev/null; then log "stopping MariaDB TLS (pid $pid)"; kill "$pid"; fi
  rm -f "$MARIADB_TLS_RUN/pid"
}

kafka_up() {
  if kafka_ping; then log "Kafka is up on 127.0.0.1:$KAFKA_PORT"; return; fi
  # A fresh log dir for each suite run: tests create their own topics and need no history.
  rm -rf "$KAFKA_RUN"
  kafka_start
}

# Starts the broker keeping its data (a restart in a test), formatting only a new dir.
kafka_start() {
  kafka_fetch
  command -v java >/dev/null || { log "installing a JRE"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; }
  mkdir -p "$KAFKA_RUN/data" "$KAFKA_RUN/tls"
  if [ ! -f "$KAFKA_RUN/tls/server.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Postbote Test Kafka CA" \
      -keyout "$KAFKA_RUN/tls/ca.key" -out "$KAFKA_RUN/tls/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$KAFKA_RUN/tls/server.key" -out "$KAFKA_RUN/tls/server.csr" 2>/dev/null
    openssl x509 -req -in "$KAFKA_RUN/tls/server.csr" -CA "$KAFKA_RUN/tls/ca.crt" -CAkey "$KAFKA_RUN/tls/ca.key" -CAcreateserial \
      -days 3650 -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost') -out "$KAFKA_RUN/tls/server.crt" 2>/dev/null
    cat "$KAFKA_RUN/tls/server.key" "$KAFKA_RUN/tls/server.crt" > "$KAFKA_RUN/tls/server.pem"
  fi
  cat > "$KAFKA_RUN/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$PWD/$KAFKA_RUN/tls/server.pem
ssl.client.auth=none
log.dirs=$PWD/$KAFKA_RUN/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=1000
PROPS
  cat > "$KAFKA_RUN/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$PWD/$KAFKA_RUN/broker.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
  local cp="$KAFKA_HOME/libs/*"
  if [ ! -f "$KAFKA_RUN/data/meta.properties" ]; then
    local id
    id=$(java -cp "$cp" -Dlog4j.configuration="file:$PWD/$KAFKA_RUN/log4j.properties" kafka.tools.StorageTool random-uuid)
    java -cp "$cp" -Dlog4j.configuration="file:$PWD/$KAFKA_RUN/log4j.properties" kafka.tools.StorageTool format \
      -t "$id" -c "$KAFKA_RUN/server.properties" --add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USER,password=$KAFKA_SASL_PASSWORD]" >/dev/null
  fi
  log "starting Kafka $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT"
  nohup java -Xms256m -Xmx768m -cp "$cp" -Dlog4j.configuration="file:$PWD/$KAFKA_RUN/log4j.properties" \
    kafka.Kafka "$KAFKA_RUN/server.properties" > "$KAFKA_RUN/stdout.log" 2>&1 &
  echo $! > "$KAFKA_RUN/pid"
  for _ in $(seq 1 90); do
    if kafka_ping; then log "Kafka is up"; return; fi
    if ! kill -0 "$(cat "$KAFKA_RUN/pid")" 2>/dev/null; then log "Kafka exited:"; tail -20 "$KAFKA_RUN/stdout.log" "$KAFKA_RUN/broker.log" >&2; exit 1; fi
    sleep 1
  done
  log "Kafka did not answer within 90 s"; exit 1
}

kafka_down() {
  [ -f "$KAFKA_RUN/pid" ] || return 0
  local pid; pid=$(cat "$KAFKA_RUN/pid")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping Kafka (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$KAFKA_RUN/pid"
}

DOVECOT_RUN=$PWD/$STATE/dovecot
# Mail folders belong to nobody (Dovecot refuses uid 0 for mail), so they live where
# nobody can reach them whatever the checkout's path allows (a clone in a 0700 mktemp
# folder is not traversable by nobody).
DOVECOT_MAIL=${POSTBOTE_TEST_MAIL_DIR:-/var/tmp/postbote-test-mail-$(printf %s "$PWD" | md5sum | cut -c1-12)}
DOVECOT_PASSWORD=postbote-test-mailbox-pw

dovecot_ping() {
  node -e "require('net').connect(21993,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" 2>/dev/null
}

dovecot_certs() {
  [ -f "$DOVECOT_RUN/server.crt" ] && return
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Postbote Test CA" \
    -keyout "$DOVECOT_RUN/ca.key" -out "$DOVECOT_RUN/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$DOVECOT_RUN/server.key" -out "$DOVECOT_RUN/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$DOVECOT_RUN/san.ext"
  openssl x509 -req -in "$DOVECOT_RUN/server.csr" -CA "$DOVECOT_RUN/ca.crt" -CAkey "$DOVECOT_RUN/ca.key" -CAcreateserial \
    -days 3650 -extfile "$DOVECOT_RUN/san.ext" -out "$DOVECOT_RUN/server.crt" 2>/dev/null
}

dovecot_up() {
  if dovecot_ping; then log "Dovecot is up"; return; fi
  if [ ! -x /usr/sbin/dovecot ] || ! dpkg -s dovecot-imapd dovecot-pop3d >/dev/null 2>&1; then
    log "installing dovecot-imapd dovecot-pop3d from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-pop3d >/dev/null
  fi
  # Debian's package may start a system instance; ours is private and on other ports.
  mkdir -p "$DOVECOT_RUN"/{run,state} "$DOVECOT_MAIL"
  dovecot_certs
  chmod 0755 "$DOVECOT_MAIL"
  chown nobody:nogroup "$DOVECOT_MAIL"
  # Tests and benchmarks that place Maildirs directly read where the homes are from here.
  printf %s "$DOVECOT_MAIL" > "$DOVECOT_RUN/mail-dir"
  cat > "$DOVECOT_RUN/dovecot-oauth2.conf.ext" <<CONF
introspection_mode = post
introspection_url = http://127.0.0.1:21180/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
CONF
  cat > "$DOVECOT_RUN/dovecot.conf" <<CONF
protocols = imap pop3
listen = 127.0.0.1
instance_name = postbote-test
base_dir = $DOVECOT_RUN/run
state_dir = $DOVECOT_RUN/state
log_path = $DOVECOT_RUN/dovecot.log
ssl = yes
ssl_cert = <$DOVECOT_RUN/server.crt
ssl_key = <$DOVECOT_RUN/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_max_userip_connections = 200
# Room for a fleet of pushed connectors, each holding one connection in IDLE (the fleet
# benchmark runs 2,000): one imap process per connection, TLS in a few shared login
# processes instead of one per connection.
default_process_limit = 3000
default_client_limit = 6000
pop3_uidl_format = %08Xu%08Xv
default_login_user = dovenull
default_internal_user = dovecot
# Any user name logs in with the one test password; each name gets an empty Maildir on
# first login. (A passwd-file would be reread only when its mtime changes, and that has
# 1 s resolution: users added by parallel tests within a second went unseen.)
passdb {
  driver = static
  args = password=$DOVECOT_PASSWORD
}
# OAuth2 logins (SASL XOAUTH2 / OAUTHBEARER) are checked against a loopback introspection
# endpoint that the OAuth2 tests run themselves on port 21180 (libs/testing oauth-server.ts):
# the token on the wire is the real SASL exchange; without that endpoint such logins fail.
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DOVECOT_RUN/dovecot-oauth2.conf.ext
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DOVECOT_MAIL/%u
}
namespace inbox {
  inbox = yes
  separator = /
  prefix =
  mailbox Trash {
    special_use = \\Trash
  }
}
service imap {
  process_limit = 3000
}
# One login process: it holds every client's TLS (high-performance mode) and its ticket key,
# so a connector's next connection can resume its TLS session (decision 0028); OpenSSL's
# ticket keys are per process, and two processes taking turns would refuse each other's.
service imap-login {
  service_count = 0
  process_min_avail = 1
  process_limit = 1
  client_limit = 6000
  inet_listener imap {
    address = 127.0.0.1
    port = 21143
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = 21993
    ssl = yes
  }
}
service pop3-login {
  service_count = 0
  process_min_avail = 1
  process_limit = 1
  client_limit = 6000
  inet_listener pop3 {
    address = 127.0.0.1
    port = 21110
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = 21995
    ssl = yes
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
CONF
  log "starting Dovecot (IMAP 21143/21993, POP3 21110/21995)"
  # Redirected: the daemon must not hold the caller's stdout open (callers pipe it).
  /usr/sbin/dovecot -c "$DOVECOT_RUN/dovecot.conf" </dev/null >/dev/null 2>&1
  for _ in $(seq 1 30); do
    if dovecot_ping; then log "Dovecot is up"; return; fi
    sleep 0.5
  done
  log "Dovecot did not come up:"; tail -20 "$DOVECOT_RUN/dovecot.log" >&2; exit 1
}

dovecot_down() {
  local pidfile="$DOVECOT_RUN/run/master.pid"
  if [ -f "$pidfile" ]; then
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping Dovecot (pid $pid)"
      kill "$pid"
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
    rm -f "$pidfile"
  fi
  # Test mailboxes only: every test makes its own users.
  rm -rf "$DOVECOT_MAIL"
}

GREENMAIL_VERSION=2.1.3
GREENMAIL_HOME=.cache/greenmail/$GREENMAIL_VERSION
GREENMAIL_RUN=$STATE/greenmail

greenmail_ping() {
  node -e "require('net').connect(23143,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" 2>/dev/null
}

greenmail_up() {
  if greenmail_ping; then log "GreenMail is up"; return; fi
  # One started by an older version of this script serves no IMAP: replace it (once its
  # POP3 port is free again).
  greenmail_down
  for _ in $(seq 50); do
    node -e "require('net').connect(23110,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" 2>/dev/null || break
    sleep 0.2
  done
  if [ ! -f "$GREENMAIL_HOME/greenmail-standalone-$GREENMAIL_VERSION.jar" ]; then
    log "fetching GreenMail $GREENMAIL_VERSION from Maven Central"
    mvn -q -B dependency:copy -Dartifact="com.icegreen:greenmail-standalone:$GREENMAIL_VERSION" -DoutputDirectory="$PWD/$GREENMAIL_HOME"
  fi
  mkdir -p "$GREENMAIL_RUN"
  log "starting GreenMail (POP3 23110, IMAP 23143, SMTP 23025)"
  nohup java -Xmx256m -Dgreenmail.auth.disabled \
    -Dgreenmail.imap.hostname=127.0.0.1 -Dgreenmail.imap.port=23143 \
    -Dgreenmail.pop3.hostname=127.0.0.1 -Dgreenmail.pop3.port=23110 \
    -Dgreenmail.smtp.hostname=127.0.0.1 -Dgreenmail.smtp.port=23025 \
    -jar "$GREENMAIL_HOME/greenmail-standalone-$GREENMAIL_VERSION.jar" > "$GREENMAIL_RUN/greenmail.log" 2>&1 < /dev/null &
  echo $! > "$GREENMAIL_RUN/pid"
  await_server GreenMail greenmail_ping "$GREENMAIL_RUN/greenmail.log"
}

greenmail_down() { stop_by_pid GreenMail "$GREENMAIL_RUN/pid"; }

# A server started in the background: wait (up to 30 s) until PING answers, or show its log and fail.
await_server() {
  local name=$1 ping=$2 logfile=$3
  for _ in $(seq 1 60); do
    if $ping; then log "$name is up"; return; fi
    sleep 0.5
  done
  log "$name did not come up:"; tail -20 "$logfile" >&2; exit 1
}

# Stops what `up` started, by the pid it wrote; a server already running before is left alone.
stop_by_pid() {
  local name=$1 pidfile=$2
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then log "stopping $name (pid $pid)"; kill "$pid"; fi
  rm -f "$pidfile"
}

S3PROXY_VERSION=2.6.0
S3PROXY_HOME=.cache/s3proxy/$S3PROXY_VERSION
S3PROXY_RUN=$STATE/s3proxy
S3PROXY_PORT=23380

s3proxy_ping() {
  # Any HTTP answer will do (an anonymous request is refused with 403): the server is up.
  node -e "fetch('http://127.0.0.1:$S3PROXY_PORT/').then(() => process.exit(0), () => process.exit(1))" 2>/dev/null
}

s3proxy_up() {
  if s3proxy_ping; then log "S3Proxy is up"; return; fi
  if [ ! -f "$S3PROXY_HOME/libs/s3proxy-$S3PROXY_VERSION.jar" ]; then
    command -v mvn >/dev/null || { log "installing maven"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null; }
    log "fetching S3Proxy $S3PROXY_VERSION from Maven Central"
    mvn -q -B -f scripts/s3proxy/pom.xml dependency:copy-dependencies -Ds3proxy.version="$S3PROXY_VERSION" \
      -DincludeScope=runtime -DoutputDirectory="$PWD/$S3PROXY_HOME/libs"
  fi
  mkdir -p "$S3PROXY_RUN/data"
  cat > "$S3PROXY_RUN/s3proxy.conf" <<CONF
s3proxy.endpoint=http://127.0.0.1:$S3PROXY_PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=postbote-test
s3proxy.credential=postbote-test-secret
jclouds.provider=filesystem
jclouds.filesystem.basedir=$PWD/$S3PROXY_RUN/data
CONF
  # The Maven artifact carries no logback.xml (the distribution's is outside the jar), and
  # logback's default is DEBUG to the console: Jetty's trace of every request, 1.6 GB of log
  # in two minutes of drain and three quarters of the server's CPU per PUT. Warnings only.
  cat > "$S3PROXY_RUN/logback.xml" <<XML
<configuration>
  <appender name="console" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="console"/></root>
</configuration>
XML
  log "starting S3Proxy (127.0.0.1:$S3PROXY_PORT)"
  nohup java -Xmx256m -Dlogback.configurationFile="$PWD/$S3PROXY_RUN/logback.xml" -cp "$S3PROXY_HOME/libs/*" \
    org.gaul.s3proxy.Main --properties "$S3PROXY_RUN/s3proxy.conf" \
    > "$S3PROXY_RUN/s3proxy.log" 2>&1 < /dev/null &
  echo $! > "$S3PROXY_RUN/pid"
  await_server S3Proxy s3proxy_ping "$S3PROXY_RUN/s3proxy.log"
}

s3proxy_down() { stop_by_pid S3Proxy "$S3PROXY_RUN/pid"; }

# The console's browser tests drive Debian's Chromium through playwright-core (whose own
# browser download is not reachable here); nothing to start, only to install.
chromium_up() {
  command -v chromium >/dev/null && return
  log "installing chromium from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

case "${1:-up}" in
  up) mariadb_up; mariadb_tls_up; kafka_up; dovecot_up; greenmail_up; s3proxy_up; chromium_up ;;
  down) s3proxy_down; greenmail_down; dovecot_down; kafka_down; mariadb_tls_down; mariadb_down ;;
  # For tests that need a broker of their own (POSTBOTE_TEST_KAFKA_PORT=…): fresh, restart, stop.
  kafka-up) kafka_up ;;
  kafka-start) kafka_start ;;
  kafka-stop) kafka_down ;;
  kafka-wipe) kafka_down; rm -rf "$KAFKA_RUN" ;;
  dovecot-restart) dovecot_down; dovecot_up ;;
  status)
    mariadb_ping && echo "mariadb: up" || echo "mariadb: down"
    mariadb_tls_ping && echo "mariadb-tls: up (127.0.0.1:$MARIADB_TLS_PORT)" || echo "mariadb-tls: down"
    kafka_ping && echo "kafka: up (127.0.0.1:$KAFKA_PORT)" || echo "kafka: down"
    dovecot_ping && echo "dovecot: up" || echo "dovecot: down"
    greenmail_ping && echo "greenmail: up" || echo "greenmail: down"
    s3proxy_ping && echo "s3proxy: up (127.0.0.1:$S3PROXY_PORT)" || echo "s3proxy: down" ;;
  *) echo "usage: $0 up|down|status|kafka-up|kafka-start|kafka-stop|kafka-wipe|dovecot-restart" >&2; exit 2 ;;
esac
