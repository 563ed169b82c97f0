/**
 * `npm run eval:risk`: builds a labelled synthetic population, imports the cardholder
 * directory with the real CLI, starts the real service on loopback, sends every attempt as
 * Visa would (JWE to the issuer inside a PS256 JWS, over HTTP), waits for the assessments and
 * prints precision and recall per level and the confusion matrix. Then it closes the loop
 * (eval/risk-feedback.ts): cardholders answer alerts and analysts close cases, labels drawn from
 * the truth with noise through the admin API, and `ctp-notify risk evaluate` and a backtest sweep
 * of the CONTACT_MISMATCH weight report what the bank would see.
 *
 * Options: --seed N (default 7), --holders N (default 1500), --json (machine-readable result).
 */
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { scriptArgs } from '../bench/script-args.js';
import { loadConfig } from '../src/config/load-config.js';
import { RISK_LEVELS, type RiskLevel } from '../src/domain/risk-codes.js';
import { createLogger } from '../src/logger.js';
import { createCertificate, generateRsaKeyPair } from '../src/pki/certificates.js';
import { serve } from '../src/server.js';
import { openStore } from '../src/storage/open-store.js';
import { encodeVisaMessage } from '../src/visa/visa-encoder.js';
import { runFeedback } from './risk-feedback.js';
import {
  type Attempt,
  EVAL_BIN,
  type Holder,
  PopulationBuilder,
  STALE_CONTACTS_SHARE,
} from './risk-population.js';

const USAGE = `usage: npm run eval:risk -- [--seed N (default 7)] [--holders N (default 1500)] [--json]`;

const args = scriptArgs(USAGE, {
  seed: { type: 'string', default: '7' },
  holders: { type: 'string', default: '1500' },
  json: { type: 'boolean', default: false },
});
const seed = Number(args.seed);
const holderCount = Number(args.holders);
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const TRID = '40010030273';

const dir = mkdtempSync(join(tmpdir(), 'ctp-risk-eval-'));
const secret = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content, { mode: 0o600 });
  chmodSync(p, 0o600);
  return p;
};

// Keys: the issuer's decryption key, a stand-in for Visa's signing key, data and fingerprint keys.
const issuer = generateRsaKeyPair(2048);
const visa = generateRsaKeyPair(2048);
const issuerCert = await createCertificate({
  subject: 'CN=issuer-eval',
  publicKeyPem: issuer.publicKeyPem,
  selfPrivateKeyPem: issuer.privateKeyPem,
  usage: 'encryption',
});
const visaCert = await createCertificate({
  subject: 'CN=visa-eval',
  publicKeyPem: visa.publicKeyPem,
  selfPrivateKeyPem: visa.privateKeyPem,
  usage: 'signing',
});
// The bank's messaging system, standing in: takes every "was this you?" alert.
const messaging = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
await new Promise<void>((r) => messaging.listen(0, '127.0.0.1', r));
const liveRisk = {
  defaultCountry: 'GB',
  binRanges: [EVAL_BIN],
  sweep: { intervalSeconds: 5, graceSeconds: 1 },
};
const config = {
  listen: { host: '127.0.0.1', port: 0 },
  admin: { host: '127.0.0.1', port: 0 },
  storage: { url: `sqlite:${join(dir, 'eval.sqlite')}` },
  keys: {
    decryption: [
      { kid: 'issuer-eval', privateKey: secret('issuer.key.pem', issuer.privateKeyPem) },
    ],
    verification: [{ kid: 'visa-eval', certificate: secret('visa.cert.pem', visaCert) }],
  },
  dataProtection: {
    keys: [{ id: 'k1', file: secret('data.key', randomBytes(32).toString('base64')) }],
    fingerprintKey: { file: secret('fp.key', randomBytes(32).toString('base64')) },
  },
  log: { level: 'warn' },
  risk: {
    ...liveRisk,
    alert: {
      bankName: 'Eval Bank',
      helpContact: 'call 0800 000 000',
      sink: {
        type: 'webhook',
        url: `http://127.0.0.1:${(messaging.address() as { port: number }).port}/alerts`,
        secrets: [{ file: secret('alerts.whsec', `whsec_${randomBytes(32).toString('base64')}`) }],
      },
    },
  },
};
const configPath = join(dir, 'config.json');
writeFileSync(configPath, JSON.stringify(config, null, 2));

