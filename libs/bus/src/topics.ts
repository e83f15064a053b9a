/** Topics Postbote uses. Names carry a version; a breaking change gets a new topic. */
export const TOPICS = Object.freeze({
  /** ConnectorChanged, keyed by connector id, compacted: the latest record per connector is its config. */
  connectors: 'postbote.connectors.v1',
  /** EmailReceived, keyed by connector id: the workflow-start events. */
  emailReceived: 'postbote.email-received.v1',
  /** WorkspaceChanged, keyed by workspace id, compacted: the latest record per workspace is its state and quotas. */
  workspaces: 'postbote.workspaces.v1',
  /** FetcherInstance, keyed by instance id, compacted: each fetcher's latest report (fleet view). */
  fetchers: 'postbote.fetchers.v1',
});

/**
 * Topics whose records are sent gzip-compressed. A fleet report lists every connector its
 * fetcher runs: ~80 bytes each, ~165 with an error — 10,000 failing connectors would be 1.7 MB,
 * over the broker's 1 MiB `message.max.bytes`, when the fleet view matters most; compressed ~250 KB.
 */
export const COMPRESSED_TOPICS: ReadonlySet<string> = new Set([TOPICS.fetchers]);
