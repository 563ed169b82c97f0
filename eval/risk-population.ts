import { luhnValid } from '../src/protect/data-protector.js';

/**
 * A labelled synthetic population for the risk evaluation: a cardholder directory, legitimate
 * enrollments with the variation real cardholders produce, and planted fraud. Seeded, so a
 * run is reproducible. Every value is made up; phone numbers are in Ofcom's drama ranges or
 * similar fiction ranges where possible.
 */

export interface Holder {
  pan: string;
  firstName: string;
  lastName: string;
  emails: string[];
  phones: string[];
  status: 'active' | 'blocked' | 'closed';
  language: string;
  /** Cyrillic spelling, for transliterated enrollments. */
  cyrillic?: { first: string; last: string };
}

export interface Attempt {
  pan: string;
  firstName: string;
  lastName: string;
  email: string | undefined;
  phone: string | undefined;
  fraud: boolean;
  /** Which kind of legitimate variation or planted fraud this is. */
  kind: string;
  /** Part of the extra hard cases, reported apart from the target population. */
  hard?: boolean;
}

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Given names with the short forms people really type (some deliberately absent from the service's
// nickname table).
const FIRST: Record<string, string[]> = {
  Robert: ['Bob', 'Rob', 'Bobby'],
  William: ['Bill', 'Will', 'Billy'],
  Elizabeth: ['Liz', 'Beth', 'Lizzie', 'Elsie'],
  Katherine: ['Kate', 'Kathy', 'Katie', 'Kitty'],
  Margaret: ['Maggie', 'Peggy', 'Meg', 'Maisie'],
  James: ['Jim', 'Jimmy', 'Jamie'],
  John: ['Johnny', 'Jack'],
  Michael: ['Mike', 'Mick'],
  Thomas: ['Tom', 'Tommy'],
  Richard: ['Rick', 'Rich', 'Richie'],
  Christopher: ['Chris', 'Kit'],
  Jennifer: ['Jen', 'Jenny'],
  Alexander: ['Alex', 'Sandy'],
  Nicholas: ['Nick', 'Nicky'],
  Daniel: ['Dan', 'Danny'],
  Joseph: ['Joe', 'Joey'],
  Samuel: ['Sam', 'Sammy'],
  Matthew: ['Matt'],
  Patricia: ['Pat', 'Trish', 'Patsy'],
  Victoria: ['Vicky', 'Tori'],
  Rebecca: ['Becky', 'Becca'],
  Jonathan: ['Jon', 'Jonny'],
  Stephen: ['Steve'],
  Anthony: ['Tony'],
  Edward: ['Ed', 'Ted', 'Eddie'],
  Virginia: ['Ginny'],
  Harriet: ['Hattie'],
  Emma: [],
  Olivia: ['Liv'],
  Sophie: [],
  Lucy: [],
  Oliver: ['Ollie'],
  Harry: [],
  George: [],
  Charlotte: ['Lottie', 'Charlie'],
  Amelia: ['Millie'],
  Isla: [],
  Jack: [],
  José: ['Pepe'],
  Francisco: ['Paco'],
  María: [],
  Lucía: [],
  Javier: ['Javi'],
  Carmen: [],
  François: [],
  Frédéric: ['Fred'],
  Stéphanie: ['Steph'],
  Sébastien: ['Seb'],
  Zoë: [],
  Chloé: [],
  Hélène: [],
  Jürgen: [],
  Jörg: [],
  Günther: [],
  Björn: [],
  Søren: [],
  Giuseppe: ['Beppe'],
  Giovanni: ['Gianni'],
  Francesca: ['Franca'],
  Mohammed: [],
  Aisha: [],
  Priya: [],
  Wei: [],
};
const RUSSIAN: [string, string][] = [
  ['Dmitry', 'Дмитрий'],
  ['Natalia', 'Наталья'],
  ['Sergey', 'Сергей'],
  ['Yuri', 'Юрий'],
  ['Ekaterina', 'Екатерина'],
  ['Aleksei', 'Алексей'],
  ['Olga', 'Ольга'],
  ['Ivan', 'Иван'],
];
const RUSSIAN_LAST: [string, string][] = [
  ['Ivanov', 'Иванов'],
  ['Petrov', 'Петров'],
  ['Smirnov', 'Смирнов'],
  ['Kuznetsova', 'Кузнецова'],
  ['Volkov', 'Волков'],
  ['Sokolova', 'Соколова'],
  ['Popov', 'Попов'],
  ['Morozova', 'Морозова'],
];
const LAST = [
  'Smith',
  'Johnson',
  'Brown',
  'Taylor',
  'Wilson',
  'Davies',
  'Evans',
  'Thomas',
  'Roberts',
  'Walker',
  'Wright',
  'Green',
  'Hall',
  'Wood',
  'Clarke',
  'Hughes',
  'Edwards',
  'Turner',
  'Hill',
  'Cooper',
  'Ward',
  'Morris',
  'King',
  'Baker',
  'Harrison',
  'Patel',
  'Khan',
  'Singh',
  "O'Brien",
  'McDonald',
  'Nguyen',
  'Kowalski',
  'Nowak',
  'Jensen',
  'Müller',
  'Schröder',
  'Groß',
  'Weiß',
  'Köhler',
  'Schäfer',
  'Fischer',
  'García',
  'Martínez',
  'Núñez',
  'Peña',
  'Fernández',
  'López',
  'Rodríguez',
  'Lefèvre',
  'Dupré',
  'Benoît',
  'Giroud',
  'Rousseau',
  'Moreau',
  'Søndergaard',
  'Øberg',
  'Åberg',
  'Rossi',
  'Bianchi',
  'Esposito',
  'Romano',
  'Van der Berg',
  'De Vries',
  'Ahmed',
  'Chen',
  'Fitzgerald',
  'Whitfield',
  'Ashworth',
  'Pemberton',
  'Blackwood',
  'Hargreaves',
  'Lindqvist',
  'Kovács',
  'Horváth',
  'Dąbrowski',
];
const DOMAINS = [
  'gmail.com',
  'gmail.com',
  'gmail.com',
  'outlook.com',
  'hotmail.co.uk',
  'yahoo.co.uk',
  'icloud.com',
  'btinternet.com',
  'proton.me',
  'orange.fr',
  'gmx.de',
  'web.de',
];
const DISPOSABLE = [
  'mailinator.com',
  'yopmail.com',
  'guerrillamail.com',
  '10minutemail.com',
  'trashmail.com',
];
const LANGS = ['en', 'en', 'en', 'en', 'fr', 'de', 'es', 'en-GB', 'it'];

const ascii = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/[øØ]/g, 'o')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
const umlautExpand = (s: string) =>
  s
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/Ä/g, 'Ae')
    .replace(/Ö/g, 'Oe')
    .replace(/Ü/g, 'Ue')
    .replace(/ß/g, 'ss');
