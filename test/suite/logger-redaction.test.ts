import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, redactLogObject } from '../../src/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', {
    write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
  });
  return { logger, lines };
}

describe('log redaction', () => {
  it('censors personal fields at the top level, one level down, and card numbers two levels down', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        accountNumber: '4111111111111111',
        firstName: 'Amelie',
        encryptedData: 'eyJ...',
        body: '{"x":1}',
        payload: {
          lastName: 'Dubois',
          contactEmail: 'a@example.org',
          phoneNumber: '+44',
          safe: 'kept',
        },
        deep: {
          enrollment: { paymentInstrument: 'x', accountNumber: '4111111111111111', tsp: 'V' },
        },
        req: { headers: { 'x-pay-token': 'secret' }, method: 'POST' },
        code: 'JWE_MALFORMED',
      },
      'line',
    );
    const l = lines[0]!;
    assert.equal(l.accountNumber, '[redacted]');
    assert.equal(l.firstName, '[redacted]');
    assert.equal(l.encryptedData, '[redacted]');
    assert.equal(l.body, '[redacted]');
    assert.deepEqual(l.payload, {
      lastName: '[redacted]',
      contactEmail: '[redacted]',
      phoneNumber: '[redacted]',
      safe: 'kept',
    });
    assert.deepEqual(l.deep, {
      enrollment: { paymentInstrument: 'x', accountNumber: '[redacted]', tsp: 'V' },
    });
    assert.deepEqual(l.req, { headers: '[redacted]', method: 'POST' });
    assert.equal(l.code, 'JWE_MALFORMED');
  });

  it("censors child bindings too, and never changes the caller's object", () => {
    const { logger, lines } = capture();
    const bindings = { firstName: 'Amelie', reqId: 'r1' };
    const obj = { nested: { phoneNumber: '+447946000001' }, ok: 1 };
    logger.child(bindings).info(obj, 'line');
    assert.equal(lines[0]!.firstName, '[redacted]');
    assert.equal(lines[0]!.reqId, 'r1');
    assert.deepEqual(lines[0]!.nested, { phoneNumber: '[redacted]' });
    assert.deepEqual(obj, { nested: { phoneNumber: '+447946000001' }, ok: 1 });
    assert.deepEqual(bindings, { firstName: 'Amelie', reqId: 'r1' });
  });

  it('returns the very object when there is nothing to censor (no copy on the hot path)', () => {
    const line = { method: 'POST', status: 200, code: null, nested: { a: 1 } };
    assert.equal(redactLogObject(line), line);
  });
});
