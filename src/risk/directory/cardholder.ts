import type { CardStatus } from '../../domain/card-statuses.js';

/** The bank's view of one card's holder, as the directory gives it (decrypted, in memory only). */
export interface Cardholder {
  firstName: string | null;
  lastName: string | null;
  emails: string[];
  phones: string[];
  status: CardStatus;
  /** BCP 47 tag (e.g. "fr", "de-CH"); null when unknown. */
  language: string | null;
  /**
   * `phones` as `normalisePhone(phone, country)` gives them, worked out once at import (a parse
   * costs tens of µs, and each assessment compares the enroller's phone with every one on file);
   * used while `risk.defaultCountry` is still `country`. Absent from the bank's directory API.
   */
  normalisedPhones?: { country: string | null; values: string[] };
}

/** A directory's answer for one card. */
export type DirectoryResult =
  | { kind: 'found'; cardholder: Cardholder }
  | { kind: 'unknown' }
  | { kind: 'unavailable'; reason: 'timeout' | 'error'; elapsedMs: number };

/** Where the assessment learns who holds a card: the imported directory or the bank's API. */
export interface CardholderDirectory {
  /**
   * A slow or failing directory answers `unavailable`; only the imported directory throws, the
   * service's own storage error, so that the assessment fails and is done again.
   * @param fingerprint keyed fingerprint of the card number
   * @param accountNumber the card number, given only to directories configured to receive it
   */
  lookup(fingerprint: string, accountNumber?: string): Promise<DirectoryResult>;
  /** True when `lookup` wants the card number (then the caller decrypts it). */
  readonly wantsCardNumber: boolean;
  /** Look-ups the assessment may have in flight at once (it assesses in batches). */
  readonly maxConcurrentLookups: number;
  close(): Promise<void>;
}
