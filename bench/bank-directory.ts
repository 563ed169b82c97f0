import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load-config.js';
import { loadSecrets, soleIssuerKeys } from '../src/keys/load-secrets.js';
import { importCardholders } from '../src/risk/directory/cardholder-import.js';
import { openStore } from '../src/storage/open-store.js';
import type { BenchKeys } from './bench-keys.js';
import { benchPayload } from './bench-payloads.js';
import { writeServiceConfig } from './server-process.js';

/** Cardholders in the bank configuration's imported directory. */
export const DIRECTORY_SIZE = 100_000;

/**
 * Bump when the rows below or the import's records change: a cached template is then made anew.
 * 2: phones stored normalised (`Cardholder.normalisedPhones`).
 */
const DIRECTORY_VERSION = 2;

/**
 * Whether the card of bench notification `i` is in the directory: nine in ten are (the others
 * assess as CARD_UNKNOWN, with no contact to alert).
 */
export function inDirectory(i: number): boolean {
  return i % 10 !== 9;
}

interface Client {
  firstName: string;
  lastName: string;
  phoneNumber: string;
  contactEmail: string;
}

/**
 * The directory row of notification `i`'s card, as a bank's export would hold it: mostly the
 * details the enroller gives, with the variations matching has to see through (a national phone
 * number, other case and accents) and some real mismatches (another email), so every rule path
 * and every alert wording is exercised.
 */
function row(i: number): string {
  const p = benchPayload(i) as {
    clientInformation: Client;
    enrollment: { paymentInstrument: { accountNumber: string } };
  };
  const c = p.clientInformation;
  let { firstName, contactEmail: email, phoneNumber: phone } = c;
  const lastName = c.lastName;
  if (i % 10 === 6) email = `someone.else${i}@example.net`;
  if (i % 10 === 7) phone = `0${phone.slice(3)}`;
  if (i % 10 === 8) firstName = firstName.toUpperCase().replace('E', 'É');
  const lang = ['en', 'fr', 'de', 'es'][i % 4];
  return `${p.enrollment.paymentInstrument.accountNumber},${firstName},${lastName},${email},${phone},active,${lang}\n`;
}

async function writeCsv(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('accountNumber,firstName,lastName,email,phone,status,language\n');
  for (let i = 0, n = 0; n < size; i++) {
    if (!inDirectory(i)) continue;
    n++;
    if (!out.write(row(i))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

/**
 * Imports the directory into the store at `storageUrl` (migrated first) with the code
 * `ctp-notify cardholders import` runs, under the bench's data keys.
 */
async function importInto(storageUrl: string, keys: BenchKeys, size: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ctp-bench-directory-'));
  try {
    const config = loadConfig(writeServiceConfig(dir, keys, storageUrl, 0, { risk: true }));
    const csv = join(dir, 'cardholders.csv');
    await writeCsv(csv, size);
    const store = await openStore({ ...config.storage, poolSize: 2 });
    try {
      await store.migrate();
      const report = await importCardholders(
        csv,
        store.openRiskStores().cardholders,
        soleIssuerKeys(loadSecrets(config)).dataProtector,
        { defaultCountry: 'GB', batchSize: 2000 },
      );
      if (report.skipped > 0)
        throw new Error(
          `directory import skipped ${report.skipped} rows (${JSON.stringify(report.errors.slice(0, 3))})`,
        );
      return report.inserted;
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A migrated SQLite database holding the directory, made once per set of bench keys and kept in
 * `cacheDir`; phases start from a copy (the service migrates it further if the schema moved on).
 */
export async function sqliteDirectoryTemplate(
  keys: BenchKeys,
  cacheDir: string,
  log: (s: string) => void,
  size = DIRECTORY_SIZE,
): Promise<string> {
  const file = join(cacheDir, `directory-${keys.fingerprint}-${size}-v${DIRECTORY_VERSION}.sqlite`);
  if (existsSync(file)) return file;
  log(`importing a directory of ${size} cardholders (cached in ${file})`);
  const t0 = performance.now();
  const tmp = `${file}.tmp`;
  rmSync(tmp, { force: true });
  await importInto(`sqlite:${tmp}`, keys, size);
  renameSync(tmp, file);
  log(`imported in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return file;
}

/** Copies the template to `path`, a fresh phase database. */
export function copyDirectoryTemplate(template: string, path: string): void {
  copyFileSync(template, path);
}

/**
 * The same directory in a PostgreSQL database of its own (`CREATE DATABASE … TEMPLATE` copies it
 * per phase); `databaseUrl` is that database.
 */
export async function postgresDirectoryTemplate(
  databaseUrl: string,
  keys: BenchKeys,
  log: (s: string) => void,
  size = DIRECTORY_SIZE,
): Promise<void> {
  log(`importing a directory of ${size} cardholders into PostgreSQL`);
  const t0 = performance.now();
  await importInto(databaseUrl, keys, size);
  log(`imported in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
