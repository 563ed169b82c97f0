import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { register } from 'prom-client';
import { request } from 'undici';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { DEFAULT_ADMIN } from '../../src/admin/admin-context.js';
import { addOperator } from '../../src/admin/operators.js';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { createLogger } from '../../src/logger.js';
import { traceSettings } from '../../src/telemetry/trace-settings.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import {
  enrollmentPayload,
  findPersonalData,
  registeredSensitive,
} from '../support/personal-data.js';
import { capturedLogs, startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

// Exported within a tenth of a second, given up on within one: the test waits for neither long.
process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
process.env.OTEL_BSP_EXPORT_TIMEOUT = '1000';

const STEPS = ['verify', 'decrypt', 'validate', 'protect', 'commit'];

describe('traces of Visa requests (OTLP over HTTP, protobuf)', () => {
  let db: TestDatabase;
  let rx: OtlpReceiver;
  let server: TestServer;

  before(async () => {
    rx = await new OtlpReceiver().start();
    db = await sqliteDialect.create();
    server = await startTestServer(await testPki(), {
      storageUrl: db.url,
      extra: {
        risk: { enabled: false },
        telemetry: { enabled: true, endpoint: `${rx.url}/v1/traces`, serviceName: 'ctp-test' },
      },
    });
  });
  after(async () => {
    await server?.close();
    await rx?.close();
    await db?.drop();
  });

  const traceOf = (traceId: string) => rx.spans.filter((s) => s.traceId === traceId);

  it('one request is one trace: a server span with ids and codes, and a child span per step', async () => {
    const res = await server.post({ encryptedData: await server.encode(enrollmentPayload()) });
    assert.equal(res.status, 200);
    const root = await eventually(
      async () => rx.spans.find((s) => s.kind === 'SPAN_KIND_SERVER'),
      'the server span',
    );
    const spans = await eventually(async () => {
      const t = traceOf(root.traceId);
      return t.length === 1 + STEPS.length ? t : undefined;
    }, 'the steps');
    assert.match(root.name, /^POST \/.*\/vtis\/v1\/tokenRequestors\/:tokenRequestorId\//);
    assert.deepEqual(
      {
        route: root.attributes['http.route'],
        status: String(root.attributes['http.response.status_code']),
        issuer: root.attributes['ctp.issuer'],
        outcome: root.attributes['ctp.outcome'],
        trid: root.attributes['ctp.token_requestor_id'],
      },
      {
        route: root.name.slice('POST '.length),
        status: '200',
        issuer: 'default',
        outcome: 'accepted',
        trid: '40010030273',
      },
    );
    assert.equal(root.resource['service.name'], 'ctp-test');
    const children = spans.filter((s) => s !== root);
    assert.deepEqual(children.map((s) => s.name).sort(), [...STEPS].sort());
    for (const c of children) assert.equal(c.parentSpanId, root.spanId, c.name);
    // The request's log line names its trace.
    const line = server.logs
      .filter((l) => l.includes('"visa request"'))
      .map((l) => JSON.parse(l) as { trace_id?: string; span_id?: string })
      .find((l) => l.trace_id === root.traceId);
    assert.ok(line, 'a "visa request" line with the trace id');
    assert.equal(line.span_id, root.spanId);
  });

  it('a quarantined message ends its decrypt span in error, with the class name only', async () => {
    const encryptedData = await server.encode(enrollmentPayload(), { encryptTo: 'second' });
    assert.equal((await server.post({ encryptedData })).status, 500);
    const decrypt = await eventually(
      async () =>
        rx.spans.find((s) => s.name === 'decrypt' && s.statusCode === 'STATUS_CODE_ERROR'),
      'a failed decrypt span',
    );
    const root = rx.spans.find((s) => s.spanId === decrypt.parentSpanId) as ReceivedSpan;
    assert.equal(root.attributes['ctp.outcome'], 'quarantined');
    assert.equal(root.attributes['ctp.code'], 'JWE_KID_UNKNOWN');
  });

  it('no span holds a card number, name, email or phone', () => {
    assert.ok(rx.bodies.length > 0);
    const found = findPersonalData(
      rx.bodies.map((b) => b.toString('latin1')).join('\n') + JSON.stringify(rx.spans),
      registeredSensitive(),
    );
    assert.equal(found, undefined, found);
  });

  it('an admin API request is a server span: route, operator and role, never the token', async () => {
    const admin = await buildAdminApp({
      config: { ...server.config, admin: { ...DEFAULT_ADMIN, localMfa: 'optional' } },
      secrets: server.runtime.secrets,
      store: server.runtime.store,
      outbox: server.runtime.outbox,
      pipelines: server.runtime.pipelines,
      logger: createLogger('info', { write: (line: string) => capturedLogs.push(line) }),
    });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    try {
      const operators = server.runtime.store.openAdminStores().operators;
      const op = await addOperator(operators, 'trace.viewer', 'viewer', ALL_ISSUERS);
      const { port } = admin.server.address() as { port: number };
      const res = await request(`http://127.0.0.1:${port}/api/keys?issuer=default`, {
        headers: { authorization: `Bearer ${op.apiToken}` },
      });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      const span = await eventually(
        async () => rx.spans.find((s) => s.name === 'GET /api/keys'),
        'the admin span',
      );
      assert.equal(span.kind, 'SPAN_KIND_SERVER');
      assert.deepEqual(
        [span.attributes['http.route'], String(span.attributes['http.response.status_code'])],
        ['/api/keys', '200'],
      );
      assert.equal(span.attributes['ctp.role'], 'viewer');
      assert.ok(String(span.attributes['ctp.operator_id']).length > 0);
      const sent = rx.bodies.map((b) => b.toString('latin1')).join('');
      assert.ok(!sent.includes(op.apiToken), 'no credential in any span');
      assert.ok(!sent.includes('issuer=default'), 'no URL');
    } finally {
      await admin.close();
    }
  });

  it('a collector that fails changes no answer to Visa; the lost spans are counted', async () => {
    rx.answer = 500;
    const before =
      (await register.getSingleMetric('ctp_notify_trace_spans_dropped_total')?.get())?.values[0]
        ?.value ?? 0;
    for (let i = 0; i < 3; i++) {
      const res = await server.post({ encryptedData: await server.encode(enrollmentPayload()) });
      assert.equal(res.status, 200);
    }
    await eventually(async () => {
      const v = (await register.getSingleMetric('ctp_notify_trace_spans_dropped_total')?.get())
        ?.values[0]?.value;
      return v !== undefined && v > before ? v : undefined;
    }, 'spans counted as dropped');
    rx.answer = 200;
  });
});

describe('trace settings: the config, else the OTEL_* variables', () => {
  it('is off unless enabled or OTEL_TRACES_EXPORTER=otlp, and OTEL_SDK_DISABLED wins', () => {
    assert.equal(traceSettings(undefined, undefined, {}), undefined);
    assert.ok(traceSettings(undefined, undefined, { OTEL_TRACES_EXPORTER: 'otlp' }));
    assert.equal(
      traceSettings(undefined, undefined, {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_SDK_DISABLED: 'true',
      }),
      undefined,
    );
    assert.equal(
      traceSettings({ enabled: false }, undefined, { OTEL_TRACES_EXPORTER: 'otlp' }),
      undefined,
    );
  });

  it('endpoint, protocol, headers, sampler and service name from the environment', () => {
    const s = traceSettings(undefined, undefined, {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%20b,tenant=t1',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_SERVICE_NAME: 'issuer-ctp',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
    })!;
    assert.deepEqual(
      [s.url, s.protocol, s.headers, s.sampler, s.serviceName, s.batch.maxQueueSize],
      [
        'http://collector:4318/v1/traces',
        'http/json',
        { 'x-api-key': 'a b', tenant: 't1' },
        { kind: 'ratio', ratio: 0.25, parentBased: true },
        'issuer-ctp',
        100,
      ],
    );
    const traces = traceSettings(undefined, undefined, {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.bank.example/v1/traces',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    })!;
    assert.deepEqual(
      [traces.url, traces.protocol],
      ['https://traces.bank.example/v1/traces', 'http/protobuf'],
    );
  });

  it('the config wins over the environment', () => {
    const s = traceSettings(
      {
        enabled: true,
        endpoint: 'https://c.bank.example/v1/traces',
        samplingRatio: 0.5,
        serviceName: 'x',
      },
      { authorization: 'Bearer k' },
      {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other',
        OTEL_SERVICE_NAME: 'y',
        OTEL_TRACES_SAMPLER: 'always_off',
      },
    )!;
    assert.deepEqual(
      [s.url, s.sampler.ratio, s.serviceName, s.headers],
      ['https://c.bank.example/v1/traces', 0.5, 'x', { authorization: 'Bearer k' }],
    );
  });
});
