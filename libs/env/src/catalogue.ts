import type { EnvReader } from './env-reader';

/** Which processes read a variable (`postbote start` reads them all). */
export type Reader = 'config' | 'storage' | 'trigger' | 'fetcher' | 'console' | 'cli' | 'all';

interface Common {
  readonly readers: readonly Reader[];
  /** One line for the README's table. */
  readonly doc: string;
  /** How the README shows a default the code computes at start (a path, a core count). */
  readonly defaultText?: string;
}

export type Variable =
  | (Common & { readonly kind: 'int'; readonly default?: number; readonly min: number; readonly max: number })
  | (Common & { readonly kind: 'string'; readonly default?: string })
  | (Common & { readonly kind: 'address'; readonly default?: string })
  | (Common & { readonly kind: 'secret' })
  | (Common & { readonly kind: 'oneOf'; readonly values: readonly string[]; readonly default: string })
  | (Common & { readonly kind: 'list' })
  | (Common & { readonly kind: 'bool'; readonly default: boolean });

const GiB = 1024 * 1024 * 1024;

/**
 * Every environment variable Postbote reads, declared once: kind, default, bounds, who
 * reads it and what it means. Services read through `readVar`, the README's table is
 * rendered from here (`npx tsx tools/doc-tables.ts --write`; a test keeps them equal).
 */
