import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { Agent, request } from 'undici';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config/config-schema.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { DeliveryOutcome, DeliveryWorker } from '../../src/delivery/delivery-worker.js';
import { startDeliveryWorker } from '../../src/delivery/start-delivery-worker.js';
import { createLogger } from '../../src/logger.js';
import { alertsConfigured } from '../../src/risk/alert/alert-lane.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { type EncodeOptions, encodeVisaMessage, xPayToken } from '../../src/visa/visa-encoder.js';
import { secretEnv } from './secret-env.js';
import type { TestToken } from './softhsm.js';
import { captureForSuiteScan } from './suite-scan.js';
import type { TestPki } from './test-pki.js';

/** Log lines of every in-process server in this test process, for the personal-data scan. */
export const capturedLogs: string[] = [];
captureForSuiteScan('in-process server logs', () => capturedLogs.join(''));

export interface HarnessOptions {
  storageUrl: string;
  /** 'mtls': TLS with client certificates from the test CA required. */
  tls?: 'tls' | 'mtls';
  xPayTokenSecret?: string;
  tokenRequestorIds?: string[];
  basePath?: string;
  /** Decryption kids to install; default just the first issuer key. */
  decryptionKids?: ('first' | 'second')[];
  /**
   * Kids whose private key is in this token (imported beforehand under the kid as label), with
   * the mechanism to configure (default rsa-raw: SoftHSM 2.6 has no OAEP-SHA-256).
   */
  hsm?: { token: TestToken; kids: ('first' | 'second')[]; mechanism?: string };
  /** Verification key as certificate (default) or SPKI PEM. */
  verificationAs?: 'certificate' | 'spki';
  extra?: Record<string, unknown>;
  /** Run the delivery worker in-process as `serve` does (needs `sinks` in `extra`). */
  delivery?: boolean;
  /**
   * Several issuers (`issuers` of the config): the top-level issuer fields (decryption keys,
   * X-Pay-Token, token requestor ids, data protection) are then left out.
   */
  issuers?: Record<string, unknown>[];
}

export interface PostOptions {
  path?: string;
  /** Path used as is, without the configured base path. */
  rawPath?: string;
  query?: string;
  method?: string;
  contentType?: string | null;
  headers?: Record<string, string>;
  /**
   * 'valid' (default), 'none', or 'rogue' client certificate for mTLS servers, or PEM files of
   * one the test made.
   */
  clientCert?: 'valid' | 'none' | 'rogue' | { cert: string; key: string };
  /** Compute an X-Pay-Token over the request (default: when the server has a secret). */
  xPayToken?: boolean | { timestamp?: number; secret?: string };
  /** Give up waiting for the answer after this long (default: undici's 300 s). */
  timeoutMs?: number;
}

export interface TestServer {
  url: string;
  config: Config;
  runtime: Runtime;
  /** Present when started with `delivery: true`. */
  delivery: DeliveryWorker | undefined;
  /** Every attempt's outcome, as the worker reports it for metrics. */
  outcomes: DeliveryOutcome[];
  app: FastifyInstance;
  logs: string[];
  pki: TestPki;
  /** POST a raw body (string) or `{encryptedData}` object to the notification route. */
  post(
    body: string | object,
    o?: PostOptions,
  ): Promise<{ status: number; body: string; headers: Record<string, unknown> }>;
  /** Visa-side encoding of a payload with the test PKI. */
  encode(payload: unknown, o?: EncodeOptions & { encryptTo?: 'first' | 'second' }): Promise<string>;
  close(): Promise<void>;
}

export const TRID = '40010030273';
export const NOTIFICATION_PATH = `/vtis/v1/tokenRequestors/${TRID}/cardEnrollment/notification`;

/** Builds the config a bank would write, for the test PKI. */
export function configFor(pki: TestPki, o: HarnessOptions): Config {
  const kids = o.decryptionKids ?? ['first'];
  const raw: Record<string, unknown> = {
    listen: {
      host: '127.0.0.1',
      port: 0,
      ...(o.tls
        ? {
            tls: {
              cert: pki.files.serverCert,
              key: pki.files.serverKey,
              ...(o.tls === 'mtls' ? { clientCa: pki.files.caCert } : {}),
            },
          }
        : {}),
    },
    storage: { url: o.storageUrl, poolSize: 4 },
    keys: {
      decryption: o.issuers
        ? undefined
        : kids.map((k) => {
            const kid = k === 'first' ? pki.issuerKid : pki.issuerKid2;
            if (o.hsm?.kids.includes(k))
              return { kid, hsm: { label: kid, mechanism: o.hsm.mechanism ?? 'rsa-raw' } };
            return { kid, privateKey: k === 'first' ? pki.files.issuerKey : pki.files.issuerKey2 };
          }),
      verification: [
        {
          kid: pki.visaKid,
          certificate: o.verificationAs === 'spki' ? pki.files.visaSpki : pki.files.visaCert,
        },
      ],
    },
    ...(o.xPayTokenSecret && !o.issuers
      ? {
          auth: {
            xPayToken: { sharedSecret: secretEnv(o.xPayTokenSecret), clockSkewSeconds: 120 },
          },
        }
      : {}),
    ...(o.tokenRequestorIds ? { tokenRequestorIds: o.tokenRequestorIds } : {}),
    ...(o.basePath ? { basePath: o.basePath } : {}),
    ...(o.issuers
      ? { issuers: o.issuers }
      : {
          dataProtection: {
            keys: [{ id: 'k1', file: pki.files.dataKey }],
            fingerprintKey: { file: pki.files.fingerprintKey },
          },
        }),
    log: { level: 'info' },
    ...(o.hsm ? { hsm: o.hsm.token.hsmConfig() } : {}),
    ...o.extra,
  };
  // Every path above is absolute: the base folder only matters to a config that adds relative ones.
  return parseConfig(raw, tmpdir());
}