// --- The population ---------------------------------------------------------------------
const b = new PopulationBuilder(seed);
const holders: Holder[] = Array.from({ length: holderCount }, () => b.holder());
const inactive: Holder[] = Array.from(
  { length: 40 },
  () => ({ ...b.holder(), status: b.chance(0.7) ? 'blocked' : 'closed' }) as Holder,
);
// Families: a second card whose holder shares the first's email on file.
for (let i = 0; i + 1 < holders.length; i += 40) holders[i + 1]!.emails = [holders[i]!.emails[0]!];

const attempts: Attempt[] = [];
const legitHolders = holders.filter(() => b.chance(0.85));
for (const h of legitHolders) {
  attempts.push(b.legit(h));
  if (b.chance(0.08)) attempts.push({ ...b.legit(h), kind: 'second-attempt' });
}
const victims = () => b.pick(holders);
// Planted fraud, as the issue lists it.
for (let i = 0; i < 150; i++) {
  const s = b.stranger();
  attempts.push({ pan: victims().pan, ...s, fraud: true, kind: 'unrelated-enroller' });
}
for (let ring = 0; ring < 12; ring++) {
  const s = b.stranger(0.3);
  const size = 4 + Math.floor(b.r() * 3);
  for (let i = 0; i < size; i++)
    attempts.push({ pan: victims().pan, ...s, fraud: true, kind: 'ring' });
}
const bursts: Attempt[][] = [];
for (let card = 0; card < 12; card++) {
  const pan = victims().pan;
  const size = 5 + Math.floor(b.r() * 4);
  bursts.push(
    Array.from({ length: size }, () => ({ pan, ...b.stranger(), fraud: true, kind: 'burst' })),
  );
}
for (const h of inactive) {
  const who = b.chance(0.5)
    ? {
        firstName: h.firstName,
        lastName: h.lastName,
        email: h.emails[0]!,
        phone: h.phones[0] ?? b.phone(),
      }
    : b.stranger();
  attempts.push({ pan: h.pan, ...who, fraud: true, kind: `card-${h.status}` });
}
for (let i = 0; i < 40; i++) {
  const s = b.stranger();
  attempts.push({ pan: b.pan(EVAL_BIN, !b.chance(0.1)), ...s, fraud: true, kind: 'unknown-card' });
}
// Harder cases, reported apart: the fraudster knows the cardholder's name.
const hard: Attempt[] = [];
for (let i = 0; i < 40; i++) {
  const h = victims();
  const s = b.stranger(0.1);
  hard.push({
    pan: h.pan,
    firstName: h.firstName,
    lastName: h.lastName,
    email: s.email,
    phone: s.phone,
    fraud: true,
    kind: 'knows-name',
    hard: true,
  });
}
for (let ring = 0; ring < 3; ring++) {
  const s = b.stranger(0);
  for (let i = 0; i < 5; i++) {
    const h = victims();
    hard.push({
      pan: h.pan,
      firstName: h.firstName,
      lastName: h.lastName,
      email: s.email,
      phone: s.phone,
      fraud: true,
      kind: 'ring-knows-names',
      hard: true,
    });
  }
}

// Shuffle single attempts; bursts stay together (that is what makes them bursts).
const singles = [...attempts, ...hard];
for (let i = singles.length - 1; i > 0; i--) {
  const j = Math.floor(b.r() * (i + 1));
  [singles[i], singles[j]] = [singles[j]!, singles[i]!];
}
const sequence: Attempt[][] = singles.map((a) => [a]);
for (const burst of bursts) sequence.splice(Math.floor(b.r() * sequence.length), 0, burst);

// --- The directory, through the real CLI ---------------------------------------------------
const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const csv = ['accountNumber,firstName,lastName,email,phone,status,language'];
for (const h of [...holders, ...inactive])
  csv.push(
    [h.pan, h.firstName, h.lastName, h.emails.join(';'), h.phones.join(';'), h.status, h.language]
      .map(csvCell)
      .join(','),
  );
const csvPath = join(dir, 'cardholders.csv');
writeFileSync(csvPath, `${csv.join('\n')}\n`, { mode: 0o600 });
const imported = spawnSync(
  process.execPath,
  [CLI, 'cardholders', 'import', '--config', configPath, '--file', csvPath],
  { encoding: 'utf8' },
);
if (imported.status !== 0)
  throw new Error(`import failed (${imported.status}): ${imported.stderr}`);
const importReport = JSON.parse(imported.stdout) as { inserted: number };