export const VARIABLES = {
  POSTBOTE_DATA_DIR: { kind: 'string', default: 'data', readers: ['config', 'storage', 'cli'], doc: 'folder of the SQLite file, the embedded key file and the storage scratch files' },
  DATABASE_URL: { kind: 'secret', readers: ['config', 'storage', 'trigger'], defaultText: 'SQLite in the data folder', doc: '`mysql://user:pass@host:3306/db` or `mariadb://…` selects MariaDB/MySQL; `sqlite:/path/file` a specific SQLite file (also `DATABASE_URL_FILE`)' },
  DATABASE_TLS: { kind: 'oneOf', values: ['off', 'verify'], default: 'off', readers: ['config', 'storage', 'trigger'], doc: '`verify`: MariaDB/MySQL over TLS, the server\'s certificate verified (against `DATABASE_TLS_CA_FILE`, else the system CAs) and its name checked; on by itself when a CA file is given' },
  DATABASE_TLS_CA_FILE: { kind: 'string', readers: ['config', 'storage', 'trigger'], defaultText: 'system CAs', doc: 'PEM CA certificates the database server\'s certificate must chain to (implies `DATABASE_TLS=verify`)' },
  DATABASE_TLS_CERT_FILE: { kind: 'string', readers: ['config', 'storage', 'trigger'], doc: 'PEM client certificate presented to the database server (with `DATABASE_TLS_KEY_FILE`)' },
  DATABASE_TLS_KEY_FILE: { kind: 'string', readers: ['config', 'storage', 'trigger'], doc: 'PEM private key of `DATABASE_TLS_CERT_FILE`' },
  POSTBOTE_MASTER_KEYS: { kind: 'secret', readers: ['config'], defaultText: 'key file in the data folder', doc: '`id:base64key` entries (32-byte keys), comma or newline separated (also `POSTBOTE_MASTER_KEYS_FILE`)' },
  POSTBOTE_MASTER_KEY_ID: { kind: 'string', readers: ['config'], defaultText: 'last key', doc: 'which key seals new secrets' },
  POSTBOTE_MASTER_KEY_FILE: { kind: 'string', readers: ['config'], defaultText: '`$POSTBOTE_DATA_DIR/master.key`', doc: 'embedded key file location (when no keys are configured)' },
  POSTBOTE_INTERNAL_TOKEN: { kind: 'secret', readers: ['all'], defaultText: 'generated per run by `postbote start`', doc: 'shared secret that identifies Postbote\'s services to each other where TLS is not mutual (≥ 16 chars; also `POSTBOTE_INTERNAL_TOKEN_FILE`); it cannot tell the services apart, client certificates can' },
  POSTBOTE_ADMIN_TOKEN_FILE: { kind: 'string', readers: ['config', 'cli'], defaultText: '`$POSTBOTE_DATA_DIR/admin.token`', doc: 'the first admin API token: the config service writes it (mode 0600) on a start that finds no file there; the CLI reads it when `POSTBOTE_TOKEN` is not set' },
  POSTBOTE_TOKEN: { kind: 'secret', readers: ['cli'], defaultText: 'the admin token file, if readable', doc: 'API token the CLI sends (also `POSTBOTE_TOKEN_FILE`)' },
  POSTBOTE_WORKSPACE: { kind: 'string', readers: ['cli'], defaultText: 'the token\'s own (an installation admin: `default`)', doc: 'the workspace the CLI\'s calls act in (`--workspace`)' },
  POSTBOTE_TLS_CERT_FILE: { kind: 'string', readers: ['all'], defaultText: 'none (plaintext)', doc: 'PEM certificate (chain) this process presents as a server and, for mutual TLS, as a client; with `POSTBOTE_TLS_KEY_FILE` it turns TLS on' },
  POSTBOTE_TLS_KEY_FILE: { kind: 'string', readers: ['all'], defaultText: 'none', doc: 'PEM private key of `POSTBOTE_TLS_CERT_FILE`' },
  POSTBOTE_TLS_CA_FILE: { kind: 'string', readers: ['all'], defaultText: 'system CAs', doc: 'PEM CA certificates: clients verify servers against them; servers require client certificates they signed (mutual TLS)' },
  POSTBOTE_TLS_CLIENT_AUTH: { kind: 'oneOf', values: ['require', 'none'], default: 'require', readers: ['all'], doc: '`require`: a TLS server accepts only clients with a certificate from `POSTBOTE_TLS_CA_FILE`; `none`: server-side TLS only' },
  POSTBOTE_ALLOW_PLAINTEXT: { kind: 'bool', default: false, readers: ['all'], doc: 'serve and call gRPC without TLS on addresses other than loopback (only inside a network that encrypts and authenticates by itself)' },
  EDGE_MAX_CONNECTIONS_PER_PEER: { kind: 'int', default: 64, min: 1, max: 100_000, readers: ['all'], doc: 'open connections one client address may hold at each gRPC port and the console; more are closed at once (a flood of idle sockets never takes the port)' },
  EDGE_MAX_CONNECTIONS: { kind: 'int', default: 4_096, min: 1, max: 1_000_000, readers: ['all'], doc: 'open connections in all at each gRPC port and the console' },
  EDGE_HANDSHAKE_TIMEOUT_MS: { kind: 'int', default: 10_000, min: 100, max: 600_000, readers: ['all'], doc: 'a connection that has not sent its opening (TLS ClientHello, HTTP/2 preface, request line) within this time is closed; the console also needs a request\'s headers within it' },
  STORAGE_SPOOL_DIR: { kind: 'string', readers: ['storage'], defaultText: '`$POSTBOTE_DATA_DIR/spool`', doc: 'scratch files of emails over 4 MiB while they arrive (leftovers removed at start-up)' },
  STORAGE_MAX_MESSAGE_BYTES: { kind: 'int', default: 100 * 1024 * 1024, min: 1024, max: 2 * GiB, readers: ['storage'], doc: 'largest message accepted (bytes)' },
  STORAGE_PARSE_WORKERS: { kind: 'int', min: 0, max: 64, readers: ['storage'], defaultText: 'cores − 1 (1 to 4)', doc: 'worker threads parsing metadata; 0 parses on the event loop' },
  STORAGE_PURGE_INTERVAL_SECONDS: { kind: 'int', default: 3600, min: 10, max: 7 * 86_400, readers: ['storage'], doc: 'retention purge interval' },
  STORAGE_PURGE_BATCH: { kind: 'int', default: 100, min: 1, max: 10_000, readers: ['storage'], doc: 'emails deleted per purge transaction' },
  STORAGE_LOG_RETENTION_DAYS: { kind: 'int', default: 90, min: 1, max: 3650, readers: ['storage'], doc: 'connector log retention' },
  STORAGE_DEDUPE_EXTRA_DAYS: { kind: 'int', default: 365, min: 0, max: 3650, readers: ['storage'], doc: 'how long dedupe keys outlive their emails' },
  MAIL_BLOBS_URL: { kind: 'string', readers: ['storage'], defaultText: 'none: raw mail as chunks in the database', doc: '`s3://bucket/prefix?endpoint=https://host:port&region=…` (region default `us-east-1`) puts raw mail in an S3-compatible bucket (options `path_style`, `sse`, `sse_kms_key_id`, `storage_class`); credentials from the standard `AWS_*` variables or `AWS_SHARED_CREDENTIALS_FILE`' },
  STORAGE_PUBLIC_ADDR: { kind: 'string', readers: ['storage'], defaultText: '`STORAGE_SERVICE_ADDR`', doc: 'address written into events for downloading raw mail' },
  TRIGGER_TOPIC: { kind: 'string', default: 'postbote.email-received.v1', readers: ['trigger'], doc: 'event topic' },
  TRIGGER_TOPIC_PER_WORKSPACE: { kind: 'bool', default: false, readers: ['trigger'], doc: 'one event topic per workspace, its id after the topic\'s first segment (`postbote.acme.email-received.v1`), for engines that grant access per topic' },
  TRIGGER_EVENT_ENCODING: { kind: 'oneOf', values: ['protobuf', 'json'], default: 'protobuf', readers: ['trigger'], doc: '`protobuf` or `json` (proto3 JSON mapping)' },
  TRIGGER_MAX_EVENT_BYTES: { kind: 'int', default: 900_000, min: 1_024, max: 100 * 1024 * 1024, readers: ['trigger'], doc: 'an event record larger than this is parked (`postbote events parked`, `retry`) instead of holding every event behind it; keep it below the broker\'s `message.max.bytes` (1 MiB by default)' },
  TRIGGER_BATCH: { kind: 'int', default: 500, min: 1, max: 10_000, readers: ['trigger'], doc: 'outbox rows per Kafka transaction' },
  TRIGGER_POLL_MS: { kind: 'int', default: 250, min: 10, max: 60_000, readers: ['trigger'], doc: 'how often an idle relay looks for new outbox rows (in the all-in-one each commit also wakes it)' },
  TRIGGER_TRANSACTIONAL_ID: { kind: 'string', default: 'postbote-trigger', readers: ['trigger'], doc: 'Kafka transactional id (one active relay per id)' },
  FETCHER_MAX_MESSAGE_BYTES: { kind: 'int', default: 50 * 1024 * 1024, min: 1024, max: 2 * GiB, readers: ['fetcher'], doc: 'size cap: larger messages are logged and left on the server' },
  FETCHER_MAX_AUTH_FAILURES: { kind: 'int', default: 3, min: 1, max: 100, readers: ['fetcher'], doc: 'refused logins in a row before parking in `AUTH_FAILED`' },
  FETCHER_AUTH_BACKOFF_SECONDS: { kind: 'int', default: 300, min: 1, max: 86_400, readers: ['fetcher'], doc: 'first wait after a refused login (doubles)' },
  FETCHER_MAX_BACKOFF_SECONDS: { kind: 'int', default: 900, min: 1, max: 86_400, readers: ['fetcher'], doc: 'longest wait between retries' },
  FETCHER_WATCHDOG_INTERVALS: { kind: 'int', default: 5, min: 2, max: 1000, readers: ['fetcher'], doc: 'intervals without a successful poll before the watchdog reports and rebuilds a connector' },
  FETCHER_SOURCE_ADDRESS: { kind: 'string', readers: ['fetcher', 'config'], defaultText: 'chosen by the system', doc: 'local IP address every mail-server connection (polls and connection tests) is made from, for customers\' firewalls; must be an address of this host' },
  FETCHER_INSTANCE_ID: { kind: 'string', readers: ['fetcher'], defaultText: '`<hostname>-<pid>`', doc: 'name shown by `postbote fetchers`' },
  FETCHER_SESSION_TIMEOUT_MS: { kind: 'int', default: 10_000, min: 6_000, max: 300_000, readers: ['fetcher'], doc: 'Kafka session timeout: how long a dead fetcher keeps its connectors' },
  FETCHER_START_RATE: { kind: 'int', default: 100, min: 1, max: 10_000, readers: ['fetcher'], doc: 'first runs per second a fetcher starts for connectors it takes on (start-up, rebalance, a workspace resumed); the rest wait their turn, so a cold start of thousands of connectors is not a login storm' },
  FETCHER_REPORT_SECONDS: { kind: 'int', default: 5, min: 1, max: 600, readers: ['fetcher'], doc: 'how often each fetcher reports to the fleet view' },
  CONSOLE_ADDR: { kind: 'address', default: '127.0.0.1:8080', readers: ['console'], doc: 'web console `host:port` (HTTPS with `POSTBOTE_TLS_CERT_FILE`; plain HTTP only on loopback unless `POSTBOTE_ALLOW_PLAINTEXT`); port 0 picks a free one; the start log prints its URL' },
  CONSOLE_ENABLED: { kind: 'bool', default: true, readers: ['console'], doc: '`false`: `postbote start` runs without the web console' },
  KAFKA_NAMESPACE: { kind: 'string', default: '', readers: ['all'], defaultText: 'none', doc: 'prefix of every Kafka topic and group, to share a cluster' },
  CONFIG_SERVICE_ADDR: { kind: 'address', default: '127.0.0.1:50051', readers: ['all'], doc: 'config service host:port (it binds, the others connect)' },
  STORAGE_SERVICE_ADDR: { kind: 'address', default: '127.0.0.1:50052', readers: ['all'], doc: 'storage service host:port (it binds, the others connect)' },
  TRIGGER_SERVICE_ADDR: { kind: 'address', default: '127.0.0.1:50053', readers: ['all'], doc: 'trigger service host:port (it binds, the CLI connects)' },
  FETCHER_SERVICE_ADDR: { kind: 'address', default: '127.0.0.1:50054', readers: ['all'], doc: 'fetcher service host:port (it binds, the CLI connects)' },
  KAFKA_BROKERS: { kind: 'list', readers: ['all'], defaultText: 'unset → in-process bus', doc: '`host:port,host:port` selects Kafka' },
  KAFKA_TLS: { kind: 'oneOf', values: ['off', 'verify'], default: 'off', readers: ['all'], doc: '`verify`: TLS to the brokers, their certificates verified (against `KAFKA_TLS_CA_FILE`, else the system CAs) and their names checked; on by itself when a CA file is given' },
  KAFKA_TLS_CA_FILE: { kind: 'string', readers: ['all'], defaultText: 'system CAs', doc: 'PEM CA certificates the brokers\' certificates must chain to (pinning; implies `KAFKA_TLS=verify`)' },
  KAFKA_TLS_CERT_FILE: { kind: 'string', readers: ['all'], doc: 'PEM client certificate presented to the brokers (with `KAFKA_TLS_KEY_FILE`)' },
  KAFKA_TLS_KEY_FILE: { kind: 'string', readers: ['all'], doc: 'PEM private key of `KAFKA_TLS_CERT_FILE`' },
  KAFKA_SASL_MECHANISM: { kind: 'oneOf', values: ['none', 'scram-sha-512', 'scram-sha-256'], default: 'none', readers: ['all'], doc: 'SASL login to the brokers (use it with TLS: SCRAM proves the password without sending it, but the records travel in clear without TLS)' },
  KAFKA_SASL_USERNAME: { kind: 'string', readers: ['all'], doc: 'SASL user name' },
  KAFKA_SASL_PASSWORD: { kind: 'secret', readers: ['all'], doc: 'SASL password (also `KAFKA_SASL_PASSWORD_FILE`)' },
  KAFKA_CLIENT_ID: { kind: 'string', readers: ['all'], defaultText: 'per service', doc: 'kafkajs client id' },
  KAFKA_PARTITIONS: { kind: 'int', default: 64, min: 1, max: 10_000, readers: ['all'], doc: 'partitions of topics Postbote creates' },
  KAFKA_REPLICATION_FACTOR: { kind: 'int', default: 1, min: 1, max: 16, readers: ['all'], doc: 'replication of topics Postbote creates' },
  METRICS_ADDR: { kind: 'address', readers: ['config', 'storage', 'trigger', 'fetcher'], defaultText: 'off', doc: '`host:port` of the HTTP endpoint with `/metrics` (Prometheus), `/healthz` and `/readyz`; port 0 picks a free one (the log says which); beyond loopback it needs `METRICS_TOKEN`' },
  METRICS_TOKEN: { kind: 'secret', readers: ['config', 'storage', 'trigger', 'fetcher'], defaultText: 'none', doc: 'bearer token Prometheus must send for `/metrics` (at least 16 characters; also `METRICS_TOKEN_FILE`); `/healthz` and `/readyz` stay open' },
  METRICS_CONNECTOR_LABELS: { kind: 'bool', default: true, readers: ['fetcher'], doc: 'export series per connector (last success, backlog); `false` for large fleets' },
  METRICS_WORKSPACE_LABELS: { kind: 'int', default: 100, min: 0, max: 10_000, readers: ['storage', 'trigger', 'fetcher'], doc: 'how many workspaces get series of their own; later ones are counted as `other`' },
  LOG_LEVEL: { kind: 'oneOf', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', readers: ['all'], doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`' },
} as const satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;

