import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { addOperator, type IssuedCredentials } from '../../src/admin/operators.js';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import type { Role } from '../../src/domain/roles.js';
import { createLogger } from '../../src/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import {
  capturedLogs,
  configFor,
  type HarnessOptions,
  startTestServer,
  type TestServer,
} from './server-harness.js';
import { testPki } from './test-pki.js';

export interface AdminTestEnv {
  /**
   * The Visa listener (installs only the first issuer key, so messages to the second are
   * quarantined).
   */
  visa: TestServer;
  /** The admin listener's base URL; its runtime holds both issuer keys ("key installed since"). */
  adminUrl: string;
  admin: FastifyInstance;
  adminRuntime: Runtime;
  adminLogs: string[];
  operators: Record<Role, IssuedCredentials>;
  /** JSON request to the admin API with a Bearer token (or none). */
  call(
    method: string,
    path: string,
    o?: { token?: string; body?: unknown; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: each test reads the JSON shape it asked for
  ): Promise<{ status: number; json: any; text: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * Starts Visa's listener and the admin listener in this process over one database, with one
 * operator per role. The admin side's runtime has the second issuer key too, as after an
 * operator installed a missing key: quarantined notifications can then be reprocessed.
 */
export async function startAdminEnv(
  storageUrl: string,
  o: {
    now?: () => number;
    extra?: HarnessOptions['extra'];
    /** Config of both listeners (e.g. `risk`, which Visa's side assesses with). */
    shared?: HarnessOptions['extra'];
    sinks?: Record<string, unknown>[];
  } = {},
): Promise<AdminTestEnv> {
  const pki = await testPki();
  // With sinks, Visa's side runs the delivery worker in-process, as `serve` does.
  const delivery = {
    ...(o.sinks ? { sinks: o.sinks, delivery: { pollIntervalMs: 20, leaseMs: 5000 } } : {}),
    ...o.shared,
  };
  const visa = await startTestServer(pki, {
    storageUrl,
    decryptionKids: ['first'],
    delivery: Boolean(o.sinks),
    extra: delivery,
  });
  const config = configFor(pki, {
    storageUrl,
    decryptionKids: ['first', 'second'],
    extra: {
      admin: { host: '127.0.0.1', port: 0, loginMaxFailures: 3, localMfa: 'optional' },
      ...delivery,
      ...o.extra,
    },
  });
  config.issuers[0]!.keys.decryption[0]!.certificate = pki.files.issuerCert;
  const adminLogs: string[] = [];
  const logger = createLogger('info', {
    write(line: string) {
      adminLogs.push(line);
      capturedLogs.push(line);
    },
  });
  const adminRuntime = await createRuntime(config, logger);
  const admin = await buildAdminApp({
    config,
    secrets: adminRuntime.secrets,
    store: adminRuntime.store,
    outbox: adminRuntime.outbox,
    pipelines: adminRuntime.pipelines,
    logger,
    ...(o.now ? { now: o.now } : {}),
  });
  await admin.listen({ host: '127.0.0.1', port: 0 });
  const adminUrl = `${config.admin?.tls ? 'https' : 'http'}://127.0.0.1:${(admin.server.address() as { port: number }).port}`;
  const store = adminRuntime.store.openAdminStores().operators;
  // Made on the listener's clock: a token's expiry is counted on it.
  const clock = o.now ?? Date.now;
  const operators = {
    viewer: await addOperator(store, 'vera.viewer', 'viewer', ALL_ISSUERS, clock()),
    analyst: await addOperator(store, 'anna.analyst', 'analyst', ALL_ISSUERS, clock()),
    admin: await addOperator(store, 'adam.admin', 'admin', ALL_ISSUERS, clock()),
    channel: await addOperator(store, 'bank.app', 'channel', ALL_ISSUERS, clock()),
  };
  return {
    visa,
    adminUrl,
    admin,
    adminRuntime,
    adminLogs,
    operators,
    async call(method, path, c = {}) {
      const headers: Record<string, string> = { ...c.headers };
      if (c.token) headers.authorization = `Bearer ${c.token}`;
      if (c.body !== undefined) headers['content-type'] = 'application/json';
      const res = await request(`${adminUrl}${path}`, {
        method: method as 'GET',
        headers,
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
      });
      const text = await res.body.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, json, text, headers: res.headers };
    },
    async close() {
      await admin.close();
      await adminRuntime.close();
      await visa.close();
    },
  };
}
