/**
 * An issuer's id, stored with every row of the issuer: lower-case letters, digits and hyphens,
 * 1 to 32, not a hyphen first.
 */
export const ISSUER_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,31}$';

/** The issuer of a configuration without `issuers` (and of rows stored before issuers). */
export const DEFAULT_ISSUER_ID = 'default';
