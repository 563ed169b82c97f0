import { hostname } from 'node:os';
import type { TelemetryConfig } from '../config/telemetry-schema.js';
import type { TraceSettings } from './tracing.js';

const DEFAULT_ENDPOINT = 'http://localhost:4318';

/** `k1=v1,k2=v2` with percent-encoded values (the OTLP exporter specification). */
function parseHeaders(v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (v ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    try {
      out[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      // A malformed value is ignored, as the SDK's own parser does.
    }
  }
  return out;
}

function intFrom(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}

/** `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (the SDK configuration specification). */
function samplerFrom(env: NodeJS.ProcessEnv): TraceSettings['sampler'] {
  const name = env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on';
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  const parentBased = name.startsWith('parentbased_');
  const base = parentBased ? name.slice('parentbased_'.length) : name;
  if (base === 'always_off') return { kind: 'always_off', ratio: 0, parentBased };
  if (base === 'traceidratio') return { kind: 'ratio', ratio, parentBased };
  return { kind: 'always_on', ratio: 1, parentBased };
}

/**
 * Whether traces are exported, and with what: undefined when off. `headers` are the config's,
 * resolved from their secret references.
 */
export function traceSettings(
  config: TelemetryConfig | undefined,
  headers: Record<string, string> | undefined,
  env: NodeJS.ProcessEnv = process.env,
): TraceSettings | undefined {
  const enabled =
    config?.enabled ?? (env.OTEL_SDK_DISABLED !== 'true' && env.OTEL_TRACES_EXPORTER === 'otlp');
  if (!enabled) return undefined;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_ENDPOINT;
  const envProtocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  const protocol =
    config?.protocol ?? (envProtocol === 'http/json' ? 'http/json' : 'http/protobuf');
  return {
    url:
      config?.endpoint ??
      env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      `${base.replace(/\/$/, '')}/v1/traces`,
    protocol,
    headers: headers ?? {
      ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
      ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    },
    sampler:
      config?.samplingRatio !== undefined
        ? { kind: 'ratio', ratio: config.samplingRatio, parentBased: true }
        : samplerFrom(env),
    serviceName: config?.serviceName ?? env.OTEL_SERVICE_NAME ?? 'ctp-notify',
    serviceInstance: config?.serviceInstance ?? `${hostname()}:${process.pid}`,
    batch: {
      maxQueueSize: intFrom(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048),
      maxExportBatchSize: intFrom(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512),
      scheduledDelayMillis: intFrom(env.OTEL_BSP_SCHEDULE_DELAY, 5000),
      exportTimeoutMillis: intFrom(env.OTEL_BSP_EXPORT_TIMEOUT, 30000),
    },
  };
}
