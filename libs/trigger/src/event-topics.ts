import type { Bus } from '@postbote/bus';
import { DEFAULT_WORKSPACE } from '@postbote/auth';

/**
 * Which topic a workspace's events go to: the one event topic, or — with
 * TRIGGER_TOPIC_PER_WORKSPACE, for engines that grant access per topic — one per workspace,
 * the workspace's id after the topic's first segment (`postbote.email-received.v1` →
 * `postbote.acme.email-received.v1`; KAFKA_NAMESPACE still prefixes it). A workspace's
 * topic is created when its first event goes out.
 */
export class EventTopics {
  readonly #ensured = new Set<string>();

  constructor(
    readonly base: string,
    readonly perWorkspace: boolean,
    private readonly bus: Pick<Bus, 'ensureTopics'>,
  ) {}

  of(workspace: string): string {
    return this.perWorkspace ? workspaceTopic(this.base, workspace || DEFAULT_WORKSPACE) : this.base;
  }

  /** Creates the topics not known to exist yet (once per process). */
  async ensure(topics: Iterable<string>): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.#ensured.has(t));
    if (missing.length === 0) return;
    await this.bus.ensureTopics(missing.map((topic) => ({ topic })));
    for (const t of missing) this.#ensured.add(t);
  }
}

export function workspaceTopic(base: string, workspace: string): string {
  const dot = base.indexOf('.');
  return dot < 0 ? `${workspace}.${base}` : `${base.slice(0, dot)}.${workspace}${base.slice(dot)}`;
}
