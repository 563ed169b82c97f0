import type { RiskLevel } from '../../domain/risk-codes.js';

export const ALERT_LANGUAGES = ['en', 'fr', 'de', 'es'] as const;
export type AlertLanguage = (typeof ALERT_LANGUAGES)[number];

export interface AlertFacts {
  /** The cardholder's first name on file, for the greeting; null: a neutral greeting. */
  firstName: string | null;
  /** Last four digits only: the one part of the card number an alert shows. */
  last4: string | null;
  receivedAt: number;
  level: RiskLevel;
  bankName: string;
  helpContact: string;
  timeZone: string;
}

export interface AlertMessage {
  language: AlertLanguage;
  subject: string;
  text: string;
}

interface Wording {
  greeting: (name: string | null) => string;
  card: (last4: string | null) => string;
  subjectInfo: (card: string) => string;
  subjectWarn: (card: string) => string;
  info: (card: string, when: string) => string;
  warn: (card: string, when: string) => string;
  yes: string;
  no: (help: string) => string;
  never: string;
}

// Low: a courtesy notice ("was this you?"). Medium and high: the attempt looks wrong, act now.
const WORDING: Record<AlertLanguage, Wording> = {
  en: {
    greeting: (n) => (n ? `Hello ${n},` : 'Hello,'),
    card: (l) => (l ? `your Visa card ending in ${l}` : 'your Visa card'),
    subjectInfo: (c) => `Was this you? Click to Pay set-up for ${c}`,
    subjectWarn: (c) => `Urgent: was this you? Someone tried to add ${c} to Click to Pay`,
    info: (c, w) => `On ${w}, a request was made to add ${c} to Click to Pay.`,
    warn: (c, w) =>
      `On ${w}, someone tried to add ${c} to Click to Pay. It does not look like you.`,
    yes: 'If it was you, there is nothing to do.',
    no: (h) =>
      `If it was not you, contact us now (${h}) so we can block the card and send you a new one.`,
    never: 'We will never ask you for your full card number, PIN or passcodes.',
  },
  fr: {
    greeting: (n) => (n ? `Bonjour ${n},` : 'Bonjour,'),
    card: (l) => (l ? `votre carte Visa se terminant par ${l}` : 'votre carte Visa'),
    subjectInfo: (c) => `Était-ce vous ? Activation de Click to Pay pour ${c}`,
    subjectWarn: (c) => `Urgent : était-ce vous ? Quelqu'un a tenté d'ajouter ${c} à Click to Pay`,
    info: (c, w) => `Le ${w}, une demande d'ajout de ${c} à Click to Pay a été faite.`,
    warn: (c, w) =>
      `Le ${w}, quelqu'un a tenté d'ajouter ${c} à Click to Pay. Cela ne semble pas venir de vous.`,
    yes: "Si c'était vous, vous n'avez rien à faire.",
    no: (h) =>
      `Si ce n'était pas vous, contactez-nous sans attendre (${h}) : nous bloquerons la carte et vous en enverrons une nouvelle.`,
    never:
      'Nous ne vous demanderons jamais votre numéro de carte complet, votre code PIN ni vos codes de sécurité.',
  },
  de: {
    greeting: (n) => (n ? `Hallo ${n},` : 'Guten Tag,'),
    card: (l) => (l ? `Ihre Visa-Karte mit der Endung ${l}` : 'Ihre Visa-Karte'),
    subjectInfo: (c) => `Waren Sie das? Click to Pay für ${c}`,
    subjectWarn: (c) => `Dringend: Waren Sie das? Jemand wollte ${c} zu Click to Pay hinzufügen`,
    info: (c, w) => `Am ${w} wurde beantragt, ${c} zu Click to Pay hinzuzufügen.`,
    warn: (c, w) =>
      `Am ${w} hat jemand versucht, ${c} zu Click to Pay hinzuzufügen. Das sieht nicht nach Ihnen aus.`,
    yes: 'Wenn Sie das waren, müssen Sie nichts tun.',
    no: (h) =>
      `Wenn nicht, melden Sie sich bitte sofort bei uns (${h}), damit wir die Karte sperren und Ihnen eine neue senden.`,
    never:
      'Wir fragen Sie niemals nach Ihrer vollständigen Kartennummer, Ihrer PIN oder Ihren Sicherheitscodes.',
  },
  es: {
    greeting: (n) => (n ? `Hola ${n}:` : 'Hola:'),
    card: (l) => (l ? `su tarjeta Visa terminada en ${l}` : 'su tarjeta Visa'),
    subjectInfo: (c) => `¿Ha sido usted? Alta en Click to Pay de ${c}`,
    subjectWarn: (c) => `Urgente: ¿ha sido usted? Alguien intentó añadir ${c} a Click to Pay`,
    info: (c, w) => `El ${w} se solicitó añadir ${c} a Click to Pay.`,
    warn: (c, w) =>
      `El ${w} alguien intentó añadir ${c} a Click to Pay. No parece que haya sido usted.`,
    yes: 'Si fue usted, no tiene que hacer nada.',
    no: (h) =>
      `Si no fue usted, contacte con nosotros ahora (${h}) para bloquear la tarjeta y enviarle una nueva.`,
    never: 'Nunca le pediremos el número completo de su tarjeta, su PIN ni sus claves.',
  },
};

/** The template language for a BCP 47 tag ("fr-CA" → fr), else `fallback`. */
export function alertLanguage(
  tag: string | null | undefined,
  fallback: AlertLanguage,
): AlertLanguage {
  const primary = tag?.toLowerCase().split(/[-_]/)[0];
  return (ALERT_LANGUAGES as readonly string[]).includes(primary ?? '')
    ? (primary as AlertLanguage)
    : fallback;
}

interface DateFormat {
  format: Intl.DateTimeFormat;
  /** The minute last formatted (ms since the epoch / 60,000) and its text. */
  minute: number;
  text: string;
}

/**
 * Formatters by language and time zone: making one costs more than the rest of an alert, and
 * formatting costs about as much as the rest, so each keeps its last minute's text (alerts come
 * in bursts, and the text shows minutes; every time zone in use is offset by whole minutes).
 */
const formats = new Map<string, DateFormat>();

function formatMinute(language: AlertLanguage, timeZone: string, at: number): string {
  const key = `${language} ${timeZone}`;
  let f = formats.get(key);
  if (f === undefined) {
    const format = new Intl.DateTimeFormat(language, {
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short',
      timeZone,
    });
    f = { format, minute: Number.NaN, text: '' };
    formats.set(key, f);
  }
  const minute = Math.floor(at / 60_000);
  if (minute !== f.minute) {
    f.text = f.format.format(new Date(at));
    f.minute = minute;
  }
  return f.text;
}

/**
 * The "was this you?" message: masked card (last four only), time in the bank's time zone,
 * what to do. Never the card number: only `last4` reaches the template.
 */
export function renderAlert(language: AlertLanguage, f: AlertFacts): AlertMessage {
  const w = WORDING[language];
  const when = formatMinute(language, f.timeZone, f.receivedAt);
  const card = w.card(f.last4);
  const warn = f.level !== 'low';
  const subjectCard = f.last4 ? `•••• ${f.last4}` : 'Visa';
  const subject = warn ? w.subjectWarn(subjectCard) : w.subjectInfo(subjectCard);
  const text = [
    w.greeting(f.firstName),
    '',
    warn ? w.warn(card, when) : w.info(card, when),
    '',
    w.yes,
    w.no(f.helpContact),
    '',
    w.never,
    '',
    f.bankName,
    '',
  ].join('\n');
  return { language, subject, text };
}
