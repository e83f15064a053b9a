import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CapturedLog, connectorLogger, createLogger } from './logger';

describe('logger', () => {
  it('writes structured JSON with service and connector id', () => {
    const log = new CapturedLog();
    const logger = connectorLogger(createLogger({ service: 'svc', level: 'info', destination: log }), 'c-1');
    logger.info({ count: 3 }, 'run finished');
    const [entry] = log.entries();
    assert.equal(entry?.['service'], 'svc');
    assert.equal(entry?.['connectorId'], 'c-1');
    assert.equal(entry?.['level'], 'info');
    assert.equal(entry?.['msg'], 'run finished');
  });

  it('redacts secret-named keys at any nesting the paths cover', () => {
    const log = new CapturedLog();
    const logger = createLogger({ service: 'svc', level: 'info', destination: log });
    logger.info({ password: 'p1', spec: { password: 'p2' }, req: { spec: { password: 'p3' } }, a: { b: { c: { token: 't4' } } } });
    assert.doesNotMatch(log.text, /p1|p2|p3|t4/);
    assert.match(log.text, /\[REDACTED\]/);
  });
});
