import { join } from 'node:path';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Config } from '../src/config/config-schema.js';
import { parseWebhookSecret, standardWebhookHeaders } from '../src/delivery/standard-webhooks.js';
import { buildEvent, type EventSource } from '../src/events/ctp-event.js';
import { createLogger } from '../src/logger.js';
import type { DataProtector } from '../src/protect/data-protector.js';
import { renderAlert } from '../src/risk/alert/alert-templates.js';
import type { DirectoryResult } from '../src/risk/directory/cardholder.js';
import { LocalDirectory } from '../src/risk/directory/local-directory.js';
import { nameSimilarity } from '../src/risk/match/name-similarity.js';
import { assessRisk } from '../src/risk/risk-engine.js';
import { riskInputs } from '../src/risk/risk-inputs.js';
import { RiskService } from '../src/risk/risk-service.js';
import type { NotificationRecord } from '../src/storage/notification-record.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { copyDirectoryTemplate } from './bank-directory.js';

/** A stage: `run(from, to)` processes notifications [from, to) and resolves when done. */
export interface Stage {
  name: string;
  run: (from: number, to: number) => void | Promise<void>;
}

/**
 * The bank configuration's stages after the 200, per notification: the parts of the risk
 * assessment that cost most (phone parsing, name matching, the directory look-up, the rules),
 * the whole assessment through the service's own code on SQLite with the directory of 100,000
 * imported (reads, rules, its one write), the alert's rendering and sealing, and the event's
 * building and signing. `records` are the pipeline's records of the bench notifications; all are
 * stored first (not measured), so the history queries see earlier attempts as in a run.
 */
export async function riskStages(o: {
  records: readonly NotificationRecord[];
  config: Config;
  dp: DataProtector;
  directoryTemplate: string;
  webhookSecret: string;
  workDir: string;
}): Promise<{ stages: Stage[]; close(): Promise<void> }> {
  const path = join(o.workDir, 'risk.sqlite');
  copyDirectoryTemplate(o.directoryTemplate, path);
  const store = new SqliteStore(path, { sinks: ['bank'] });
  await store.migrate();
  for (let i = 0; i < o.records.length; i += 256)
    await Promise.all(o.records.slice(i, i + 256).map((r) => store.record(r)));
  const stores = store.openRiskStores();
  const directory = new LocalDirectory(stores.cardholders, o.dp);
  const settings = o.config.risk;
  const service = new RiskService({
    store: stores.risk,
    directory,
    dataProtector: o.dp,
    settings,
    logger: createLogger('silent'),
  });
  const found: DirectoryResult[] = [];
  for (const r of o.records) found.push(await directory.lookup(r.panFingerprint!));
  const key = parseWebhookSecret(o.webhookSecret);
  const alert = settings.alert!;
  const history = {
    attempts24h: 1,
    attempts7d: 1,
    enrollers7d: 1,
    cardsByEmail: 1,
    cardsByPhone: 1,
  };
  const stages: Stage[] = [
    {
      name: 'risk: one phone parse (libphonenumber-js)',
      run: (f, t) => {
        for (let i = f; i < t; i++)
          parsePhoneNumberFromString(o.records[i]!.phoneNumber!, 'GB')?.isPossible();
      },
    },
    {
      name: 'risk: name similarity',
      run: (f, t) => {
        for (let i = f; i < t; i++) {
          const d = found[i]!;
          if (d.kind === 'found') nameSimilarity(o.records[i]!, d.cardholder);
        }
      },
    },
    {
      name: 'risk: directory look-up (SQLite, AES-GCM)',
      run: async (f, t) => {
        for (let i = f; i < t; i++) await directory.lookup(o.records[i]!.panFingerprint!);
      },
    },
    {
      name: 'risk: inputs, rules and score',
      run: (f, t) => {
        for (let i = f; i < t; i++)
          assessRisk({
            inputs: riskInputs({ attempt: o.records[i]!, directory: found[i]!, settings, history }),
            settings,
          });
      },
    },
    {
      name: 'risk: whole assessment (reads, rules, write)',
      run: async (f, t) => {
        // As in serve: queued, assessed in batches, their writes in the group commit.
        for (let i = f; i < t; i++) service.schedule(o.records[i]!.id);
        await service.idle();
      },
    },
    {
      name: 'alert: render and seal the recipient',
      run: (f, t) => {
        for (let i = f; i < t; i++) {
          const d = found[i]!;
          if (d.kind !== 'found') continue;
          const c = d.cardholder;
          o.dp.encrypt(
            Buffer.from(JSON.stringify({ firstName: c.firstName, emails: c.emails })),
            'ctx',
          );
          renderAlert('fr', {
            firstName: c.firstName,
            last4: o.records[i]!.panLast4,
            receivedAt: o.records[i]!.receivedAt,
            level: 'low',
            bankName: alert.bankName,
            helpContact: alert.helpContact,
            timeZone: alert.timeZone,
          });
        }
      },
    },
    {
      name: 'event: build, serialise, sign',
      run: (f, t) => {
        for (let i = f; i < t; i++) {
          const r = o.records[i]!;
          const source: EventSource = {
            notificationId: r.id,
            dedupKey: r.dedupKey,
            receivedAt: r.receivedAt,
            tokenRequestorId: r.tokenRequestorId,
            eventType: r.eventType,
            tsp: r.tsp,
            firstName: r.firstName,
            lastName: r.lastName,
            contactEmail: r.contactEmail,
            phoneNumber: r.phoneNumber,
            panFingerprint: r.panFingerprint,
            panBin: r.panBin,
            panLast4: r.panLast4,
            panLuhnValid: r.panLuhnValid,
            dataKeyId: r.dataKeyId,
            panCiphertext: r.panCiphertext,
            risk: { score: 0, level: 'low', reasons: [] },
          };
          const event = buildEvent(source, { includePan: false });
          standardWebhookHeaders(
            [key],
            event.id,
            Math.floor(r.receivedAt / 1000),
            Buffer.from(JSON.stringify(event)),
          );
        }
      },
    },
  ];
  return {
    stages,
    close: () => store.close(),
  };
}
