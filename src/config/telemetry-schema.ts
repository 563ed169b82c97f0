import { type Static, Type } from '@sinclair/typebox';
import { SecretRef } from './secret-ref.js';

/**
 * Traces for the bank's OpenTelemetry pipeline. Each field left out falls back to the standard
 * `OTEL_*` variable (OpenTelemetry's SDK configuration specification), then to its default.
 */
export const TelemetrySchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({
        description:
          'Export traces. Absent: on when `OTEL_TRACES_EXPORTER` is `otlp`, off otherwise (`OTEL_SDK_DISABLED=true` turns it off).',
      }),
    ),
    endpoint: Type.Optional(
      Type.String({
        pattern: '^https?://',
        description:
          "The collector's traces URL, e.g. `http://collector:4318/v1/traces`. Absent: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://localhost:4318/v1/traces`.",
      }),
    ),
    protocol: Type.Optional(
      Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json')], {
        description:
          'Absent: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`.',
      }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), SecretRef(), {
        description:
          'Headers sent to the collector (an API key), each a secret reference. Absent: `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS`.',
      }),
    ),
    samplingRatio: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          'Share of traces recorded (parent-based, by trace id). Absent: `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, else 1.',
      }),
    ),
    serviceName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'Absent: `OTEL_SERVICE_NAME`, else `ctp-notify`.',
      }),
    ),
    serviceInstance: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: '`service.instance.id`. Absent: the host name and process id.',
      }),
    ),
  },
  { additionalProperties: false, description: 'OpenTelemetry traces; off by default.' },
);
export type TelemetryConfig = Static<typeof TelemetrySchema>;
