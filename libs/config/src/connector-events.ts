import { randomUUID } from 'node:crypto';
import { TOPICS, type Bus } from '@postbote/bus';
import type { Logger } from '@postbote/logging';
import { ConnectorChanged, ConnectorChanged_Kind, WorkspaceChanged, WorkspaceChanged_Kind } from '@postbote/proto';
import type { ConnectorRecord } from '@postbote/connector-model';
import { connectorToProto } from '@postbote/contract';
import { LatestStatePublisher } from './state-publisher';
import { workspaceToProto, type WorkspaceRecord } from './workspaces';

export const CONNECTOR_EVENT_CONTENT_TYPE = 'application/x-protobuf; messageType=postbote.v1.ConnectorChanged';
export const WORKSPACE_EVENT_CONTENT_TYPE = 'application/x-protobuf; messageType=postbote.v1.WorkspaceChanged';

/** Connector changes on the compacted connectors topic (see LatestStatePublisher). Never credentials. */
export class ConnectorEventPublisher {
  readonly #state: LatestStatePublisher;

  constructor(
    bus: Bus,
    logger: Logger,
    private readonly now: () => Date,
  ) {
    this.#state = new LatestStatePublisher(bus, TOPICS.connectors, CONNECTOR_EVENT_CONTENT_TYPE, logger);
  }

  upserted(record: ConnectorRecord): Promise<void> {
    const e = ConnectorChanged.fromPartial({ eventId: randomUUID(), kind: ConnectorChanged_Kind.UPSERTED, connectorId: record.id, connector: connectorToProto(record), occurredAt: this.now() });
    return this.#state.send(record.id, ConnectorChanged.encode(e).finish(), e.eventId);
  }

  deleted(connectorId: string, purgeEmailsNow: boolean): Promise<void> {
    const e = ConnectorChanged.fromPartial({ eventId: randomUUID(), kind: ConnectorChanged_Kind.DELETED, connectorId, purgeEmailsNow, occurredAt: this.now() });
    return this.#state.send(connectorId, ConnectorChanged.encode(e).finish(), e.eventId);
  }

  stop(): Promise<void> {
    return this.#state.stop();
  }
}

/** Workspace changes on the compacted workspaces topic: state and quotas for fetchers and storage. */
export class WorkspaceEventPublisher {
  readonly #state: LatestStatePublisher;

  constructor(
    bus: Bus,
    logger: Logger,
    private readonly now: () => Date,
  ) {
    this.#state = new LatestStatePublisher(bus, TOPICS.workspaces, WORKSPACE_EVENT_CONTENT_TYPE, logger);
  }

  upserted(w: WorkspaceRecord): Promise<void> {
    const e = WorkspaceChanged.fromPartial({ eventId: randomUUID(), kind: WorkspaceChanged_Kind.UPSERTED, workspaceId: w.id, workspace: workspaceToProto(w), occurredAt: this.now() });
    return this.#state.send(w.id, WorkspaceChanged.encode(e).finish(), e.eventId);
  }

  deleted(id: string): Promise<void> {
    const e = WorkspaceChanged.fromPartial({ eventId: randomUUID(), kind: WorkspaceChanged_Kind.DELETED, workspaceId: id, occurredAt: this.now() });
    return this.#state.send(id, WorkspaceChanged.encode(e).finish(), e.eventId);
  }

  stop(): Promise<void> {
    return this.#state.stop();
  }
}
