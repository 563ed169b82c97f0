/**
 * The JOSE algorithms this service accepts: the lists `jose.*Algorithms` may name in the
 * configuration, and the ones src/jose/ implements.
 */

/** JWS algorithms this service can verify (RFC 7518 §3). `none` and HS* are deliberately absent. */
export const SIGNATURE_ALGORITHMS = ['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

/** Key management algorithms (RFC 7518 §4). RSA1_5 is deliberately absent (Bleichenbacher). */
export const KEY_MANAGEMENT_ALGORITHMS = ['RSA-OAEP-256'] as const;
export type KeyManagementAlgorithm = (typeof KEY_MANAGEMENT_ALGORITHMS)[number];

/** Content encryption algorithms (RFC 7518 §5.3). */
export const CONTENT_ENCRYPTION_ALGORITHMS = ['A256GCM', 'A128GCM'] as const;
export type ContentEncryptionAlgorithm = (typeof CONTENT_ENCRYPTION_ALGORITHMS)[number];