// --- The real service, and Visa ----------------------------------------------------------
let onAdmin: (url: string) => void = () => {};
const adminUrl = new Promise<string>((resolve) => (onAdmin = resolve));
const url = await new Promise<string>(
  (resolve) =>
    void serve(loadConfig(configPath), createLogger('warn'), {
      workers: 1,
      onListening: resolve,
      onAdminListening: onAdmin,
    }),
);
const keys = {
  signingKey: createPrivateKey(visa.privateKeyPem),
  signingKid: 'visa-eval',
  encryptionKey: new X509Certificate(issuerCert).publicKey,
  encryptionKid: 'issuer-eval',
};
const target = `${url}/vtis/v1/tokenRequestors/${TRID}/cardEnrollment/notification?eventType=CTP_ENROLLMENT_ATTEMPT`;
const sent: { attempt: Attempt; dedupKey: string }[] = [];
const started = Date.now();
async function send(a: Attempt): Promise<void> {
  const clientInformation: Record<string, string> = {
    firstName: a.firstName,
    lastName: a.lastName,
  };
  if (a.email) clientInformation.contactEmail = a.email;
  if (a.phone) clientInformation.phoneNumber = a.phone;
  const encryptedData = await encodeVisaMessage(
    { clientInformation, enrollment: { tsp: 'V', paymentInstrument: { accountNumber: a.pan } } },
    keys,
  );
  const res = await request(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ encryptedData }),
  });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`Visa-side send got ${res.statusCode} (${a.kind})`);
  sent.push({
    attempt: a,
    dedupKey: createHash('sha256').update(encryptedData).digest('base64url'),
  });
}
// Four in flight, like a few Visa connections; a burst is sent as fast as it goes, in order.
let next = 0;
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (next < sequence.length) {
      for (const a of sequence[next++]!) await send(a);
    }
  }),
);
const sendSeconds = (Date.now() - started) / 1000;

// --- Results -------------------------------------------------------------------------------
const store = await openStore(loadConfig(configPath).storage);
const { risk } = store.openRiskStores();
const ids = new Map<string, Attempt>();
for (const s of sent) {
  const row = await store.findByDedupKey(s.dedupKey);
  if (row) ids.set(row.id, s.attempt);
}
let assessed = new Map<string, { level: RiskLevel; score: number; reasons: { code: string }[] }>();
for (let waited = 0; waited < 120_000; waited += 250) {
  assessed = await risk.assessments([...ids.keys()]);
  if (assessed.size === ids.size) break;
  await new Promise((r) => setTimeout(r, 250));
}
const assessSeconds = (Date.now() - started) / 1000;
if (assessed.size !== ids.size) throw new Error(`only ${assessed.size} of ${ids.size} assessed`);

type Row = { attempt: Attempt; level: RiskLevel; score: number; codes: string[] };
const rows: Row[] = [...ids].map(([id, attempt]) => {
  const a = assessed.get(id)!;
  return { attempt, level: a.level, score: a.score, codes: a.reasons.map((r) => r.code) };
});
// Reported apart from the target population: the fraudster who knows the name (hard cases), and
// its legitimate twin, the cardholder whose email and phone on file are both out of date.
const stale = (r: Row) => r.attempt.kind.split('+').includes('stale-contacts');
const main = rows.filter((r) => !r.attempt.hard && !stale(r));
const hardRows = rows.filter((r) => r.attempt.hard);
const staleRows = rows.filter(stale);

const count = (rs: Row[], f: (r: Row) => boolean) => rs.filter(f).length;
const pct = (n: number, d: number) =>
  d === 0 ? '   n/a' : `${((100 * n) / d).toFixed(1).padStart(5)}%`;
const at = (lvl: RiskLevel) => (r: Row) => RISK_LEVELS.indexOf(r.level) >= RISK_LEVELS.indexOf(lvl);
const fraud = main.filter((r) => r.attempt.fraud);
const legit = main.filter((r) => !r.attempt.fraud);
const out: string[] = [];
out.push(
  `ctp-notify risk evaluation (seed ${seed}): ${importReport.inserted} cardholders imported; ${main.length} attempts (${legit.length} legitimate, ${fraud.length} planted fraud) + ${hardRows.length} hard cases + ${staleRows.length} cardholders with stale contacts`,
);
out.push(
  `sent over HTTP in ${sendSeconds.toFixed(1)} s; all assessed after ${assessSeconds.toFixed(1)} s`,
);
out.push('');
out.push('Confusion matrix (rows: truth, columns: assessed level)');
out.push(`${''.padEnd(26)}${RISK_LEVELS.map((l) => l.padStart(8)).join('')}   total`);
const matrixRow = (label: string, rs: Row[]) =>
  `${label.padEnd(26)}${RISK_LEVELS.map((l) => String(count(rs, (r) => r.level === l)).padStart(8)).join('')}${String(rs.length).padStart(8)}`;
