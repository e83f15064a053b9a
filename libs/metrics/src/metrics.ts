import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric Postbote exports, declared once (name, help, labels); the services count
 * into these and `/metrics` renders the registry. One registry per process: in the
 * all-in-one the four services share it, which is what one scrape of one process wants.
 * Labels stay bounded: protocols, outcomes, error codes, gRPC methods and status codes,
 * connector states — never an email, a subject or an address. Connector ids grow with the
 * fleet (`METRICS_CONNECTOR_LABELS=false` drops those series); workspaces too, so only the
 * first `METRICS_WORKSPACE_LABELS` seen get a label of their own (see workspaceLabel).
 */
export const registry = new Registry();

let processMetrics = false;

/** Adds Node's process metrics (CPU, memory, event loop lag, GC) once an endpoint serves them. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

const RUN_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const LATE_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const FAST_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const fetcherMetrics = {
  runs: new Counter({ name: 'postbote_fetcher_runs_total', help: 'Mailbox runs finished, by workspace, protocol and outcome (ok, or the failure code)', labelNames: ['workspace', 'protocol', 'outcome'], registers: [registry] }),
  runSeconds: new Histogram({ name: 'postbote_fetcher_run_duration_seconds', help: 'Duration of mailbox runs (connect to logout)', labelNames: ['protocol'], buckets: RUN_SECONDS, registers: [registry] }),
  lateness: new Histogram({ name: 'postbote_fetcher_poll_lateness_seconds', help: 'How much later than due a scheduled run started (next interval, retry or paced first run): timer drift, a busy event loop, waiting for a run slot of its workspace', buckets: LATE_SECONDS, registers: [registry] }),
  emails: new Counter({ name: 'postbote_fetcher_emails_total', help: 'Emails handed to storage, by workspace, protocol and result (stored, duplicate, refused, oversize)', labelNames: ['workspace', 'protocol', 'result'], registers: [registry] }),
  waiting: new Gauge({ name: 'postbote_fetcher_connectors_waiting', help: 'Connectors due for a run but waiting for a run slot of their workspace (quota max_concurrent_runs), by workspace', labelNames: ['workspace'], registers: [registry] }),
  tlsHandshakes: new Counter({ name: 'postbote_fetcher_tls_handshakes_total', help: 'TLS handshakes of polls with a mail server, by whether the server resumed the connector\'s previous session (yes) or ran a full one (no)', labelNames: ['resumed'], registers: [registry] }),
  pushConnections: new Gauge({ name: 'postbote_fetcher_push_connections', help: 'IMAP connections waiting in IDLE for the server to announce mail', registers: [registry] }),
  connectors: new Gauge({ name: 'postbote_fetcher_connectors', help: 'Connectors this fetcher runs, by state', labelNames: ['state'], registers: [registry] }),
  lastSuccess: new Gauge({ name: 'postbote_connector_last_success_timestamp_seconds', help: 'When a connector last finished a run without error (only with METRICS_CONNECTOR_LABELS)', labelNames: ['connector'], registers: [registry] }),
  backlog: new Gauge({ name: 'postbote_connector_backlog', help: 'Emails a connector found but left for its next run (batch limit; only with METRICS_CONNECTOR_LABELS)', labelNames: ['connector'], registers: [registry] }),
};

export const storageMetrics = {
  emails: new Counter({ name: 'postbote_storage_emails_total', help: 'Emails storage answered, by workspace and result (stored, duplicate, or the refusal code: QUOTA_EXCEEDED at a workspace\'s stored-bytes quota)', labelNames: ['workspace', 'result'], registers: [registry] }),
  bytes: new Counter({ name: 'postbote_storage_bytes_total', help: 'Bytes of newly stored emails, by workspace', labelNames: ['workspace'], registers: [registry] }),
  commitSeconds: new Histogram({ name: 'postbote_storage_commit_duration_seconds', help: 'Duration of a group commit (one transaction, one sync)', buckets: FAST_SECONDS, registers: [registry] }),
  commitEmails: new Histogram({ name: 'postbote_storage_commit_emails', help: 'Emails per group commit', buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500], registers: [registry] }),
};

export const triggerMetrics = {
  events: new Counter({ name: 'postbote_trigger_events_published_total', help: 'Workflow events published (committed to the events topic), by workspace', labelNames: ['workspace'], registers: [registry] }),
  publishSeconds: new Histogram({ name: 'postbote_trigger_publish_duration_seconds', help: 'Duration of publishing one outbox batch (one Kafka transaction)', buckets: FAST_SECONDS, registers: [registry] }),
  parked: new Counter({ name: 'postbote_trigger_events_parked_total', help: 'Workflow events set aside because they were too large to publish (TRIGGER_MAX_EVENT_BYTES), by workspace', labelNames: ['workspace'], registers: [registry] }),
  outboxParked: new Gauge({ name: 'postbote_outbox_parked', help: 'Outbox events parked and not retried yet (read at scrape time)', registers: [registry] }),
  outboxPending: new Gauge({ name: 'postbote_outbox_pending', help: 'Outbox events not yet published (read at scrape time)', registers: [registry] }),
  outboxAge: new Gauge({ name: 'postbote_outbox_oldest_age_seconds', help: 'Age of the oldest unpublished outbox event, 0 when none (read at scrape time)', registers: [registry] }),
};

export const grpcMetrics = {
  requests: new Counter({ name: 'postbote_grpc_requests_total', help: 'gRPC calls answered, by method and status code', labelNames: ['method', 'code'], registers: [registry] }),
  seconds: new Histogram({ name: 'postbote_grpc_request_duration_seconds', help: 'gRPC call duration (unary: to the answer; streams: to the end)', labelNames: ['method'], buckets: FAST_SECONDS, registers: [registry] }),
};

/** Gauges read when scraped: the owner of the state registers a reader (one per name; a later one replaces it). */
const collectors = new Map<string, () => Promise<void> | void>();

export function onScrape(name: string, read: () => Promise<void> | void): () => void {
  collectors.set(name, read);
  return () => {
    if (collectors.get(name) === read) collectors.delete(name);
  };
}

/** The exposition text, after every scrape-time reader ran (a failing reader leaves its gauges as they were). */
export async function renderMetrics(): Promise<string> {
  await Promise.all([...collectors.values()].map((read) => Promise.resolve().then(read).catch(() => undefined)));
  return registry.metrics();
}

let connectorLabels = true;

/** Whether series per connector are kept (`METRICS_CONNECTOR_LABELS`). */
export function setConnectorLabels(on: boolean): void {
  connectorLabels = on;
  if (!on) {
    fetcherMetrics.lastSuccess.reset();
    fetcherMetrics.backlog.reset();
  }
}

export function connectorLabelsOn(): boolean {
  return connectorLabels;
}

let workspaceLabels = 100;
const labelled = new Set<string>();

/** How many workspaces get a label of their own (`METRICS_WORKSPACE_LABELS`). */
export function setWorkspaceLabels(max: number): void {
  workspaceLabels = max;
}

/**
 * A workspace as a metric label: the first `METRICS_WORKSPACE_LABELS` workspaces this
 * process sees keep their id, any later one is counted as `other`, so a fleet of ten thousand
 * customers cannot make ten thousand series of every metric.
 */
export function workspaceLabel(workspace: string): string {
  if (labelled.has(workspace)) return workspace;
  if (labelled.size >= workspaceLabels) return 'other';
  labelled.add(workspace);
  return workspace;
}
