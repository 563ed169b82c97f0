import { createHash, randomBytes } from 'node:crypto';
import { DataProtector } from '../../src/protect/data-protector.js';
import type { NotificationRecord } from '../../src/storage/notification-record.js';
import { uuidV7 } from '../../src/util/uuid-v7.js';
import { registerSensitive, testPan } from './personal-data.js';

/** A data protector with fresh keys, for stores written to directly (no pipeline). */
export function testProtector(): DataProtector {
  return new DataProtector([{ id: 'k1', key: randomBytes(32) }], randomBytes(32));
}

let n = 5000;

/**
 * A notification record as the pipeline would hand it to storage, card number protected with
 * `dp`. For store-level tests; HTTP tests go through the Visa-side encoder instead.
 */
export function acceptedRecord(
  dp: DataProtector,
  receivedAt: number,
  over: Partial<NotificationRecord> = {},
): NotificationRecord & { pan: string } {
  const i = ++n;
  const pan = testPan(i);
  const encryptedData = `test.${randomBytes(16).toString('base64url')}`;
  const dedupKey = createHash('sha256').update(encryptedData).digest('base64url');
  const p = dp.protectPan(pan, dedupKey);
  const rec = {
    id: uuidV7(receivedAt),
    issuer: 'default',
    dedupKey,
    receivedAt,
    tokenRequestorId: '40010030273',
    eventType: 'CTP_ENROLLMENT_ATTEMPT',
    status: 'accepted' as const,
    reason: null,
    reasonFields: null,
    jwsKid: 'visa',
    jweKid: 'issuer',
    tsp: 'V',
    firstName: `Jan${i}`,
    lastName: `Novak${i}`,
    contactEmail: `jan.${i}@example.net`,
    phoneNumber: `+4202${String(i).padStart(8, '0')}`,
    panFingerprint: p.fingerprint,
    panBin: p.bin,
    panLast4: p.last4,
    panLuhnValid: p.luhnValid,
    dataKeyId: p.keyId,
    panCiphertext: p.ciphertext,
    payloadCiphertext: dp.encrypt(Buffer.from('{}'), dedupKey),
    encryptedData,
    ...over,
    pan,
  };
  registerSensitive(pan, rec.firstName, rec.lastName, rec.contactEmail, rec.phoneNumber);
  return rec;
}

/** The same notification as Visa's quarantined first try (e.g. its decryption key was missing). */
export function quarantinedVersion(rec: NotificationRecord): NotificationRecord {
  return {
    ...rec,
    status: 'quarantined',
    reason: 'JWE_KID_UNKNOWN',
    jweKid: null,
    tsp: null,
    firstName: null,
    lastName: null,
    contactEmail: null,
    phoneNumber: null,
    panFingerprint: null,
    panBin: null,
    panLast4: null,
    panLuhnValid: null,
    dataKeyId: null,
    panCiphertext: null,
    payloadCiphertext: null,
  };
}
