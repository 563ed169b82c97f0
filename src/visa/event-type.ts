/**
 * The form of an `eventType` query value this service accepts (Visa page: `eventType`, e.g.
 * CTP_ENROLLMENT_ATTEMPT): upper-case letters, digits and underscores, at most 64.
 */
const EVENT_TYPE = /^[A-Z0-9_]{1,64}$/;

/** True when `s` has the form of an event type. */
export function isEventType(s: string): boolean {
  return EVENT_TYPE.test(s);
}
