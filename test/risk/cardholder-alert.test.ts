import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import { parseRetryAfter } from '../../src/delivery/retry-policy.js';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { alertLanguage, renderAlert } from '../../src/risk/alert/alert-templates.js';
import { attemptPayload, fixtureHolder, importHolders } from '../support/cardholder-fixtures.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { assertNoPersonalData } from '../support/personal-data.js';
import { capturedLogs, startTestServer, type TestServer } from '../support/server-harness.js';
import { processTempDir } from '../support/temp-dir.js';
import { testPki } from '../support/test-pki.js';

/** A 13–19 digit run that is a valid card number: must never be in an alert. */
const assertNoCardNumber = (text: string, pan: string) => {
  assert.ok(!text.includes(pan), 'full card number');
  assert.ok(
    !text.includes(pan.slice(0, 6) + pan.slice(-4)) && !text.includes(pan.slice(0, 12)),
    'card number prefix',
  );
  assert.doesNotMatch(text, /[0-9]{13,19}/);
};

describe('alert templates', () => {
  const facts = {
    firstName: 'Zoë',
    last4: '0007',
    receivedAt: Date.UTC(2026, 2, 14, 9, 30),
    level: 'high' as const,
    bankName: 'Example Bank',
    helpContact: '+44 20 7946 0000',
    timeZone: 'Europe/Paris',
  };

  it("English and three more languages, the cardholder's when known, with masked card, time and what to do", () => {
    assert.equal(alertLanguage('fr-CA', 'en'), 'fr');
    assert.equal(alertLanguage('DE', 'en'), 'de');
    assert.equal(alertLanguage('it', 'en'), 'en');
    assert.equal(alertLanguage(null, 'es'), 'es');
    const en = renderAlert('en', facts);
    assert.match(en.subject, /^Urgent: was this you\?.*•••• 0007/);
    assert.match(en.text, /ending in 0007/);
    assert.match(en.text, /March 14, 2026 at 10:30/, "time in the bank's zone");
    assert.match(en.text, /\+44 20 7946 0000/);
    const fr = renderAlert('fr', { ...facts, level: 'low' });
    assert.match(fr.subject, /^Était-ce vous \?/);
    assert.match(fr.text, /se terminant par 0007/);
    assert.match(fr.text, /14 mars 2026/);
    assert.match(renderAlert('de', facts).text, /mit der Endung 0007/);
    assert.match(renderAlert('es', facts).text, /terminada en 0007/);
    assert.match(renderAlert('en', { ...facts, firstName: null, last4: null }).text, /^Hello,\n/);
  });

  it('the time of each alert, also for alerts in the same minute and just after it', () => {
    const at = (ms: number) =>
      renderAlert('en', { ...facts, receivedAt: facts.receivedAt + ms }).text;
    assert.match(at(59_999), /at 10:30/);
    assert.match(at(60_000), /at 10:31/);
    assert.match(at(0), /at 10:30/);
    assert.match(at(-1), /at 10:29/);
    assert.match(
      renderAlert('en', { ...facts, timeZone: 'Asia/Kolkata' }).text,
      /at 03:00\sPM GMT\+5:30/,
    );
  });

  it('Retry-After as seconds or a date', () => {
    assert.equal(parseRetryAfter('7', Date.now()), 7000);
    assert.equal(
      parseRetryAfter(new Date(Date.now() + 60_000).toUTCString(), Date.now())! > 50_000,
      true,
    );
    assert.equal(parseRetryAfter('soon', Date.now()), undefined);
  });
});