/** Starts the real app in this process on a loopback port, logs captured. */
export async function startTestServer(pki: TestPki, o: HarnessOptions): Promise<TestServer> {
  const config = configFor(pki, o);
  const logs: string[] = [];
  const logger = createLogger('info', {
    write(line: string) {
      logs.push(line);
      capturedLogs.push(line);
    },
  });
  let delivery: DeliveryWorker | undefined;
  const runtime = await createRuntime(config, logger, {
    onDeliveriesQueued: () => delivery?.wake(),
  });
  const outcomes: DeliveryOutcome[] = [];
  // Cardholder alerts leave through the outbox worker as serve runs it: without `delivery` it
  // sends alerts only, and the sinks' deliveries stay queued for the test to look at.
  if (o.delivery || alertsConfigured(config.risk))
    delivery = await startDeliveryWorker(runtime, logger, {
      onOutcome: (x) => outcomes.push(x),
      eventSinks: Boolean(o.delivery),
    });
  const app = await buildApp({
    config,
    pipelines: runtime.pipelines,
    store: runtime.store,
    logger,
    keysReady: () => runtime.secrets.token?.healthy ?? true,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const url = `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const agents = new Map<string, Agent>();
  const agentFor = (which: NonNullable<PostOptions['clientCert']>) => {
    const files =
      which === 'valid'
        ? { cert: pki.files.clientCert, key: pki.files.clientKey }
        : which === 'rogue'
          ? { cert: pki.files.rogueClientCert, key: pki.files.rogueClientKey }
          : which === 'none'
            ? undefined
            : which;
    const id = files?.cert ?? 'none';
    let a = agents.get(id);
    if (!a) {
      a = new Agent({
        connect: {
          ca: readFileSync(pki.files.caCert),
          ...(files ? { cert: readFileSync(files.cert), key: readFileSync(files.key) } : {}),
        },
      });
      agents.set(id, a);
    }
    return a;
  };

  return {
    url,
    config,
    runtime,
    delivery,
    outcomes,
    app,
    logs,
    pki,
    async post(body, p = {}) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const path = p.rawPath ?? `${o.basePath ?? ''}${p.path ?? NOTIFICATION_PATH}`;
      const query = p.query ?? 'eventType=CTP_ENROLLMENT_ATTEMPT';
      const headers: Record<string, string> = { ...p.headers };
      if (p.contentType !== null) headers['content-type'] = p.contentType ?? 'application/json';
      const wantToken = p.xPayToken ?? Boolean(o.xPayTokenSecret);
      if (wantToken) {
        const t = typeof wantToken === 'object' ? wantToken : {};
        const secret = t.secret ?? o.xPayTokenSecret ?? 'not-configured-secret';
        headers['x-pay-token'] = xPayToken(
          secret,
          path.slice(path.indexOf('/vtis/') + 1),
          query,
          text,
          t.timestamp,
        );
      }
      const res = await request(`${url}${path}${query ? `?${query}` : ''}`, {
        method: (p.method ?? 'POST') as 'POST',
        headers,
        body: p.method === 'GET' ? undefined : text,
        ...(p.timeoutMs ? { headersTimeout: p.timeoutMs, bodyTimeout: p.timeoutMs } : {}),
        ...(o.tls ? { dispatcher: agentFor(p.clientCert ?? 'valid') } : {}),
      });
      return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
    },
    encode(payload, e = {}) {
      const second = e.encryptTo === 'second';
      return encodeVisaMessage(
        payload,
        {
          signingKey: pki.visaSigningKey,
          signingKid: pki.visaKid,
          encryptionKey: second ? pki.issuerPublicKey2 : pki.issuerPublicKey,
          encryptionKid: second ? pki.issuerKid2 : pki.issuerKid,
        },
        e,
      );
    },
    async close() {
      await app.close();
      await delivery?.stop();
      await runtime.close();
      for (const a of agents.values()) await a.close();
    },
  };
}
