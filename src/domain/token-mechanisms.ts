/**
 * How the token decrypts with a key (PKCS#11 v2.40 §2.1.8 and §2.1.6):
 * - `rsa-oaep-sha256`: `CKM_RSA_PKCS_OAEP` with SHA-256 and MGF1-SHA-256, the whole RSAES-OAEP
 *   decryption in the token (what Thales Luna, nShield, Utimaco, CloudHSM and Cloud KMS do);
 * - `rsa-raw`: `CKM_RSA_X_509`, the bare RSA private-key operation in the token, the OAEP
 *   decoding (RFC 8017 §7.1.2) in the service, for tokens that lack OAEP with SHA-256
 *   (SoftHSM 2.6.1 accepts only SHA-1 there);
 * - `auto`: the first of those two the token performs correctly in the start-up self-test.
 */
export const TOKEN_MECHANISMS = ['rsa-oaep-sha256', 'rsa-raw', 'auto'] as const;
export type TokenMechanism = (typeof TOKEN_MECHANISMS)[number];
