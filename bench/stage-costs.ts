/**
 * `npm run bench:stages`: where a notification's CPU goes, stage by stage, in one process and
 * without HTTP. Each stage runs over the same cached bench notifications (the ones `npm run
 * bench` sends); rounds are interleaved and the median is reported, because this machine is
 * shared and one round of one stage is noisy. Options: `--rounds R` (default 5),
 * `--notifications N` per round (default 2000). Writes bench/results/stages-latest.json.
 *
 * The HTTP server's own share is what `npm run bench --workers 1` measures per notification
 * less the "pipeline + SQLite" line here.
 */
import { constants, createHash, type KeyObject, privateDecrypt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load-config.js';
import { decryptCompactJwe } from '../src/jose/compact-jwe.js';
import { verifyCompactJws } from '../src/jose/compact-jws.js';
import { loadSecrets, soleIssuerKeys } from '../src/keys/load-secrets.js';
import {
  type InboundNotification,
  NotificationPipeline,
  parseEnvelope,
} from '../src/pipeline/notification-pipeline.js';
import { validatePayload } from '../src/pipeline/validate-payload.js';
import type { NotificationRecord } from '../src/storage/notification-record.js';
import type { NotificationStore } from '../src/storage/notification-store.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { sqliteDirectoryTemplate } from './bank-directory.js';
import { benchWebhookSecret } from './bench-fixtures.js';
import { benchKeys, issuerPrivateKey } from './bench-keys.js';
import { median } from './latency-stats.js';
import { notificationSet, readNotifications } from './notification-set.js';
import { riskStages, type Stage } from './risk-stages.js';
import { scriptArgs } from './script-args.js';
import { writeServiceConfig } from './server-process.js';

const USAGE = `usage: npm run bench:stages -- [--rounds R (default 5)] [--notifications N (default 2000)]
  [--only TEXT (the stages whose name holds it, e.g. "risk")]`;

const a = scriptArgs(USAGE, {
  rounds: { type: 'string' },
  notifications: { type: 'string' },
  only: { type: 'string' },
});
const rounds = Number(a.rounds ?? 5);
const perRound = Number(a.notifications ?? 2000);
if (!(rounds >= 1 && perRound >= 100))
  throw new Error('--rounds must be ≥ 1 and --notifications ≥ 100');

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cacheDir = join(repo, 'bench/.cache');
const keys = benchKeys(join(cacheDir, 'keys'));
const total = rounds * perRound;
const file = await notificationSet(keys, total, cacheDir, (s) =>
  process.stderr.write(`bench: ${s}\n`),
);
const tokens = readNotifications(file, 0, total);
const bodies = tokens.map((t) => Buffer.from(JSON.stringify({ encryptedData: t })));

// The keys, data protection and JOSE allow-lists of the service as `npm run bench` configures it,
// read by the service's own config and secrets loaders.
const workDir = mkdtempSync(join(tmpdir(), 'ctp-stages-'));
const config = loadConfig(
  writeServiceConfig(workDir, keys, 'sqlite:unused.sqlite', 0, { risk: false }),
);
const secrets = loadSecrets(config);
const { verificationKeys } = secrets;
const { decryptionKeys, dataProtector: dp } = soleIssuerKeys(secrets);
const issuerKey = issuerPrivateKey(keys);
const jose = config.jose;
const jweAllow = {
  keyManagement: jose.keyManagementAlgorithms,
  contentEncryption: jose.contentEncryptionAlgorithms,
};

// Inputs of the later stages, made once by the earlier ones.
const jwes = tokens.map((t) =>
  verifyCompactJws(t, verificationKeys, jose.signatureAlgorithms).payload.toString('latin1'),
);
const plaintexts = await Promise.all(
  jwes.map(async (j) => (await decryptCompactJwe(j, decryptionKeys, jweAllow)).plaintext),
);
const wrappedKeys = jwes.map((j) => Buffer.from(j.split('.')[1]!, 'base64url'));

let dbSerial = 0;
async function freshStore(): Promise<SqliteStore> {
  const s = new SqliteStore(join(workDir, `s${++dbSerial}.sqlite`));
  await s.migrate();
  return s;
}

function inbound(body: Buffer): InboundNotification {
  return {
    tokenRequestorId: '40010030273',
    eventType: 'CTP_ENROLLMENT_ATTEMPT',
    resourcePath: 'vtis/v1/tokenRequestors/40010030273/cardEnrollment/notification',
    queryString: 'eventType=CTP_ENROLLMENT_ATTEMPT',
    contentType: 'application/json',
    body,
    clientCertificate: undefined,
    xPayToken: undefined,
  };
}

const oaep = (key: KeyObject) => ({
  key,
  oaepHash: 'sha256',
  padding: constants.RSA_PKCS1_OAEP_PADDING,
});
const stages: Stage[] = [
  {
    name: 'bound: privateDecrypt RSA-OAEP-256',
    run: (f, t) => {
      for (let i = f; i < t; i++) privateDecrypt(oaep(issuerKey), wrappedKeys[i]!);
    },
  },
  {
    name: 'parse body',
    run: (f, t) => {
      for (let i = f; i < t; i++) parseEnvelope('application/json', bodies[i]);
    },
  },
  {
    name: 'verify JWS (PS256)',
    run: (f, t) => {
      for (let i = f; i < t; i++)
        verifyCompactJws(tokens[i]!, verificationKeys, jose.signatureAlgorithms);
    },
  },
  {
    name: 'dedup key (SHA-256)',
    run: (f, t) => {
      for (let i = f; i < t; i++) createHash('sha256').update(tokens[i]!).digest('base64url');
    },
  },
  {
    name: 'decrypt JWE (incl. the RSA)',
    run: (f, t) => {
      for (let i = f; i < t; i++) decryptCompactJwe(jwes[i]!, decryptionKeys, jweAllow);
    },
  },
  {
    name: 'validate payload',
    run: (f, t) => {
      for (let i = f; i < t; i++) validatePayload('CTP_ENROLLMENT_ATTEMPT', plaintexts[i]!);
    },
  },
  {
    name: 'protect card number + payload',
    run: (f, t) => {
      for (let i = f; i < t; i++) {
        const pan = validatePayload('CTP_ENROLLMENT_ATTEMPT', plaintexts[i]!).fields.accountNumber!;
        dp.protectPan(pan, 'ctx');
        dp.encrypt(plaintexts[i]!, 'ctx');
      }
    },
  },
  // The group commit makes one transaction of the writes queued in one event-loop turn, so its
  // batch is the number in flight: one-row commits are what a quiet service pays per notification.
  ...[1, 4, 32].map(
    (n): Stage => ({
      name: `SQLite: look-up + record, ${n} in flight`,
      run: (f, t) => intoStore(f, t, n),
    }),
  ),
  { name: 'pipeline + SQLite (no HTTP)', run: (f, t) => throughPipeline(f, t) },
  // Visa's retry of a notification already stored: verified, found by its dedup key, counted; no
  // RSA decryption. What a retry costs under overload.
  { name: 'a retry of a stored notification', run: (f, t) => retries(f, t) },
];

/** The records the pipeline hands to storage, captured once by a store that keeps nothing. */
const records: NotificationRecord[] = [];
{
  const capture = {
    findByDedupKey: async () => undefined,
    record: async (rec: NotificationRecord) => {
      records.push(rec);
      return { id: rec.id, status: rec.status, result: 'inserted' as const };
    },
  } as unknown as NotificationStore;
  const p = new NotificationPipeline({
    issuer: 'default',
    store: capture,
    verificationKeys,
    decryptionKeys,
    dataProtector: dp,
    jose,
    requireClientCertificate: false,
  });
  for (const b of bodies) await p.handle(inbound(b));
}

/**
 * What the pipeline asks of SQLite per notification, `inFlight` at once, into a fresh durable file.
 */
async function intoStore(from: number, to: number, inFlight: number): Promise<void> {
  const store = await freshStore();
  let next = from;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < to) {
        const rec = records[next++]!;
        await store.findByDedupKey(rec.dedupKey);
        await store.record(rec);
      }
    }),
  );
  await store.close();
}