out.push(matrixRow('legitimate', legit));
out.push(matrixRow('fraud', fraud));
for (const kind of [...new Set(fraud.map((r) => r.attempt.kind))].sort())
  out.push(
    matrixRow(
      `  fraud: ${kind}`,
      fraud.filter((r) => r.attempt.kind === kind),
    ),
  );
out.push('');
out.push('Per level (positive = fraud)        precision   recall   legit flagged');
for (const lvl of RISK_LEVELS) {
  const exact = (r: Row) => r.level === lvl;
  out.push(
    `  exactly ${lvl.padEnd(8)}                ${pct(count(fraud, exact), count(main, exact))}   ${pct(count(fraud, exact), fraud.length)}   ${pct(count(legit, exact), legit.length)}`,
  );
}
for (const lvl of ['medium', 'high'] as const) {
  out.push(
    `  ${lvl} or above${''.padEnd(14 - lvl.length)}         ${pct(count(fraud, at(lvl)), count(main, at(lvl)))}   ${pct(count(fraud, at(lvl)), fraud.length)}   ${pct(count(legit, at(lvl)), legit.length)}`,
  );
}
const recallHigh = count(fraud, at('high')) / fraud.length;
const legitHigh = count(legit, at('high')) / legit.length;
out.push('');
out.push(
  `Target: fraud at high >= 95%: ${(100 * recallHigh).toFixed(1)}% ${recallHigh >= 0.95 ? 'MET' : 'NOT MET'}; legitimate at high <= 2%: ${(100 * legitHigh).toFixed(1)}% ${legitHigh <= 0.02 ? 'MET' : 'NOT MET'}`,
);
out.push('');
out.push('Legitimate attempts by variation (share not low / at high)');
const legitKinds = new Map<string, Row[]>();
for (const r of legit)
  for (const k of r.attempt.kind.split('+')) legitKinds.set(k, [...(legitKinds.get(k) ?? []), r]);
for (const [k, rs] of [...legitKinds].sort())
  out.push(
    `  ${k.padEnd(22)} n=${String(rs.length).padStart(4)}  medium+ ${pct(count(rs, at('medium')), rs.length)}  high ${pct(count(rs, at('high')), rs.length)}`,
  );
out.push('');
out.push("Hard cases (not in the target population): the fraudster knows the cardholder's name");
for (const kind of [...new Set(hardRows.map((r) => r.attempt.kind))].sort())
  out.push(
    matrixRow(
      `  ${kind}`,
      hardRows.filter((r) => r.attempt.kind === kind),
    ),
  );
out.push(
  `Their price (not in the target population): legitimate, email and phone on file both out of date (${(100 * STALE_CONTACTS_SHARE).toFixed(0)}% of enrollments, assumed)`,
);
out.push(matrixRow('  stale-contacts', staleRows));
out.push(
  `Legitimate at high, stale contacts included: ${pct(count([...legit, ...staleRows], at('high')), legit.length + staleRows.length)}`,
);
out.push('');
for (const lvl of ['medium', 'high'] as const) {
  const codes = new Map<string, number>();
  for (const r of legit.filter((x) => x.level === lvl))
    for (const c of r.codes) codes.set(c, (codes.get(c) ?? 0) + 1);
  if (codes.size > 0)
    out.push(
      `Reasons on legitimate attempts at ${lvl}: ${[...codes]
        .sort((x, y) => y[1] - x[1])
        .map(([c, n]) => `${c}×${n}`)
        .join(', ')}`,
    );
}
const missedCodes = new Map<string, number>();
for (const r of fraud.filter((x) => !at('high')(x)))
  missedCodes.set(r.attempt.kind, (missedCodes.get(r.attempt.kind) ?? 0) + 1);
if (missedCodes.size > 0)
  out.push(
    `Planted fraud below high, by kind: ${[...missedCodes].map(([c, n]) => `${c}×${n}`).join(', ')}`,
  );

const feedback = await runFeedback({
  cli: CLI,
  dir,
  configPath,
  liveRisk,
  adminUrl: await adminUrl,
  store,
  truth: ids,
  levels: new Map([...assessed].map(([id, a]) => [id, a.level])),
  seed,
});
out.push(...feedback.lines);

process.stdout.write(`${out.join('\n')}\n`);
if (args.json)
  process.stdout.write(
    `${JSON.stringify({
      seed,
      recallHigh,
      legitHigh,
      legit: legit.length,
      fraud: fraud.length,
      ...feedback.summary,
    })}\n`,
  );
await store.close();
messaging.close();
rmSync(dir, { recursive: true, force: true });
process.exit(recallHigh >= 0.95 && legitHigh <= 0.02 ? 0 : 1);
