/**
 * The words of a fraud case, each list in one place: the case store's types, the admin API's
 * schemas, the presenters and the console take them from here. The migrations' CHECK
 * constraints spell the same lists; a test keeps the two equal.
 */

/** open: nobody on it yet; in_review: assigned; closed: with a disposition. */
export const CASE_STATUSES = ['open', 'in_review', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** An analyst's finding on closing a case: the label its attempts carry. */
export const DISPOSITIONS = ['confirmed_fraud', 'legitimate', 'inconclusive'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** What the cardholder said to "was this you?". */
export const CARDHOLDER_ANSWERS = ['recognised', 'not_recognised'] as const;
export type CardholderAnswer = (typeof CARDHOLDER_ANSWERS)[number];

/** What opened a case: an assessment at or above `risk.cases.minLevel`, or a "not recognised". */
export const CASE_OPENERS = ['assessment', 'cardholder_answer'] as const;

/**
 * Entries of a case's append-only list: an analyst's `note`, and what happened to the case
 * (opened, an attempt joined, assigned, the cardholder answered, reopened, closed).
 */
export const CASE_NOTE_KINDS = [
  'opened',
  'attempt',
  'assigned',
  'note',
  'answer',
  'reopened',
  'closed',
] as const;
export type CaseNoteKind = (typeof CASE_NOTE_KINDS)[number];
