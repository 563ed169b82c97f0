import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CompactEncrypt } from 'jose';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import {
  assertContract,
  canaryListener,
  InputCounter,
  memoryAfterGc,
  runs,
  spillCapturedLogs,
  spyOnConnections,
} from '../support/hostile-checks.js';
import { b64u, encryptCompact, type Signer, signCompact } from '../support/hostile-jose.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { type TestPki, testPki } from '../support/test-pki.js';

// Property-based: valid tokens mutated in every segment, header swaps, nested JWS/JWE, against
// the running server. Rejections happen before storage, so one dialect (SQLite) is enough here;
// the fields that reach storage are fuzzed on both in hostile-payload.test.ts.

const count = new InputCounter();
const dedup = (encryptedData: string) =>
  createHash('sha256').update(encryptedData).digest('base64url');

describe('hostile JOSE input against the running server', () => {
  let pki: TestPki;
  let db: TestDatabase;
  let s: TestServer;
  let canary: Awaited<ReturnType<typeof canaryListener>>;
  let spy: ReturnType<typeof spyOnConnections>;
  let baseline: { heapMiB: number; rssMiB: number };
  /**
   * encryptedData values that carry Visa's good signature and were sent on the right route: each
   * must be a row.
   */
  const visaSigned = new Set<string>();
  const jwes: {
    valid: string[];
    unknownKid: string;
    hostileKid: string;
    zip: string;
    withJku: string;
  } = { valid: [], unknownKid: '', hostileKid: '', zip: '', withJku: '' };
  const tokens: string[] = [];
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

  const post = async (encryptedData: string) => {
    const res = await s.post({ encryptedData }, { xPayToken: false });
    count.answered(res.status);
    return res;
  };
  const visa = (): Signer => ({ kind: 'rsa-pss', key: pki.visaSigningKey });

  before(async () => {
    pki = await testPki();
    db = await sqliteDialect.create();
    canary = await canaryListener();
    s = await startTestServer(pki, { storageUrl: db.url });
    const jwe = (
      payload: unknown,
      key = pki.issuerPublicKey,
      kid = pki.issuerKid,
      extra: Record<string, unknown> = {},
    ) =>
      new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid, ...extra })
        .encrypt(key);
    for (let i = 0; i < 4; i++) jwes.valid.push(await jwe(enrollmentPayload()));
    jwes.unknownKid = await jwe(enrollmentPayload(), pki.issuerPublicKey2, pki.issuerKid2);
    jwes.hostileKid = await jwe(
      enrollmentPayload(),
      pki.issuerPublicKey,
      `../../${pki.issuerKid}' OR '1'='1; --\u0000`,
    );
    jwes.withJku = await jwe(enrollmentPayload(), pki.issuerPublicKey, pki.issuerKid, {
      jku: `${canary.url}/jwks`,
      x5u: `${canary.url}/cert`,
    });
    jwes.zip = encryptCompact(
      { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: pki.issuerKid, zip: 'DEF' },
      JSON.stringify(enrollmentPayload()),
      pki.issuerPublicKey,
    );
    for (let i = 0; i < 4; i++) tokens.push(await s.encode(enrollmentPayload()));
    // Warm up (JIT, pools, prepared statements) before the memory baseline.
    for (const t of tokens) assert.equal((await post(t)).status, 200);
    for (const t of tokens) visaSigned.add(t);
    baseline = memoryAfterGc();
    spy = spyOnConnections();
  });

  after(async () => {
    spy?.restore();
    await s?.close();
    await canary?.close();
    await db?.drop();
  });

  it('valid tokens mutated in every segment (bit flips, truncation, padding, extra dots) are refused and never stored', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const mutation = fc.oneof(
      fc.record({
        op: fc.constant('flip' as const),
        at: fc.nat(),
        bit: fc.integer({ min: 0, max: 5 }),
      }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({
        op: fc.constant('insert' as const),
        at: fc.nat(),
        text: fc.constantFrom('.', '..', '=', '==', ' ', '\n', '+', '/', '%3D', '\u0000', 'é', 'A'),
      }),
      fc.record({
        op: fc.constant('segment' as const),
        which: fc.integer({ min: 0, max: 2 }),
        how: fc.constantFrom('drop', 'duplicate', 'empty', 'pad', 'swap', 'upper', 'std-base64'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: tokens.length - 1 }), mutation, async (ti, m) => {
        const token = tokens[ti]!;
        const mutated = mutate(token, m, alphabet);
        fc.pre(mutated !== token);
        count.add('outer mutations');
        assertContract(await post(mutated), [400, 401], `outer ${JSON.stringify(m)}`);
      }),
      { numRuns: runs(1500) },
    );
  });

  it('the inner JWE mutated in every segment and re-signed by Visa: quarantined (400), 500 only for an unknown kid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: jwes.valid.length - 1 }),
        fc.integer({ min: 0, max: 4 }),
        fc.nat(),
        fc.constantFrom('flip', 'truncate', 'pad', 'dot', 'empty'),
        async (ji, segment, at, how) => {
          const parts = jwes.valid[ji]!.split('.');
          const seg = parts[segment]!;
          const i = seg.length === 0 ? 0 : at % seg.length;
          parts[segment] =
            how === 'flip'
              ? `${seg.slice(0, i)}${seg[i] === 'A' ? 'B' : 'A'}${seg.slice(i + 1)}`
              : how === 'truncate'
                ? seg.slice(0, i)
                : how === 'pad'
                  ? `${seg}=`
                  : how === 'dot'
                    ? `${seg.slice(0, i)}.${seg.slice(i)}`
                    : '';
          const inner = parts.join('.');
          fc.pre(inner !== jwes.valid[ji]);
          const encryptedData = signCompact(
            { alg: 'PS256', kid: pki.visaKid, cty: 'JWE' },
            b64u(inner),
            visa(),
          );
          visaSigned.add(encryptedData);
          count.add('inner mutations (Visa-signed)');
          assertContract(
            await post(encryptedData),
            [400, ...(segment === 0 ? [500] : [])],
            `inner segment ${segment} ${how}`,
          );
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it('header swaps: alg none/HS256 with the public key/RS256, crit, jku/x5u/jwk elsewhere, hostile kids; 200 only with Visa PS256 under its kid', async () => {
    const spkiPem = pki.visaPublicKey.export({ type: 'spki', format: 'pem' });
    const spkiDer = pki.visaPublicKey.export({ type: 'spki', format: 'der' });
    const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
    const signers: Record<string, Signer> = {
      'visa-ps256': visa(),
      'visa-rs256': { kind: 'rsa-pkcs1', key: pki.visaSigningKey },
      'visa-ps512': { kind: 'rsa-pss', key: pki.visaSigningKey, hash: 'sha512' },
      'attacker-ps256': { kind: 'rsa-pss', key: attacker.privateKey },
      'hs256-public-pem': { kind: 'hmac', secret: spkiPem },
      'hs256-public-der': { kind: 'hmac', secret: spkiDer },
      none: { kind: 'none' },
    };
    const hostileKid = fc.oneof(
      fc.constant(pki.visaKid),
      fc.constantFrom(
        '../../../../etc/passwd',
        '..\\..\\keys\\visa.pem',
        "715EA257' OR '1'='1",
        '715EA257; DROP TABLE notifications; --',
        '%2e%2e%2f',
        '715EA257\u0000',
        '\u202E752AE517',
        'x'.repeat(4000),
        'k'.repeat(10_000),
      ),
      fc.string({ maxLength: 40 }),
      fc.constantFrom(undefined, null, 7, [pki.visaKid], { kid: pki.visaKid }),
    );
    // Half the headers start from Visa's own (PS256 under its kid) so that the accepting branch
    // is exercised as often as the refusing ones.
    // Each hostile member is present in about one header in four, so that most headers stay
    // close to Visa's and the accepting branch is exercised as often as the refusing ones.
    const sometimes = <T>(arb: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
    const header = fc
      .record({
        alg: fc.oneof(
          { weight: 4, arbitrary: fc.constant<unknown>('PS256') },
          {
            weight: 2,
            arbitrary: fc.constantFrom<unknown>(
              'RS256',
              'PS512',
              'HS256',
              'none',
              'None',
              'NONE',
              'ES256',
              'EdDSA',
              'dir',
              '',
            ),
          },
          { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 1, ['PS256']) },
        ),
        kid: fc.oneof(
          { weight: 3, arbitrary: fc.constant<unknown>(pki.visaKid) },
          { weight: 2, arbitrary: hostileKid },
        ),
        crit: sometimes(fc.constantFrom<unknown>(['exp'], ['b64'], [], 'exp')),
        b64: sometimes(fc.constant(false)),
        jku: sometimes(fc.constant('jku')),
        x5u: sometimes(fc.constant('x5u')),
        jwk: sometimes(fc.constant(attackerJwk)),
        x5c: sometimes(fc.constant(['MIIB'])),
        zip: sometimes(fc.constant('DEF')),
        cty: sometimes(fc.constantFrom('JWE', 'JWT', 'application/jose', 'x'.repeat(200))),
        typ: sometimes(fc.constantFrom('JOSE', 'JWT', '')),
        pad: sometimes(fc.string({ minLength: 100, maxLength: 10_000 })),
      })
      .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)));
    const payload = fc.constantFrom('valid', 'unknownKid', 'hostileKid', 'zip', 'withJku', 'junk');
    const signer = fc.oneof(
      { weight: 3, arbitrary: fc.constant('visa-ps256') },
      { weight: 3, arbitrary: fc.constantFrom(...Object.keys(signers)) },
    );
    await fc.assert(
      fc.asyncProperty(header, signer, payload, async (h, signerName, p) => {
        const hdr: Record<string, unknown> = { ...h };
        // jku and x5u point at the canary listener: contacting it fails the test below.
        if ('jku' in hdr) hdr.jku = `${canary.url}/jwks`;
        if ('x5u' in hdr) hdr.x5u = `${canary.url.replace('http:', 'https:')}/x5u`;
        const jwe = p === 'valid' ? jwes.valid[0]! : p === 'junk' ? 'not.a.jwe' : jwes[p];
        const encryptedData = signCompact(hdr, b64u(jwe), signers[signerName]!);
        const goodSignature =
          signerName === 'visa-ps256' &&
          hdr.alg === 'PS256' &&
          hdr.kid === pki.visaKid &&
          !('crit' in hdr);
        const fits = encryptedData.length <= 7000;
        const allowed = !fits
          ? [400]
          : !goodSignature
            ? [400, 401]
            : p === 'valid' || p === 'withJku'
              ? [200]
              : p === 'unknownKid' || p === 'hostileKid'
                ? [500]
                : [400];
        if (goodSignature && fits) visaSigned.add(encryptedData);
        count.add('header swaps');
        assertContract(
          await post(encryptedData),
          allowed,
          `header ${JSON.stringify({ ...hdr, pad: undefined, jwk: undefined }).slice(0, 300)} signer ${signerName} payload ${p}`,
        );
      }),
      { numRuns: runs(1200) },
    );
  });

  it('nested JWS/JWE several levels deep is quarantined (400) when Visa signs it, refused (401) when not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('jws', 'jwe'), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        async (layers, visaOuter) => {
          let inner = JSON.stringify(enrollmentPayload());
          for (const layer of layers) {
            inner =
              layer === 'jwe'
                ? encryptCompact(
                    { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: pki.issuerKid, cty: 'JWT' },
                    inner,
                    pki.issuerPublicKey,
                  )
                : signCompact({ alg: 'PS256', kid: pki.visaKid, cty: 'JWT' }, b64u(inner), visa());
          }
          // Two layers at least between the envelope and the payload.
          fc.pre(layers.length >= 2 || layers[0] === 'jws');
          const encryptedData = signCompact(
            { alg: 'PS256', kid: pki.visaKid, cty: 'JWE' },
            b64u(inner),
            visaOuter ? visa() : { kind: 'rsa-pss', key: attacker.privateKey },
          );
          const fits = encryptedData.length <= 7000;
          if (visaOuter && fits) visaSigned.add(encryptedData);
          count.add('nested JWS/JWE');
          assertContract(
            await post(encryptedData),
            !fits ? [400] : visaOuter ? [400] : [401],
            `nested ${layers.join('>')} visa=${visaOuter}`,
          );
        },
      ),
      { numRuns: runs(60) },
    );
  });

  it('random envelopes: JSON shapes and three-segment strings that look like a JWS', async () => {
    const segment = fc.oneof(
      fc.jsonValue().map((v) => b64u(JSON.stringify(v) ?? 'null')),
      fc.uint8Array({ maxLength: 300 }).map((u) => b64u(Buffer.from(u))),
      fc.string({ maxLength: 60 }),
    );
    const encryptedData = fc.oneof(
      fc.tuple(segment, segment, segment).map((t) => t.join('.')),
      fc.string({ maxLength: 200 }),
    );
    const body = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
      fc
        .record({ encryptedData: fc.oneof(encryptedData, fc.jsonValue()) }, { requiredKeys: [] })
        .map((r) => JSON.stringify(r)),
      fc
        .dictionary(fc.string({ maxLength: 20 }), fc.jsonValue())
        .map((d) => JSON.stringify({ ...d, encryptedData: 'a.b.c' })),
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'APPLICATION/JSON',
          'text/plain',
          'application/jose',
        ),
        async (b, ct) => {
          count.add('random envelopes');
          const res = await s.post(b, { contentType: ct, xPayToken: false });
          count.answered(res.status);
          assertContract(res, [400, 401], `body ${b.slice(0, 120)}`);
        },
      ),
      { numRuns: runs(400) },
    );
  });

  it('after all that: nothing unauthenticated stored, nothing fetched, memory bounded', async () => {
    const rows = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 100_000 });
    assert.equal(
      rows.length,
      visaSigned.size,
      'exactly one row per distinct Visa-signed envelope, and no other',
    );
    for (const e of visaSigned)
      assert.ok(
        await s.runtime.store.findByDedupKey(dedup(e)),
        'each Visa-signed envelope is stored',
      );
    assert.equal(canary.contacts(), 0, 'jku/x5u/jwk must never be fetched');
    const serverPort = Number(new URL(s.url).port);
    const outbound = spy.targets.filter((t) => !t.endsWith(`:${serverPort}`));
    assert.deepEqual(outbound, [], 'no outbound connection other than to the server under test');
    // Measure the server, not what the test keeps: its log capture (spilled to disk for the
    // suite scan) and its ledger of signed envelopes (checked above).
    spillCapturedLogs(s.logs);
    visaSigned.clear();
    spy.targets.length = 0;
    const end = memoryAfterGc();
    const growth = {
      heapMiB: Math.round(end.heapMiB - baseline.heapMiB),
      rssMiB: Math.round(end.rssMiB - baseline.rssMiB),
    };
    process.stdout.write(
      `# hostile JOSE: ${count}; heap ${growth.heapMiB} MiB, RSS ${growth.rssMiB} MiB over baseline\n`,
    );
    // Generous: a leak of even a few hundred bytes per request over thousands of requests would
    // show.
    assert.ok(growth.heapMiB < 48, `heap grew ${growth.heapMiB} MiB`);
    assert.ok(growth.rssMiB < 200, `RSS grew ${growth.rssMiB} MiB`);
  });
});

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'segment'; which: number; how: string };