for (const dialect of await dialects()) {
  describe(`cardholder alert by email (real SMTP server, STARTTLS) on ${dialect.name}`, () => {
    let db: TestDatabase;
    let s: TestServer;
    let smtp: SMTPServer;
    const mails: { to: string[]; raw: string; tls: boolean }[] = [];

    before(async () => {
      const pki = await testPki();
      smtp = new SMTPServer({
        key: readFileSync(pki.files.serverKey),
        cert: readFileSync(pki.files.serverCert),
        authOptional: true,
        disabledCommands: ['AUTH'],
        logger: false,
        onData(stream, session, done) {
          let raw = '';
          stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
          stream.on('end', () => {
            mails.push({
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              tls: Boolean(session.secure),
            });
            done();
          });
        },
      });
      await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
      const port = (smtp.server.address() as { port: number }).port;
      db = await dialect.create();
      s = await startTestServer(pki, {
        storageUrl: db.url,
        extra: {
          risk: {
            defaultCountry: 'GB',
            alert: {
              bankName: 'Example Bank',
              helpContact: 'call 0800 000 000',
              windowSeconds: 3600,
              sink: {
                type: 'email',
                host: 'localhost',
                port,
                requireTls: true,
                ca: pki.files.caCert,
                from: 'Example Bank <alerts@bank.example>',
                timeoutMs: 5000,
              },
              retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3 },
            },
          },
        },
      });
      s.runtime.startBackground();
    });
    after(async () => {
      await s.close();
      await new Promise<void>((r) => smtp.close(() => r()));
      await db.drop();
    });

    it('one "was this you?" to the email on file, in French, masked card; a burst does not spam', async () => {
      const h = fixtureHolder({ language: 'fr' });
      await importHolders(s, [h]);
      for (let i = 0; i < 3; i++) {
        const res = await s.post({
          encryptedData: await s.encode(
            attemptPayload(h.pan, {
              firstName: 'Eve',
              lastName: `Intruder${i}`,
              email: `eve${i}@example.net`,
              phone: '+447700900999',
            }),
          ),
        });
        assert.equal(res.status, 200);
      }
      const alerts = await eventually(async () => {
        const rows = await s.runtime.risk!.stores.alerts.list(10);
        return rows.length === 3 && rows.some((r) => r.status === 'sent') ? rows : undefined;
      }, 'alert sent');
      assert.deepEqual(alerts.map((a) => a.status).sort(), ['sent', 'suppressed', 'suppressed']);
      assert.equal(mails.length, 1);
      const mail = mails[0]!;
      assert.deepEqual(mail.to, [h.email], "the contact on file, never the enroller's");
      assert.ok(mail.tls, 'sent over STARTTLS');
      assert.match(mail.raw, /Content-Language: fr/);
      assert.match(mail.raw, /Subject: =\?UTF-8\?/);
      const body = mail.raw
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      assert.match(body, new RegExp(`se terminant par ${h.pan.slice(-4)}`));
      assertNoCardNumber(mail.raw, h.pan);
    });

    it('a cardholder without an email on file: no_contact, nothing sent', async () => {
      const before = mails.length;
      const h = fixtureHolder();
      await importHolders(s, [{ ...h, email: '' }]);
      await s.post({
        encryptedData: await s.encode(
          attemptPayload(h.pan, { firstName: h.firstName, lastName: h.lastName, phone: h.phone }),
        ),
      });
      const [row] = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 });
      const alert = await eventually(
        async () =>
          (await s.runtime.risk!.stores.alerts.list(50)).find((a) => a.notificationId === row!.id),
        'alert row',
      );
      assert.equal(alert.status, 'no_contact');
      assert.equal(mails.length, before);
      assertNoPersonalData(capturedLogs.join('\n'));
    });
  });
}

