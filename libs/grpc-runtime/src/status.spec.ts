import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { InternalError, UnavailableError, ValidationError } from '@postbote/errors';
import { fromGrpcError, toGrpcStatus } from './status';

/** What a client sees of a status the server sent. */
const received = (s: ReturnType<typeof toGrpcStatus>): ServiceError =>
  Object.assign(new Error(s.details ?? ''), { code: s.code ?? status.UNKNOWN, details: s.details ?? '', metadata: s.metadata ?? new Metadata() });

describe('status mapping (the one place errors become statuses and back)', () => {
  it('carries every violation in grpc-status-details-bin, whatever characters its message has', () => {
    const err = new ValidationError([
      { field: 'spec.folder', rule: 'no-control', message: 'must not contain control characters (\u0001, ä, 😀)' },
      { field: 'spec.port', rule: 'range', message: 'must be an integer between 1 and 65535' },
    ]);
    const s = toGrpcStatus(err, 'ref');
    assert.equal(s.code, status.INVALID_ARGUMENT);
    assert.ok(Buffer.isBuffer(s.metadata?.get('grpc-status-details-bin')[0]));
    const back = fromGrpcError(received(s));
    assert.ok(back instanceof ValidationError);
    assert.deepEqual(back.violations, err.violations);
  });

  it('says which dependency failed (ErrorInfo reason) and keeps foreign errors\' messages out', () => {
    const back = fromGrpcError(received(toGrpcStatus(new UnavailableError('database unavailable', { reason: 'DATABASE_UNAVAILABLE' }), 'r')));
    assert.ok(back instanceof UnavailableError && back.reason === 'DATABASE_UNAVAILABLE');
    const foreign = toGrpcStatus(new Error('password=hunter2 in a driver message'), 'abc123');
    assert.equal(foreign.code, status.INTERNAL);
    assert.match(foreign.details ?? '', /reference abc123/);
    assert.doesNotMatch(foreign.details ?? '', /hunter2/);
  });

  it('bounds a message that quotes huge input', () => {
    const s = toGrpcStatus(new InternalError(`no connector "${'x'.repeat(100_000)}"`), 'r');
    assert.ok((s.details ?? '').length <= 2_001);
  });

  it('reads a status without details (another server, an old version)', () => {
    const back = fromGrpcError(Object.assign(new Error('bad'), { code: status.INVALID_ARGUMENT, details: 'bad', metadata: new Metadata() }));
    assert.ok(back instanceof ValidationError);
    assert.equal(back.violations[0]?.field, 'request');
  });
});
