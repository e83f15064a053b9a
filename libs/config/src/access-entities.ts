import { EntitySchema } from 'typeorm';

/** One API token: its secret only as a SHA-256 hash (see @postbote/auth's api-token). */
export interface ApiTokenRow {
  id: string;
  name: string;
  role: string;
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
    role: { type: 'varchar', length: 16 },
    secretHash: { name: 'secret_hash', type: 'varchar', length: 64 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    createdBy: { name: 'created_by', type: 'varchar', length: 200 },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3, nullable: true },
    revokedAt: { name: 'revoked_at', type: 'datetime', precision: 3, nullable: true },
    lastUsedAt: { name: 'last_used_at', type: 'datetime', precision: 3, nullable: true },
    consoleUser: { name: 'console_user', type: 'varchar', length: 64, nullable: true },
  },
});

/** A person who signs in to the web console; the password only as a scrypt hash. */
export interface ConsoleUserRow {
  name: string;
  role: string;
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
    role: { type: 'varchar', length: 16 },
    passwordHash: { name: 'password_hash', type: 'varchar', length: 200 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    createdBy: { name: 'created_by', type: 'varchar', length: 200 },
    lastSignInAt: { name: 'last_sign_in_at', type: 'datetime', precision: 3, nullable: true },
  },
});

/** One change to connectors, keys or tokens. Append-only; never a secret. */
export interface AuditRow {
  id: string;
  /** Orders entries written in the same millisecond. */
  seq: number;
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
