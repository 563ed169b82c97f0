import { type DestinationStream, type Logger, pino } from 'pino';
import { traceIds } from './telemetry/tracing.js';

export type { Logger };

/** Keys whose values never reach a log line, at the top level or one object down. */
const SENSITIVE_KEYS = new Set([
  'accountNumber',
  'encryptedData',
  'firstName',
  'lastName',
  'contactEmail',
  'phoneNumber',
  'body',
]);
const CENSOR = '[redacted]';

/**
 * The redaction, as a log formatter. Censors, without touching the caller's object (copy on
 * write): every SENSITIVE_KEYS member at the top level and one level down, `accountNumber` two
 * levels down, and `req.headers`. Not pino's `redact` option: it applies a leading-wildcard path
 * (`*.x`) to every value of every line, which costs more than writing the rest of the line.
 */
export function redactLogObject(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const value = obj[key];
    let next = value;
    if (SENSITIVE_KEYS.has(key)) next = CENSOR;
    else if (isObject(value)) next = redactLevel(value, key === 'req' ? ['headers'] : [], 1);
    if (next !== value) {
      if (out === obj) out = { ...obj };
      out[key] = next;
    }
  }
  return out;
}

/** One level below the top: the same keys (and `extra`); below that, only `accountNumber`. */
function redactLevel(
  obj: Record<string, unknown>,
  extra: readonly string[],
  depth: 1 | 2,
): Record<string, unknown> {
  let out = obj;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const value = obj[key];
    let next = value;
    if (depth === 1 ? SENSITIVE_KEYS.has(key) || extra.includes(key) : key === 'accountNumber')
      next = CENSOR;
    else if (depth === 1 && isObject(value)) next = redactLevel(value, [], 2);
    if (next !== value) {
      if (out === obj)
        out = (Array.isArray(obj) ? [...obj] : { ...obj }) as Record<string, unknown>;
      out[key] = next;
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object';
}

/**
 * The service's structured logger (pino, JSON lines). Log calls carry codes and ids only; the
 * redaction ({@link redactLogObject}, on every line's object and every child's bindings) is a
 * second line of defence should a payload-shaped object ever be passed.
 *
 * @param level default "info"
 * @param destination default stdout
 */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: { pid: process.pid, service: 'ctp-notify' },
      formatters: { log: redactLogObject },
      timestamp: pino.stdTimeFunctions.isoTime,
      // A line written inside a span names it, so a log search leads to the trace.
      mixin: () => traceIds() ?? {},
    },
    destination,
  );
  // pino gives a child's bindings to no formatter; children (Fastify's per request among them)
  // inherit this method through their prototype, so every child's bindings pass here too.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, bindings ? redactLogObject(bindings) : bindings, options);
  } as Logger['child'];
  return logger;
}
