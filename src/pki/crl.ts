import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** Certificate revocation lists for the Visa listener's client CA, checked at start. */
export interface ClientCrls {
  /**
   * One PEM per CRL, for Node's TLS `crl` option: given one buffer, Node reads only its first
   * CRL.
   */
  pems: string[];
  /** The earliest nextUpdate among them; undefined when none has one. */
  nextUpdate: Date | undefined;
}

const CRL_BLOCK = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g;

/** Each CRL of a PEM file, as a PEM of its own (what Node's TLS `crl` option needs). */
export function crlBlocks(crlPem: string): string[] {
  return crlPem.match(CRL_BLOCK) ?? [];
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads the CRLs of `crlPem` against the CA certificates of `caPem`, refusing what would make
 * OpenSSL refuse every client certificate: a CRL not yet valid or past its nextUpdate
 * (CRL_NOT_YET_VALID, CRL_HAS_EXPIRED), or a CA without its CRL (UNABLE_TO_GET_CRL: Node has
 * OpenSSL check every certificate of the chain, RFC 5280 §6.3). A CRL from a CA not in `caPem`
 * is refused too: it would be a wrong file. Signatures are not checked here; OpenSSL checks them
 * at each handshake.
 *
 * @throws Error with a message for the operator (CA subjects and dates, nothing secret).
 */
export function readClientCrls(crlPem: string, caPem: string, now: Date): ClientCrls {
  const pems = crlBlocks(crlPem);
  if (pems.length === 0) throw new Error('no PEM CRL (-----BEGIN X509 CRL-----) in the file');
  const crls = pems.map((pem, i) => {
    try {
      return new x509.X509Crl(pem);
    } catch {
      throw new Error(`CRL ${i + 1} of the file is not a CRL`);
    }
  });
  const cas = (caPem.match(CERTIFICATE_BLOCK) ?? []).map((pem) => new x509.X509Certificate(pem));
  const der = (name: x509.Name) => Buffer.from(name.toArrayBuffer());
  for (const crl of crls) {
    if (!cas.some((ca) => der(ca.subjectName).equals(der(crl.issuerName))))
      throw new Error(`a CRL from "${crl.issuer}", which is not a CA of clientCa`);
    if (crl.thisUpdate > now)
      throw new Error(
        `the CRL from "${crl.issuer}" is not valid before ${crl.thisUpdate.toISOString()}`,
      );
    if (crl.nextUpdate !== undefined && crl.nextUpdate <= now)
      throw new Error(
        `the CRL from "${crl.issuer}" expired at ${crl.nextUpdate.toISOString()} (nextUpdate): ` +
          'every client certificate would be refused; fetch a new one',
      );
  }
  for (const ca of cas) {
    if (!crls.some((crl) => der(crl.issuerName).equals(der(ca.subjectName))))
      throw new Error(
        `no CRL from "${ca.subject}" of clientCa: every certificate under it would be refused`,
      );
  }
  const next = crls.flatMap((c) => (c.nextUpdate ? [c.nextUpdate.getTime()] : []));
  return { pems, nextUpdate: next.length > 0 ? new Date(Math.min(...next)) : undefined };
}
