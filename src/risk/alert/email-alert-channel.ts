import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import { type AlertChannel, AlertSendError, type OutgoingAlert } from './alert-channel.js';

export interface EmailSinkOptions {
  host: string;
  port: number;
  secure: boolean;
  requireTls: boolean;
  ca?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  timeoutMs: number;
}

/** SMTP through the bank's relay (nodemailer): to the first email on file, plain text. */
export class EmailAlertChannel implements AlertChannel {
  readonly type = 'email' as const;
  /**
   * One at a time: nodemailer opens an SMTP connection per message (no pool), and relays limit
   * connections per client.
   */
  readonly concurrency = 1;
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(o: EmailSinkOptions) {
    this.#from = o.from;
    this.#transport = nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: o.secure,
      requireTLS: o.requireTls,
      tls: { minVersion: 'TLSv1.2', ...(o.ca ? { ca: readFileSync(o.ca) } : {}) },
      ...(o.user ? { auth: { user: o.user, pass: o.password ?? '' } } : {}),
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs,
    });
  }

  async send(alert: OutgoingAlert): Promise<void> {
    const to = alert.recipient.emails[0];
    if (to === undefined) throw new AlertSendError('NO_EMAIL_ON_FILE', true);
    try {
      await this.#transport.sendMail({
        from: this.#from,
        to,
        subject: alert.message.subject,
        text: alert.message.text,
        headers: { 'X-CTP-Alert-Id': alert.id, 'Content-Language': alert.message.language },
      });
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      // 5xx is the server's final word for this message (RFC 5321 §4.2.1); anything else may pass
      // later.
      if (code !== undefined && code >= 500) throw new AlertSendError(`SMTP_${code}`, true);
      throw new AlertSendError(code !== undefined ? `SMTP_${code}` : 'SMTP_UNAVAILABLE');
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