const stripAccents = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ø/g, 'o')
    .replace(/Ø/g, 'O')
    .replace(/ß/g, 'ss');

export class PopulationBuilder {
  readonly r: () => number;
  #panCounter = 0;
  #phoneCounter = 0;
  #emailCounter = 0;

  constructor(seed: number) {
    this.r = rng(seed);
  }

  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.r() * a.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }

  /** A Luhn-valid 16-digit card number in the bank's BIN 453201, distinct per call. */
  pan(bin = '453201', valid = true): string {
    const n = ++this.#panCounter;
    const body = `${bin}${String(n * 7_919 + Math.floor(this.r() * 7_000))
      .padStart(9, '0')
      .slice(-9)}`;
    for (let d = 0; d <= 9; d++) if (luhnValid(body + d) === valid) return body + d;
    throw new Error('unreachable');
  }

  /** A UK mobile as E.164 (07700 900xxx is Ofcom's drama range; extended here for volume). */
  phone(): string {
    const n = ++this.#phoneCounter;
    const r = this.r();
    if (r < 0.8) return `+4477009${String(n).padStart(5, '0')}`;
    if (r < 0.9) return `+336${String(10_000_000 + n * 13).slice(-8)}`;
    if (r < 0.95) return `+4915${String(100_000_000 + n * 17).slice(-9)}`;
    return `+1415555${String(n % 10_000).padStart(4, '0')}`;
  }

  email(first: string, last: string, domain = this.pick(DOMAINS)): string {
    const n = ++this.#emailCounter;
    const f = ascii(first) || 'x';
    const l = ascii(last) || 'y';
    const local = this.pick([
      `${f}.${l}`,
      `${f}${l}${n % 100}`,
      `${f[0]}${l}`,
      `${f}_${l}`,
      `${l}.${f}`,
    ]);
    return `${local.slice(0, 30)}${n}@${domain}`;
  }

  holder(): Holder {
    let firstName: string;
    let lastName: string;
    let cyrillic: Holder['cyrillic'];
    if (this.chance(0.06)) {
      const [f, fc] = this.pick(RUSSIAN);
      const [l, lc] = this.pick(RUSSIAN_LAST);
      firstName = f;
      lastName = l;
      cyrillic = { first: fc, last: lc };
    } else {
      firstName = this.pick(Object.keys(FIRST));
      lastName = this.pick(LAST);
    }
    const emails = [this.email(firstName, lastName)];
    if (this.chance(0.1)) emails.push(this.email(firstName, lastName));
    const phones = this.chance(0.05) ? [] : [this.phone()];
    return {
      pan: this.pan(),
      firstName,
      lastName,
      emails,
      phones,
      status: 'active',
      language: this.pick(LANGS),
      ...(cyrillic ? { cyrillic } : {}),
    };
  }

  /** How a real cardholder types their name: mostly as on file, often not quite. */
  legitName(h: Holder): { first: string; last: string; kind: string } {
    const r = this.r();
    if (h.cyrillic && r < 0.5)
      return { first: h.cyrillic.first, last: h.cyrillic.last, kind: 'transliteration' };
    if (r < 0.45) return { first: h.firstName, last: h.lastName, kind: 'exact' };
    if (r < 0.5)
      return { first: h.firstName.toUpperCase(), last: h.lastName.toLowerCase(), kind: 'case' };
    if (r < 0.62) {
      const nicks = FIRST[h.firstName] ?? [];
      if (nicks.length > 0) return { first: this.pick(nicks), last: h.lastName, kind: 'nickname' };
      return { first: h.firstName, last: h.lastName, kind: 'exact' };
    }
    if (r < 0.72)
      return this.chance(0.5)
        ? { first: this.typo(h.firstName), last: h.lastName, kind: 'typo' }
        : { first: h.firstName, last: this.typo(h.lastName), kind: 'typo' };
    if (r < 0.82) {
      const expand = this.chance(0.5);
      const f = expand ? umlautExpand(h.firstName) : stripAccents(h.firstName);
      const l = expand ? umlautExpand(h.lastName) : stripAccents(h.lastName);
      return { first: f, last: l, kind: 'accents' };
    }
    if (r < 0.86) return { first: h.lastName, last: h.firstName, kind: 'order' };
    if (r < 0.9) return { first: `${h.firstName[0]}.`, last: h.lastName, kind: 'initial' };
    if (r < 0.94)
      return {
        first: `${h.firstName} ${this.pick(['James', 'Marie', 'Anne', 'Louise', 'John', 'Maria'])}`,
        last: h.lastName,
        kind: 'middle-name',
      };
    return { first: h.firstName, last: h.lastName, kind: 'exact' };
  }

  /** One typing slip: a swapped pair, a dropped, doubled or replaced letter. */
  typo(s: string): string {
    if (s.length < 4) return s + s[s.length - 1];
    const i = 1 + Math.floor(this.r() * (s.length - 2));
    switch (Math.floor(this.r() * 4)) {
      case 0:
        return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
      case 1:
        return s.slice(0, i) + s.slice(i + 1);
      case 2:
        return s.slice(0, i) + s[i] + s.slice(i);
      default:
        return s.slice(0, i) + this.pick(['a', 'e', 'i', 'o', 'n', 'r']) + s.slice(i + 1);
    }
  }

  /** The phone as a cardholder types it into a form (Visa's field allows digits and ().+- only). */
  reformatPhone(e164: string): { phone: string; kind: string } {
    if (e164.startsWith('+44')) {
      const nat = `0${e164.slice(3)}`;
      return this.pick([
        { phone: e164, kind: 'phone-e164' },
        { phone: nat, kind: 'phone-national' },
        { phone: `${nat.slice(0, 5)}-${nat.slice(5)}`, kind: 'phone-national' },
        { phone: `+44(0)${e164.slice(3)}`, kind: 'phone-reformatted' },
        { phone: `0044${e164.slice(3)}`, kind: 'phone-reformatted' },
        { phone: `+44-${e164.slice(3, 7)}-${e164.slice(7)}`, kind: 'phone-reformatted' },
      ]);
    }
    return this.pick([
      { phone: e164, kind: 'phone-e164' },
      { phone: `00${e164.slice(1)}`, kind: 'phone-reformatted' },
      {
        phone: `${e164.slice(0, 3)}-${e164.slice(3, 6)}-${e164.slice(6)}`,
        kind: 'phone-reformatted',
      },
    ]);
  }

  legitEmail(h: Holder): { email: string; kind: string } {
    const onFile = this.pick(h.emails);
    const r = this.r();
    if (r < 0.12) return { email: this.email(h.firstName, h.lastName), kind: 'new-email' };
    if (r < 0.22) return { email: onFile.toUpperCase(), kind: 'email-case' };
    if (r < 0.32 && onFile.endsWith('@gmail.com')) {
      const [local, domain] = onFile.split('@') as [string, string];
      const variant = this.chance(0.5)
        ? `${local.replace(/\./g, '')}+ctp@${domain}`
        : `${local.slice(0, 2)}.${local.slice(2)}@googlemail.com`;
      return { email: variant, kind: 'gmail-variant' };
    }
    return { email: onFile, kind: 'email-same' };
  }

  legit(h: Holder): Attempt {
    const name = this.legitName(h);
    // Both contacts on file out of date: the one legitimate pattern that looks like a takeover by
    // someone who knows the name (the share is an assumption; a bank reads its own, see fraud.md).
    if (h.phones.length > 0 && this.chance(STALE_CONTACTS_SHARE)) {
      return {
        pan: h.pan,
        firstName: name.first,
        lastName: name.last,
        email: this.email(h.firstName, h.lastName),
        phone: this.reformatPhone(this.phone()).phone,
        fraud: false,
        kind: `${name.kind}+stale-contacts`,
      };
    }
    const email = this.legitEmail(h);
    const kinds = [name.kind, email.kind];
    let phone: string | undefined;
    if (h.phones.length > 0 && !this.chance(0.05)) {
      const p = this.reformatPhone(h.phones[0]!);
      phone = p.phone;
      kinds.push(p.kind);
    }
    return {
      pan: h.pan,
      firstName: name.first,
      lastName: name.last,
      email: email.email,
      phone,
      fraud: false,
      kind: kinds.join('+'),
    };
  }

  /** Somebody else: a name, email and phone unrelated to the cardholder. */
  stranger(disposableShare = 0.2): {
    firstName: string;
    lastName: string;
    email: string;
    phone: string;
  } {
    const firstName = this.pick([...Object.keys(FIRST), ...RUSSIAN.map((x) => x[0])]);
    const lastName = this.pick(LAST);
    const domain = this.chance(disposableShare) ? this.pick(DISPOSABLE) : this.pick(DOMAINS);
    return {
      firstName,
      lastName,
      email: this.email(firstName, lastName, domain),
      phone: this.reformatPhone(this.phone()).phone,
    };
  }
}

export const EVAL_BIN = '453201';

/** Share of legitimate enrollments whose email and phone on file are both out of date. */
export const STALE_CONTACTS_SHARE = 0.02;