type ValueOf<V> = V extends { kind: 'int'; default: number }
  ? number
  : V extends { kind: 'int' }
    ? number | undefined
    : V extends { kind: 'address'; default: string }
      ? string
      : V extends { kind: 'address' }
        ? string | undefined
      : V extends { kind: 'oneOf'; values: readonly (infer T)[] }
        ? T
        : V extends { kind: 'list' }
          ? string[]
          : V extends { kind: 'bool' }
            ? boolean
            : V extends { kind: 'string'; default: string }
              ? string
              : string | undefined;

/** A variable's value as its catalogue entry says: checked, defaulted, typed. Failures name the variable. */
export function readVar<N extends VariableName>(env: EnvReader, name: N): ValueOf<(typeof VARIABLES)[N]> {
  const v = VARIABLES[name] as Variable;
  switch (v.kind) {
    case 'int': {
      const raw = env.string(name);
      return (raw === undefined ? v.default : env.int(name, 0, v)) as ValueOf<(typeof VARIABLES)[N]>;
    }
    case 'string':
      return (v.default === undefined ? env.string(name) : env.string(name, v.default)) as ValueOf<(typeof VARIABLES)[N]>;
    case 'address':
      // Without a default the variable is optional: unset means off.
      return (v.default === undefined && env.string(name) === undefined ? undefined : env.address(name, v.default ?? '')) as ValueOf<(typeof VARIABLES)[N]>;
    case 'secret':
      return env.secret(name) as ValueOf<(typeof VARIABLES)[N]>;
    case 'oneOf':
      return env.oneOf(name, v.values, v.default) as ValueOf<(typeof VARIABLES)[N]>;
    case 'list':
      return env.list(name) as ValueOf<(typeof VARIABLES)[N]>;
    case 'bool':
      return env.bool(name, v.default) as ValueOf<(typeof VARIABLES)[N]>;
  }
}

const READER_NAMES: Record<Reader, string> = { config: 'config', storage: 'storage', trigger: 'trigger', fetcher: 'fetcher', console: 'console', cli: 'CLI', all: 'all' };

function defaultCell(v: Variable): string {
  if (v.defaultText) return v.defaultText;
  if (!('default' in v) || v.default === undefined || v.default === '') return 'none';
  const mib = typeof v.default === 'number' && v.default >= 1024 * 1024 && v.default % (1024 * 1024) === 0 ? ` (${v.default / 1024 / 1024} MiB)` : '';
  return `\`${String(v.default)}\`${mib}`;
}

function ruleCell(v: Variable): string {
  if (v.kind === 'int') return `${v.min.toLocaleString('en-US')}–${v.max.toLocaleString('en-US')}; `;
  return '';
}

/** The README's configuration table, rendered from the catalogue. */
export function renderVariableTable(): string {
  const rows = Object.entries(VARIABLES).map(([name, v]: [string, Variable]) => `| \`${name}\` | ${v.readers.map((r) => READER_NAMES[r]).join(', ')} | ${defaultCell(v)} | ${ruleCell(v)}${v.doc} |`);
  return ['| variable | used by | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
