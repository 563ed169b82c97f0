import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { runCli } from '../support/cli-process.js';

// Config files written for earlier versions spelled secrets several ways; each old spelling stops
// the process naming the field and saying exactly what to write, and never repeats a secret.

const base = {
  storage: { url: 'sqlite::memory:' },
  keys: {
    decryption: [{ kid: 'e', privateKey: 'e.pem' }],
    verification: [{ kid: 'v', certificate: 'v.pem' }],
  },
  dataProtection: { keys: [{ id: 'k1', env: 'K1' }], fingerprintKey: { env: 'FP' } },
};
const inlineXpt = `xpt-${randomBytes(12).toString('hex')}`;
const inlineWhsec = `whsec_${randomBytes(32).toString('base64')}`;
const hook = { name: 'hook', type: 'webhook', url: 'https://hook.bank.example' };
const mq = { name: 'mq', type: 'rabbitmq', url: 'amqp://mq.bank.example' };

/** [old config part, field named, text the message must contain]. */
const cases: [object, string, string][] = [
  [
    { auth: { xPayToken: { sharedSecretFile: 'xpt.secret' } } },
    '/auth/xPayToken/sharedSecretFile',
    'renamed: write "sharedSecret": { "file": "xpt.secret" } instead',
  ],
  [
    { auth: { xPayToken: { sharedSecretEnv: 'XPT_SECRET' } } },
    '/auth/xPayToken/sharedSecretEnv',
    'renamed: write "sharedSecret": { "env": "XPT_SECRET" } instead',
  ],
  [
    { auth: { xPayToken: { sharedSecret: inlineXpt } } },
    '/auth/xPayToken/sharedSecret',
    'write "sharedSecret": { "file": "<path>" } or "sharedSecret": { "env": "<VAR_NAME>" }',
  ],
  [
    { sinks: [{ ...hook, secretsFile: 'hook.whsec' }] },
    '/sinks/0/secretsFile',
    'renamed: write "secrets": [{ "file": "hook.whsec" }] instead',
  ],
  [
    { sinks: [{ ...hook, secretsEnv: 'HOOK_WHSEC' }] },
    '/sinks/0/secretsEnv',
    'renamed: write "secrets": [{ "env": "HOOK_WHSEC" }] instead',
  ],
  [
    { sinks: [mq, { ...hook, secrets: [inlineWhsec] }] },
    '/sinks/1/secrets/0',
    'write { "file": "<path>" } or { "env": "<VAR_NAME>" } in its place',
  ],
  [
    { sinks: [{ ...mq, passwordFile: 'mq.password' }] },
    '/sinks/0/passwordFile',
    'renamed: write "password": { "file": "mq.password" } instead',
  ],
  [
    { sinks: [{ ...mq, passwordEnv: 'MQ_PASSWORD' }] },
    '/sinks/0/passwordEnv',
    'renamed: write "password": { "env": "MQ_PASSWORD" } instead',
  ],
];

describe('secret spellings of earlier versions', () => {
  for (const [old, field, says] of cases) {
    it(`${field}: names the field and what to write instead`, () => {
      assert.throws(
        () => parseConfig({ ...base, ...old }, '/etc/ctp'),
        (e: unknown) => e instanceof ConfigError && e.field === field && e.message.includes(says),
      );
    });
  }

  it('never repeats an inline secret, and is reported before any schema error', () => {
    for (const old of [
      { auth: { xPayToken: { sharedSecret: inlineXpt, clockSkewSeconds: -1 } } },
      { sinks: [{ ...hook, url: 'ftp://x', secrets: [inlineWhsec] }] },
    ]) {
      assert.throws(
        () => parseConfig({ ...base, ...old, lisen: {} }, '/etc/ctp'),
        (e: unknown) =>
          e instanceof ConfigError &&
          /inline secrets are no longer accepted/.test(e.message) &&
          !e.message.includes(inlineXpt) &&
          !e.message.includes(inlineWhsec) &&
          !e.message.includes(inlineWhsec.slice(6, 20)),
      );
    }
  });

  it('a secret pasted where a variable name belongs is neither accepted nor repeated', () => {
    // 32 bytes: base64 ends in "=", so the value cannot pass for a variable name.
    const pasted = `whsec_${randomBytes(32).toString('base64')}`;
    for (const config of [
      { ...base, auth: { xPayToken: { sharedSecretEnv: pasted } } },
      { ...base, auth: { xPayToken: { sharedSecret: { env: pasted } } } },
    ]) {
      assert.throws(
        () => parseConfig(config, '/etc/ctp'),
        (e: unknown) =>
          e instanceof ConfigError &&
          !e.message.includes(pasted) &&
          e.field.startsWith('/auth/xPayToken'),
      );
    }
  });

  it('the process exits 2 with that message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctp-renamed-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify({
          ...base,
          auth: { xPayToken: { sharedSecret: inlineXpt } },
          sinks: [{ ...hook, secretsFile: 'hook.whsec' }],
        }),
      );
      const r = runCli(['serve', '--config', file, '--workers', '1']);
      assert.equal(r.status, 2);
      assert.match(
        r.stderr,
        /config \/auth\/xPayToken\/sharedSecret: inline secrets are no longer accepted/,
      );
      assert.match(
        r.stderr,
        /config \/sinks\/0\/secretsFile: renamed: write "secrets": \[\{ "file": "hook\.whsec" \}\] instead/,
      );
      assert.ok(
        !r.stderr.includes(inlineXpt) && !r.stdout.includes(inlineXpt),
        'the secret is not repeated',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
