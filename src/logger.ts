import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * The service's structured logger (pino, JSON lines). Log calls carry codes and ids only; the
 * redact list is a second line of defence should a payload-shaped object ever be passed.
 *
 * @param level default "info"
 * @param destination default stdout
 */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, service: 'ctp-notify' },
      redact: {
        paths: [
          'accountNumber', '*.accountNumber', '*.*.accountNumber', 'encryptedData', '*.encryptedData',
          'firstName', 'lastName', 'contactEmail', 'phoneNumber', '*.firstName', '*.lastName',
          '*.contactEmail', '*.phoneNumber', 'req.headers', 'body', '*.body',
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
