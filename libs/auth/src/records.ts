// What the access API shows of tokens, audit entries and console users: the shapes the
// config service's rows fill in and the contract maps to the API (libs/contract).

/** An API token as it is listed (never its secret). */
export interface ApiTokenInfo {
  readonly id: string;
  readonly name: string;
  /** A workspace role, or `installation-admin`. */
  readonly role: string;
  /** The workspace it acts in; null for an installation admin's token. */
  readonly workspaceId: string | null;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

/** One entry of the audit log. */
export interface AuditEntryInfo {
  readonly id: string;
  /** The workspace the change was made in; '' for the installation's own. */
  readonly workspaceId: string;
  readonly at: Date;
  readonly actor: string;
  readonly peer: string;
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly targetName: string;
  readonly detail: string;
}

/** A person of the web console, with their role in the workspace asked about. */
export interface ConsoleMemberInfo {
  readonly name: string;
  readonly role: string;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly lastSignInAt: Date | null;
}
