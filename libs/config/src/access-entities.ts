import { EntitySchema } from 'typeorm';

/** One API token: its secret only as a SHA-256 hash (see @postbote/auth's api-token). */
export interface ApiTokenRow {
  id: string;
  name: string;
  /** A workspace role, or `installation-admin`; unused for a console session (its person's memberships decide). */
  role: string;
  /** The workspace it acts in; null for an installation admin's token and a console session. */
  workspaceId: string | null;
  secretHash: string;
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  /** Set for a web console session: the signed-in user's name (sessions are not listed as tokens). */
  consoleUser: string | null;
}

export const ApiTokenEntity = new EntitySchema<ApiTokenRow>({
  name: 'ApiToken',
  tableName: 'api_tokens',
  columns: {
    id: { type: 'varchar', length: 12, primary: true },
    name: { type: 'varchar', length: 100 },
    role: { type: 'varchar', length: 20 },
    workspaceId: { name: 'workspace_id', type: 'varchar', length: 40, nullable: true },
    secretHash: { name: 'secret_hash', type: 'varchar', length: 64 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    createdBy: { name: 'created_by', type: 'varchar', length: 200 },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3, nullable: true },
    revokedAt: { name: 'revoked_at', type: 'datetime', precision: 3, nullable: true },
    lastUsedAt: { name: 'last_used_at', type: 'datetime', precision: 3, nullable: true },
    consoleUser: { name: 'console_user', type: 'varchar', length: 64, nullable: true },
  },
});

/** A person who signs in to the web console; the password only as a scrypt hash. Their roles are memberships (below). */
export interface ConsoleUserRow {
  name: string;
  /** Acts in every workspace (the vendor's staff). */
  installationAdmin: boolean;
  passwordHash: string;
  createdAt: Date;
  createdBy: string;
  lastSignInAt: Date | null;
}

export const ConsoleUserEntity = new EntitySchema<ConsoleUserRow>({
  name: 'ConsoleUser',
  tableName: 'console_users',
  columns: {
    name: { type: 'varchar', length: 64, primary: true },
    installationAdmin: { name: 'installation_admin', type: 'boolean' },
    passwordHash: { name: 'password_hash', type: 'varchar', length: 200 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    createdBy: { name: 'created_by', type: 'varchar', length: 200 },
    lastSignInAt: { name: 'last_sign_in_at', type: 'datetime', precision: 3, nullable: true },
  },
});

/** A person's role in one workspace. */
export interface MembershipRow {
  userName: string;
  workspaceId: string;
  role: string;
  createdAt: Date;
  createdBy: string;
}

export const MembershipEntity = new EntitySchema<MembershipRow>({
  name: 'ConsoleMembership',
  tableName: 'console_memberships',
  columns: {
    userName: { name: 'user_name', type: 'varchar', length: 64, primary: true },
    workspaceId: { name: 'workspace_id', type: 'varchar', length: 40, primary: true },
    role: { type: 'varchar', length: 16 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    createdBy: { name: 'created_by', type: 'varchar', length: 200 },
  },
});

/** One change to connectors, keys, tokens, people or workspaces. Append-only; never a secret. */
export interface AuditRow {
  id: string;
  /** Orders entries written in the same millisecond. */
  seq: number;
  /** The workspace the change was made in; '' for the installation's own (keys, installation admins, a deleted workspace). */
  workspaceId: string;
  at: Date;
  actor: string;
  peer: string;
  action: string;
  targetType: string;
  targetId: string;
  targetName: string;
  detail: string;
}

export const AuditEntity = new EntitySchema<AuditRow>({
  name: 'AuditEntry',
  tableName: 'audit_log',
  columns: {
    seq: { type: 'integer', primary: true, generated: 'increment' },
    id: { type: 'varchar', length: 36, unique: true },
    workspaceId: { name: 'workspace_id', type: 'varchar', length: 40 },
    at: { type: 'datetime', precision: 3 },
    actor: { type: 'varchar', length: 200 },
    peer: { type: 'varchar', length: 100 },
    action: { type: 'varchar', length: 40 },
    targetType: { name: 'target_type', type: 'varchar', length: 20 },
    targetId: { name: 'target_id', type: 'varchar', length: 36 },
    targetName: { name: 'target_name', type: 'varchar', length: 100 },
    detail: { type: 'varchar', length: 1000 },
  },
});
