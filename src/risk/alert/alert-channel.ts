import type { AlertMessage } from './alert-templates.js';

/** Contact details on file for the card, as captured when the alert was written. */
export interface AlertRecipient {
  firstName: string | null;
  lastName: string | null;
  emails: string[];
  phones: string[];
}

export interface OutgoingAlert {
  id: string;
  notificationId: string;
  cardFingerprint: string | null;
  last4: string | null;
  level: string;
  receivedAt: number;
  message: AlertMessage;
  recipient: AlertRecipient;
}

/** A failed send: `code` is stored (never the error text); `permanent` skips the retries. */
export class AlertSendError extends Error {
  constructor(
    readonly code: string,
    readonly permanent = false,
    readonly retryAfterMs?: number,
  ) {
    super(code);
    this.name = 'AlertSendError';
  }
}

/** Where "was this you?" goes: the bank's SMTP relay or its messaging webhook. */
export interface AlertChannel {
  readonly type: 'email' | 'webhook';
  /** Alerts sent at once: each email is an SMTP connection, a webhook shares a pool. */
  readonly concurrency: number;
  /** Resolves when the channel took the message; throws AlertSendError otherwise. */
  send(alert: OutgoingAlert): Promise<void>;
  close(): Promise<void>;
}