describe('cardholder alert by the bank messaging webhook (Standard Webhooks)', () => {
  let db: TestDatabase;
  let s: TestServer;
  let receiver: Server;
  const secret = `whsec_${Buffer.from('alert-webhook-test-secret-32-bytes!!').toString('base64')}`;
  const got: { status: number; body: string; headers: Record<string, string> }[] = [];
  const answers = [503, 200];

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const status = answers.shift() ?? 200;
        got.push({ status, body, headers: req.headers as Record<string, string> });
        res.writeHead(status, status === 503 ? { 'retry-after': '0' } : {});
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as { port: number }).port;
    const { writeFileSync, chmodSync } = await import('node:fs');
    const { join } = await import('node:path');
    const secretFile = join(processTempDir('ctp-whsec-'), 'alert.whsec');
    writeFileSync(secretFile, secret, { mode: 0o600 });
    chmodSync(secretFile, 0o600);
    db = await (await dialects())[0]!.create();
    s = await startTestServer(await testPki(), {
      storageUrl: db.url,
      extra: {
        risk: {
          alert: {
            minLevel: 'medium',
            bankName: 'Example Bank',
            helpContact: 'the app',
            sink: {
              type: 'webhook',
              url: `http://127.0.0.1:${port}/messages`,
              secrets: [{ file: secretFile }],
              timeoutMs: 2000,
            },
            retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3 },
          },
        },
      },
    });
    s.runtime.startBackground();
  });
  after(async () => {
    await s.close();
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
    await db.drop();
  });

  it('signed, retried after a 503, carries the contacts on file; below minLevel nothing is sent', async () => {
    const h = fixtureHolder({ language: 'de' });
    await importHolders(s, [h]);
    await s.post({
      encryptedData: await s.encode(
        attemptPayload(h.pan, {
          firstName: h.firstName,
          lastName: h.lastName,
          email: h.email,
          phone: h.phone,
        }),
      ),
    });
    await s.post({
      encryptedData: await s.encode(
        attemptPayload(h.pan, {
          firstName: 'Mallory',
          lastName: 'Stranger',
          email: 'm@example.net',
          phone: '+447700900998',
        }),
      ),
    });
    await eventually(
      async () => (got.some((g) => g.status === 200) ? true : undefined),
      'webhook delivered',
    );
    assert.deepEqual(
      got.map((g) => g.status),
      [503, 200],
      'the low-risk attempt sent nothing; the other was retried once',
    );
    const ok = got[1]!;
    const event = new Webhook(secret).verify(ok.body, ok.headers) as Record<string, unknown>;
    assert.equal(ok.headers['webhook-id'], got[0]!.headers['webhook-id'], 'same id on retry');
    assert.equal(event.type, 'ctp.cardholder_alert');
    assert.deepEqual(event.recipient, {
      firstName: h.firstName,
      lastName: h.lastName,
      emails: [h.email],
      phones: [h.phone],
    });
    assert.deepEqual((event.card as Record<string, unknown>).last4, h.pan.slice(-4));
    assert.equal((event.message as Record<string, unknown>).language, 'de');
    assertNoCardNumber(ok.body, h.pan);
    // The receiver has answered 200 before the alert worker records it: wait for that write.
    const sent = await eventually(
      async () => (await s.runtime.risk!.stores.alerts.list(5)).find((a) => a.status === 'sent'),
      'alert marked sent',
    );
    assert.equal(sent.attempts, 2);
  });

  it('an alert the channel refuses is a dead delivery of kind alert, retried by kind', async () => {
    const h = fixtureHolder({ language: 'en' });
    await importHolders(s, [h]);
    answers.push(400); // final: no retry
    await s.post({
      encryptedData: await s.encode(
        attemptPayload(h.pan, {
          firstName: 'Mallory',
          lastName: 'Stranger',
          email: 'mallory@example.net',
          phone: '+447700900997',
        }),
      ),
    });
    const outbox = s.runtime.outbox;
    const [dead] = await eventually(async () => {
      const rows = await outbox.list({ scope: ALL_ISSUERS, kind: 'alert', status: 'dead' });
      return rows.length > 0 ? rows : undefined;
    }, 'the alert dead-lettered');
    assert.deepEqual([dead!.kind, dead!.attempts, dead!.lastError], ['alert', 1, 'HTTP_400']);
    const alertRow = async () =>
      (await s.runtime.risk!.stores.alerts.list(20)).find((a) => a.id === dead!.alertId);
    assert.equal((await alertRow())?.status, 'dead');
    // A routine retry of dead deliveries sends no stale alert; by kind, it is sent again.
    assert.equal(await outbox.retry({ scope: ALL_ISSUERS, dead: true }), 0);
    assert.equal(await outbox.retry({ scope: ALL_ISSUERS, dead: true, kind: 'alert' }), 1);
    const sent = await eventually(
      async () => ((await alertRow())?.status === 'sent' ? alertRow() : undefined),
      'the retried alert sent',
    );
    assert.equal(sent?.attempts, 1);
  });
});
