/**
 * Visa's token requestor ID: 11 digits (Visa page, path parameter `tokenRequestorID`, e.g.
 * 40010030273). The one definition: the route, the pipeline and every schema take it from here.
 */
export const TOKEN_REQUESTOR_ID_PATTERN = '^[0-9]{11}$';

const TOKEN_REQUESTOR_ID = new RegExp(TOKEN_REQUESTOR_ID_PATTERN);

/** True when `s` has the form of a token requestor ID. */
export function isTokenRequestorId(s: string): boolean {
  return TOKEN_REQUESTOR_ID.test(s);
}
