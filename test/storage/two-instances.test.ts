import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { parseConfig } from '../../src/config/load-config.js';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { openStore } from '../../src/storage/open-store.js';
import { encodeVisaMessage } from '../../src/visa/visa-encoder.js';
import { processOutput, startServerProcess } from '../support/cli-process.js';
import { dialects } from '../support/databases.js';
import { assertNoPersonalData, enrollmentPayload } from '../support/personal-data.js';
import { NOTIFICATION_PATH } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

const TOTAL = 2000;
const BOTH_EVERY = 10; // 10% go to both instances at once

for (const dialect of await dialects()) {
  describe(`two server processes sharing one ${dialect.name} database`, () => {
    it(`${TOTAL} notifications split across them, ${100 / BOTH_EVERY}% sent to both at once: every 200 stored exactly once, nothing else`, async () => {
      const pki = await testPki();
      const db = await dialect.create();
      const dir = mkdtempSync(join(tmpdir(), 'ctp-two-'));
      const config = {
        listen: { host: '127.0.0.1', port: 0 },
        storage: { url: db.url, poolSize: 8 },
        keys: {
          decryption: [{ kid: pki.issuerKid, privateKey: pki.files.issuerKey }],
          verification: [{ kid: pki.visaKid, certificate: pki.files.visaCert }],
        },
        dataProtection: {
          keys: [{ id: 'k1', file: pki.files.dataKey }],
          fingerprintKey: { file: pki.files.fingerprintKey },
        },
        log: { level: 'warn' },
      };
      const configFile = join(dir, 'config.json');
      writeFileSync(configFile, JSON.stringify(config));

      const messages: string[] = [];
      for (let i = 0; i < TOTAL; i++) {
        messages.push(
          await encodeVisaMessage(enrollmentPayload(), {
            signingKey: pki.visaSigningKey,
            signingKid: pki.visaKid,
            encryptionKey: pki.issuerPublicKey,
            encryptionKid: pki.issuerKid,
          }),
        );
      }

      // Both start together: migrations must not race (advisory lock / SQLite write lock).
      const [a, b] = await Promise.all([
        startServerProcess(['--config', configFile, '--workers', '1']),
        startServerProcess(['--config', configFile, '--workers', '1']),
      ]);
      const agent = new Agent({ connections: 16, pipelining: 1 });
      const acknowledged = new Set<string>();
      const statuses = new Map<number, number>();
      const post = async (base: string, encryptedData: string) => {
        const res = await request(`${base}${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ encryptedData }),
          dispatcher: agent,
        });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 200) acknowledged.add(encryptedData);
      };
      try {
        let next = 0;
        const lanes = Array.from({ length: 16 }, async () => {
          while (next < TOTAL) {
            const i = next++;
            const m = messages[i]!;
            if (i % BOTH_EVERY === 0) await Promise.all([post(a.url, m), post(b.url, m)]);
            else await post(i % 2 ? a.url : b.url, m);
          }
        });
        await Promise.all(lanes);
      } finally {
        await agent.close();
        assert.equal(await a.stop(), 0);
        assert.equal(await b.stop(), 0);
      }

      assert.deepEqual(
        [...statuses],
        [[200, TOTAL + TOTAL / BOTH_EVERY]],
        'every request, including both halves of each race, answered 200',
      );
      const store = await openStore(parseConfig(config, dir).storage);
      try {
        const rows = await store.list({ scope: ALL_ISSUERS, limit: TOTAL * 2 });
        assert.equal(rows.length, acknowledged.size, 'nothing stored beyond what was acknowledged');
        assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
        for (const m of acknowledged) {
          const found = await store.findByDedupKey(
            createHash('sha256').update(m).digest('base64url'),
          );
          assert.equal(found?.status, 'accepted');
        }
        const raced = rows.filter((r) => r.visaAttempts === 2).length;
        assert.equal(
          raced,
          TOTAL / BOTH_EVERY,
          'each raced notification: one row, two attempts counted',
        );
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
        await db.drop();
      }
      assertNoPersonalData(processOutput.join('\n'), 'server output');
    });
  });
}
