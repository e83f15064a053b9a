/**
 * A workspace owns everything one customer of an installation has: connectors, stored mail,
 * logs, events, tokens, console memberships, audit entries (docs/decisions/0023). Its id is
 * a short slug chosen at creation and never changed: it names the workspace in the CLI
 * (`--workspace`), in every event (and, when asked for, in its topic's name), so it is made
 * of what a Kafka topic name and a URL can carry. Data that existed before workspaces lives
 * in `default`, which always exists and cannot be deleted.
 */
export const DEFAULT_WORKSPACE = 'default';

/** 1–40 characters: lower-case letters, digits and inner hyphens. */
const WORKSPACE_ID = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

export function isWorkspaceId(value: string): boolean {
  return WORKSPACE_ID.test(value);
}

export const WORKSPACE_ID_RULE = '1 to 40 lower-case letters, digits or inner hyphens, e.g. "acme" or "acme-eu"';

/**
 * Where a call acts. A person's or system's call acts in exactly one workspace (the gate
 * decides which); Postbote's own services act for every workspace. Every read and write of
 * owned data takes a Scope, so none can forget to ask.
 */
export type Scope = { readonly every: true } | { readonly every: false; readonly workspace: string };

export const EVERY_WORKSPACE: Scope = Object.freeze({ every: true });

export function inWorkspace(workspace: string): Scope {
  return Object.freeze({ every: false, workspace });
}

/** Whether something owned by `workspace` is visible in `scope`. */
export function inScope(scope: Scope, workspace: string): boolean {
  return scope.every || scope.workspace === workspace;
}

/** How logs and errors name a scope. */
export function describeScope(scope: Scope): string {
  return scope.every ? 'every workspace' : `workspace ${scope.workspace}`;
}
