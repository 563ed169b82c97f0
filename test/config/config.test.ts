import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load-config.js';

const minimal = {
  storage: { url: 'sqlite:data/ctp.sqlite' },
  keys: {
    decryption: [{ kid: 'e', privateKey: 'e.pem' }],
    verification: [{ kid: 'v', certificate: 'v.pem' }],
  },
  dataProtection: { keys: [{ id: 'k1', file: 'k1' }], fingerprintKey: { env: 'FP' } },
};

describe('config', () => {
  it('fills defaults and resolves relative paths against the config folder', () => {
    const c = parseConfig(minimal, '/etc/ctp');
    assert.equal(c.listen.host, '127.0.0.1');
    assert.equal(c.listen.port, 8443);
    assert.deepEqual(c.jose.signatureAlgorithms, ['PS256']);
    assert.deepEqual(c.jose.contentEncryptionAlgorithms, ['A256GCM', 'A128GCM']);
    assert.equal(c.storage.url, 'sqlite:/etc/ctp/data/ctp.sqlite');
    assert.equal(c.issuers[0]?.keys.decryption[0]?.privateKey, '/etc/ctp/e.pem');
    assert.deepEqual(c.issuers[0]?.dataProtection.keys[0], { id: 'k1', file: '/etc/ctp/k1' });
    assert.equal(c.log.level, 'info');
  });

  const bad: [string, unknown, RegExp][] = [
    ['port out of range', { ...minimal, listen: { port: 70000 } }, /config \/listen\/port/],
    ['unknown field', { ...minimal, lisen: {} }, /config \/lisen/],
    ['storage scheme', { ...minimal, storage: { url: 'mysql://x' } }, /config \/storage\/url/],
    [
      'alg none',
      { ...minimal, jose: { signatureAlgorithms: ['none'] } },
      /config \/jose\/signatureAlgorithms\/0/,
    ],
    [
      'HS256',
      { ...minimal, jose: { signatureAlgorithms: ['HS256'] } },
      /config \/jose\/signatureAlgorithms\/0/,
    ],
    [
      'RSA1_5',
      { ...minimal, jose: { keyManagementAlgorithms: ['RSA1_5'] } },
      /config \/jose\/keyManagementAlgorithms\/0/,
    ],
    ['trid format', { ...minimal, tokenRequestorIds: ['123'] }, /config \/tokenRequestorIds\/0/],
    [
      'two secret sources',
      {
        ...minimal,
        dataProtection: { ...minimal.dataProtection, fingerprintKey: { env: 'A', file: 'b' } },
      },
      /config \/dataProtection\/fingerprintKey/,
    ],
    [
      'x-pay-token without secret',
      { ...minimal, auth: { xPayToken: {} } },
      /config \/auth\/xPayToken/,
    ],
    [
      'duplicate kid',
      {
        ...minimal,
        keys: {
          ...minimal.keys,
          decryption: [
            { kid: 'e', privateKey: 'a' },
            { kid: 'e', privateKey: 'b' },
          ],
        },
      },
      /config \/keys\/decryption\/1\/kid/,
    ],
    [
      'no decryption key',
      { ...minimal, keys: { ...minimal.keys, decryption: [] } },
      /config \/keys\/decryption/,
    ],
    [
      'full card numbers to a directory over plain HTTP',
      {
        ...minimal,
        directory: { type: 'http', url: 'http://127.0.0.1:9/lookup', sendCardNumber: true },
      },
      /config \/directory\/url: sendCardNumber sends full card numbers/,
    ],
  ];
  for (const [name, input, message] of bad) {
    it(`refuses ${name}, naming the field`, () => {
      assert.throws(
        () => parseConfig(input, '/'),
        (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && message.test(e.message),
      );
    });
  }
});