/** Every notification through the real pipeline and a fresh durable SQLite file, 32 in flight. */
async function throughPipeline(from: number, to: number): Promise<void> {
  const store = await freshStore();
  const pipeline = new NotificationPipeline({
    issuer: 'default',
    store,
    verificationKeys,
    decryptionKeys,
    dataProtector: dp,
    jose,
    requireClientCertificate: false,
  });
  let next = from;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < to) {
        const o = await pipeline.handle(inbound(bodies[next++]!));
        if (o.kind !== 'accepted') throw new Error(`bench notification not accepted: ${o.kind}`);
      }
    }),
  );
  await store.close();
}

/** The store every notification is in once, for the retries. */
const retryStore = await freshStore();
const retryPipeline = new NotificationPipeline({
  issuer: 'default',
  store: retryStore,
  verificationKeys,
  decryptionKeys,
  dataProtector: dp,
  jose,
  requireClientCertificate: false,
});
for (let i = 0; i < bodies.length; i += 256)
  await Promise.all(bodies.slice(i, i + 256).map((b) => retryPipeline.handle(inbound(b))));

async function retries(from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < to) {
        const o = await retryPipeline.handle(inbound(bodies[next++]!));
        if (o.kind !== 'accepted' || o.result !== 'duplicate')
          throw new Error(`bench retry not a duplicate: ${o.kind}`);
      }
    }),
  );
}

