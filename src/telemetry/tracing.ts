import {
  context,
  type DiagLogger,
  DiagLogLevel,
  diag,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/** What tracing runs with: the config's fields, else the standard `OTEL_*` variables. */
export interface TraceSettings {
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  sampler: { kind: 'always_on' | 'always_off' | 'ratio'; ratio: number; parentBased: boolean };
  serviceName: string;
  serviceInstance: string;
  batch: {
    maxQueueSize: number;
    maxExportBatchSize: number;
    scheduledDelayMillis: number;
    exportTimeoutMillis: number;
  };
}

/**
 * This process's tracer while traces are exported; undefined when off, and then every traced
 * step below is one property read and a direct call (nothing measurable).
 */
let tracer: Tracer | undefined;
let contextManagerSet = false;

/** What tracing reports to the service: spans dropped, and a warning at most once a minute. */
export interface TracingHooks {
  onDropped(count: number): void;
  warn(message: string): void;
}

function samplerOf(s: TraceSettings['sampler']): Sampler {
  const root =
    s.kind === 'always_off'
      ? new AlwaysOffSampler()
      : s.kind === 'ratio'
        ? new TraceIdRatioBasedSampler(s.ratio)
        : new AlwaysOnSampler();
  return s.parentBased ? new ParentBasedSampler({ root }) : root;
}

/**
 * Counts what an export loses: spans of a batch the collector refused or never answered (down,
 * slow, 500). The batch processor's queue is bounded, so a collector that is away costs memory
 * up to `maxQueueSize` spans and never holds a request up.
 */
function counting(exporter: SpanExporter, hooks: TracingHooks): SpanExporter {
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          hooks.onDropped(spans.length);
          hooks.warn('traces not exported: the collector did not take them');
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/**
 * Starts exporting this process's traces (OTLP over HTTP, batched). The context follows
 * `await`s through AsyncLocalStorage, so a step's span is a child of the request's.
 * @returns what stops it (flushing what is queued).
 */
export function startTracing(
  settings: TraceSettings,
  hooks: TracingHooks,
): { stop(): Promise<void> } {
  if (!contextManagerSet) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    contextManagerSet = true;
  }
  // The batch processor reports a full queue through the diagnostic logger.
  const diagLogger: DiagLogger = {
    warn(message: string) {
      const dropped = /Dropped (\d+) spans/.exec(message);
      if (dropped) hooks.onDropped(Number(dropped[1]));
      hooks.warn('traces dropped: the export queue is full');
    },
    error: () => hooks.warn('traces not exported: the collector did not take them'),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(diagLogger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const Exporter = settings.protocol === 'http/json' ? JsonExporter : ProtobufExporter;
  const exporter = new Exporter({
    url: settings.url,
    headers: settings.headers,
    timeoutMillis: settings.batch.exportTimeoutMillis,
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': settings.serviceName,
      'service.instance.id': settings.serviceInstance,
    }),
    sampler: samplerOf(settings.sampler),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: counting(exporter, hooks), ...settings.batch }),
    ],
  });
  tracer = provider.getTracer('ctp-notify');
  return {
    async stop() {
      tracer = undefined;
      await provider.shutdown().catch(() => {});
    },
  };
}

/** Whether traces are exported by this process. */
export function tracingOn(): boolean {
  return tracer !== undefined;
}

/**
 * Runs `fn` in a child span named `name` of the current one (a pipeline step). A failure marks
 * the span with the error's class name only: messages may hold what a log must not.
 */
export function step<T>(name: string, fn: () => T): T {
  const t = tracer;
  if (t === undefined) return fn();
  // A child of the request's span, not made active itself: nothing runs inside a step that
  // would start a span of its own, and entering a context costs more than the span.
  return finish(t.startSpan(name, undefined, context.active()), fn);
}

/**
 * Runs `fn` in a server span (a Visa request) that `fn` may add attributes to; the request's
 * own root (Visa sends no trace context to continue).
 */
export function serverSpan<T>(
  name: string,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  const t = tracer;
  if (t === undefined) return fn(undefined);
  return t.startActiveSpan(name, { kind: SpanKind.SERVER, root: true }, (span) =>
    finish(span, () => fn(span)),
  );
}

/**
 * A server span started now and ended by the caller: a request whose handling runs as hooks
 * (the admin API). Undefined when traces are off.
 */
export function startServerSpan(name: string): Span | undefined {
  return tracer?.startSpan(name, { kind: SpanKind.SERVER, root: true });
}

function finish<T>(span: Span, fn: () => T): T {
  const failed = (e: unknown) => {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.name ?? 'Error' });
    span.end();
  };
  try {
    const out = fn();
    if (out instanceof Promise)
      return out.then(
        (v) => {
          span.end();
          return v;
        },
        (e: unknown) => {
          failed(e);
          throw e;
        },
      ) as T;
    span.end();
    return out;
  } catch (e) {
    failed(e);
    throw e;
  }
}

/** The current span's ids, for a log line written inside it. */
export function traceIds(): { trace_id: string; span_id: string } | undefined {
  if (tracer === undefined) return undefined;
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId } : undefined;
}
