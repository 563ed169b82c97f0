import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from '../../src/config/config-schema.js';
import { isFilePath } from '../../src/config/file-path.js';
import { parseConfig } from '../../src/config/load-config.js';

// Every file path in the config is relative to the config file's folder. Paths are marked in the
// schema (FilePath) and resolved by one walk; these tests keep a new path field from being
// forgotten (left relative to the working directory).

/** Every string field of the schema, as a location (`*` for array items), and its schema. */
function stringFields(schema: TSchema, at = ''): [string, TSchema][] {
  const s = schema as {
    type?: string;
    properties?: Record<string, TSchema>;
    items?: TSchema;
    anyOf?: TSchema[];
    allOf?: TSchema[];
  };
  if (s.type === 'string') return [[at, schema]];
  const out: [string, TSchema][] = [];
  for (const [k, sub] of Object.entries(s.properties ?? {}))
    out.push(...stringFields(sub, `${at}/${k}`));
  if (s.items) out.push(...stringFields(s.items, `${at}/*`));
  for (const sub of [...(s.anyOf ?? []), ...(s.allOf ?? [])]) out.push(...stringFields(sub, at));
  return out;
}

/** The values at `location` in `value` (`*` expands array items). */
function valuesAt(value: unknown, location: string): unknown[] {
  let current: unknown[] = [value];
  for (const part of location.split('/').slice(1)) {
    current = current.flatMap((v) => {
      if (part === '*') return Array.isArray(v) ? v : [];
      return typeof v === 'object' && v !== null && part in v
        ? [(v as Record<string, unknown>)[part]]
        : [];
    });
  }
  return current;
}

const marked = [
  ...new Set(
    stringFields(ConfigSchema)
      .filter(([, s]) => isFilePath(s))
      .map(([at]) => at),
  ),
];

const common = {
  listen: {
    tls: { cert: 'tls/cert.pem', key: 'tls/key.pem', clientCa: 'tls/ca.pem', crl: 'tls/ca.crl' },
  },
  storage: { url: 'sqlite:data/ctp.sqlite' },
  keys: {
    decryption: [{ kid: 'e', privateKey: 'keys/e.pem', certificate: 'keys/e.cert.pem' }],
    verification: [{ kid: 'v', certificate: 'keys/v.pem' }],
  },
  auth: { xPayToken: { sharedSecret: { file: 'secrets/xpt' } } },
  hsm: { module: 'lib/libvendor-pkcs11.so', token: 'ctp-issuer', pin: { file: 'secrets/pin' } },
  dataProtection: {
    keys: [{ id: 'k1', file: 'secrets/k1' }],
    fingerprintKey: { file: 'secrets/fp' },
  },
  admin: {
    port: 8081,
    tls: { cert: 'tls/admin.pem', key: 'tls/admin.key' },
    totpKey: { file: 'secrets/totp' },
    oidc: {
      issuer: 'https://login.bank.example/realms/ops',
      clientId: 'ctp-notify',
      clientSecret: { file: 'secrets/oidc' },
      redirectUri: 'https://ctp-console.bank.example/auth/callback',
      groups: [{ group: 'ctp-admins', role: 'admin', allIssuers: true }],
    },
  },
  telemetry: { headers: { 'x-api-key': { file: 'secrets/otel' } } },
  directory: {
    type: 'http',
    url: 'https://dir.bank.example/cardholder',
    authorization: { file: 'secrets/dir' },
    ca: 'tls/dir-ca.pem',
  },
  sinks: [
    {
      name: 'hook',
      type: 'webhook',
      url: 'https://hook.bank.example',
      secrets: [{ file: 'secrets/hook' }],
      caFile: 'tls/hook-ca.pem',
    },
    {
      name: 'mq',
      type: 'rabbitmq',
      url: 'amqps://mq.bank.example',
      password: { file: 'secrets/mq' },
    },
  ],
};
const alert = { bankName: 'Bank', helpContact: '+44 20 7946 0000' };
/** Between them, a value for every variant that has a path field. */
const samples = [
  {
    ...common,
    risk: {
      alert: {
        ...alert,
        sink: {
          type: 'email',
          host: 'smtp',
          from: 'a@b.example',
          ca: 'tls/smtp-ca.pem',
          user: 'u',
          password: { file: 'secrets/smtp' },
        },
      },
    },
  },
  {
    ...common,
    risk: {
      alert: {
        ...alert,
        sink: {
          type: 'webhook',
          url: 'https://sms.bank.example',
          secrets: [{ file: 'secrets/sms' }],
        },
      },
    },
  },
];