function mutate(token: string, m: Mutation, alphabet: string): string {
  if (m.op === 'flip') {
    const i = m.at % token.length;
    const c = token[i]!;
    const idx = alphabet.indexOf(c);
    const next = idx < 0 ? 'A' : alphabet[idx ^ (1 << m.bit)]!;
    return token.slice(0, i) + next + token.slice(i + 1);
  }
  if (m.op === 'truncate') return token.slice(0, m.at % token.length);
  if (m.op === 'insert') {
    const i = m.at % (token.length + 1);
    return token.slice(0, i) + m.text + token.slice(i);
  }
  const parts = token.split('.');
  const seg = parts[m.which]!;
  switch (m.how) {
    case 'drop':
      parts.splice(m.which, 1);
      break;
    case 'duplicate':
      parts.splice(m.which, 0, seg);
      break;
    case 'empty':
      parts[m.which] = '';
      break;
    case 'pad':
      parts[m.which] = `${seg}${'='.repeat((4 - (seg.length % 4)) % 4 || 4)}`;
      break;
    case 'swap':
      parts[m.which] = parts[(m.which + 1) % 3]!;
      parts[(m.which + 1) % 3] = seg;
      break;
    case 'upper':
      parts[m.which] = seg.toUpperCase();
      break;
    case 'std-base64':
      parts[m.which] = Buffer.from(seg, 'base64url').toString('base64');
      break;
  }
  return parts.join('.');
}