// The bank configuration's work after the 200 (bench/risk-stages.ts), on the same records.
mkdirSync(join(workDir, 'bank'));
const bankConfig = loadConfig(
  writeServiceConfig(join(workDir, 'bank'), keys, 'sqlite:unused.sqlite', 0, {
    risk: true,
    bank: { receiverUrl: 'http://127.0.0.1:9', webhookSecretFile: benchWebhookSecret(keys) },
  }),
);
const bank = await riskStages({
  records,
  config: bankConfig,
  dp,
  directoryTemplate: await sqliteDirectoryTemplate(keys, cacheDir, (s) =>
    process.stderr.write(`bench: ${s}\n`),
  ),
  webhookSecret: readFileSync(benchWebhookSecret(keys), 'utf8'),
  workDir,
});
stages.push(...bank.stages);
if (a.only !== undefined) {
  const keep = stages.filter((st) => st.name.includes(a.only!));
  stages.length = 0;
  stages.push(...keep);
}

// Warm every stage (JIT, caches) on the first round's notifications before measuring.
for (const s of stages) await s.run(0, Math.min(perRound, 500));
const samples = new Map<string, number[]>(stages.map((s) => [s.name, []]));
for (let r = 0; r < rounds; r++) {
  const from = r * perRound;
  for (const s of stages) {
    const c0 = process.cpuUsage();
    await s.run(from, from + perRound);
    const c = process.cpuUsage(c0);
    samples.get(s.name)!.push((c.user + c.system) / perRound);
  }
}
await bank.close();
await retryStore.close();
rmSync(workDir, { recursive: true, force: true });

const rows = stages.map((s) => ({
  stage: s.name,
  microsecondsCpu: Number(median(samples.get(s.name)!).toFixed(1)),
  rounds: samples.get(s.name)!.map((x) => Number(x.toFixed(1))),
}));
const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
console.log(
  `npm run bench:stages -- --rounds ${rounds} --notifications ${perRound}  (${machine.cores} cores, ${machine.cpu}, Node ${machine.node})`,
);
console.log('  CPU µs per notification, median of the rounds, one process, no HTTP');
for (const r of rows)
  console.log(`  ${r.stage.padEnd(40)} ${String(r.microsecondsCpu).padStart(7)}`);
const resultsDir = join(repo, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, 'stages-latest.json'),
  `${JSON.stringify({ at: new Date().toISOString(), machine, rounds, perRound, stages: rows }, null, 2)}\n`,
);
console.log(`  written: ${join(resultsDir, 'stages-latest.json')}`);