const { dataProtection: _dp, auth: _auth, ...deployment } = common;
(samples as unknown[]).push({
  ...deployment,
  keys: { verification: common.keys.verification },
  risk: { enabled: false },
  issuers: [
    {
      id: 'bank-a',
      basePath: '/bank-a',
      keys: {
        decryption: [{ kid: 'a', privateKey: 'keys/a.pem', certificate: 'keys/a.cert.pem' }],
      },
      auth: { xPayToken: { sharedSecret: { file: 'secrets/a-xpt' } } },
      dataProtection: {
        keys: [{ id: 'a1', file: 'secrets/a1' }],
        fingerprintKey: { file: 'secrets/a-fp' },
      },
      sinks: common.sinks.map((sink) => ({ ...sink, name: `a-${sink.name}` })),
    },
  ],
});

describe('config file paths', () => {
  it('every field marked as a path is resolved against the config folder', () => {
    const seen = new Set<string>();
    for (const sample of samples) {
      // As a file gives them: a configuration without `issuers` has its issuer's fields at the top.
      const config = parseConfig(sample, '/etc/ctp');
      const asFile: unknown = JSON.parse(JSON.stringify(config));
      for (const at of marked) {
        for (const v of valuesAt(asFile, at)) {
          assert.equal(typeof v, 'string', at);
          assert.ok((v as string).startsWith('/etc/ctp/'), `${at} resolved: ${String(v)}`);
          seen.add(at);
        }
      }
      assert.equal(config.storage.url, 'sqlite:/etc/ctp/data/ctp.sqlite');
    }
    assert.deepEqual(
      // A folder parseConfig reads at once (its resolution: test/http/issuers.test.ts).
      marked.filter((at) => !seen.has(at) && at !== '/issuersDir'),
      [],
      'the samples above give every marked path field a value',
    );
    for (const at of [
      '/listen/tls/cert',
      '/keys/decryption/*/privateKey',
      '/sinks/*/caFile',
      '/risk/alert/sink/ca',
      '/directory/ca',
    ]) {
      assert.ok(marked.includes(at), `${at} is marked`);
    }
  });

  it('absolute paths stay as they are', () => {
    const config = parseConfig(
      {
        ...samples[0],
        keys: { ...common.keys, verification: [{ kid: 'v', certificate: '/srv/visa.pem' }] },
      },
      '/etc/ctp',
    );
    assert.equal(config.keys.verification[0]?.certificate, '/srv/visa.pem');
  });

  it('every string field named like a file, key, certificate or CA is marked as a path', () => {
    const looksLikePath = /(file|path|dir|cert|certificate|key|ca)$/i;
    /** Named like a path but not a file: the URL path prefix of the Visa route. */
    const notFiles = new Set(['/basePath', '/issuers/*/basePath']);
    const unmarked = stringFields(ConfigSchema)
      .filter(
        ([at, s]) =>
          looksLikePath.test(at.slice(at.lastIndexOf('/') + 1)) &&
          !isFilePath(s) &&
          !notFiles.has(at),
      )
      .map(([at]) => at);
    assert.deepEqual(
      unmarked,
      [],
      'mark these with FilePath() so they resolve against the config folder',
    );
  });
});
