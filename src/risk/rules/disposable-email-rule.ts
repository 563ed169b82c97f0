import mailchecker from 'mailchecker';
import { emailDomain } from '../match/contact-normalise.js';
import type { RiskRule } from './risk-rule.js';

// mailchecker: a maintained list (tens of thousands of throwaway-mail domains, updated often).
const blocklist = mailchecker.blacklist();

/** True when the address's domain, or a parent of it, is a known disposable-mail domain. */
export function isDisposableEmail(email: string | null | undefined): boolean {
  let domain = emailDomain(email);
  while (domain !== undefined && domain.length > 0) {
    if (blocklist.has(domain)) return true;
    const dot = domain.indexOf('.');
    domain = dot < 0 ? undefined : domain.slice(dot + 1);
  }
  return false;
}

/** The enroller's email is at a disposable-mail provider. Detail: `list=mailchecker`. */
export const disposableEmailRule: RiskRule = {
  name: 'disposable-email',
  codes: ['DISPOSABLE_EMAIL'],
  evaluate({ inputs }) {
    return inputs.disposableEmail ? [{ code: 'DISPOSABLE_EMAIL', detail: 'list=mailchecker' }] : [];
  },
};
