import { type Static, Type } from '@sinclair/typebox';
import { TOKEN_MECHANISMS } from '../domain/token-mechanisms.js';
import { literalUnion } from '../util/literal-union.js';
import { FilePath } from './file-path.js';
import { SecretRef } from './secret-ref.js';

/** A private key held in the configured token, named by its `CKA_LABEL`. */
export const TokenKeyRef = Type.Object(
  {
    label: Type.String({
      minLength: 1,
      maxLength: 64,
      description: "The key's CKA_LABEL in the token named by `hsm` (a private RSA key).",
    }),
    mechanism: literalUnion(TOKEN_MECHANISMS, {
      default: 'rsa-oaep-sha256',
      description:
        '`rsa-oaep-sha256`: CKM_RSA_PKCS_OAEP with SHA-256 in the token. `rsa-raw`: CKM_RSA_X_509 in the token ' +
        'and the OAEP decoding in the service, for tokens without OAEP-SHA-256 (SoftHSM 2.6). `auto`: the first ' +
        'of the two that passes the start-up self-test.',
    }),
  },
  { additionalProperties: false, description: 'A private key in the token (`hsm`).' },
);
export type TokenKeyRef = Static<typeof TokenKeyRef>;

/** The PKCS#11 token holding the issuer's keys; absent: every key is a file or a variable. */
export const HsmConfig = Type.Object(
  {
    module: FilePath({
      description:
        "The HSM vendor's PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so). Loaded once per process.",
    }),
    token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 32,
        description:
          'The token label (CKA_LABEL of the token, 32 characters at most). Give this or `slot`.',
      }),
    ),
    slot: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'The slot id, instead of `token` (token labels are steadier: prefer them).',
      }),
    ),
    pin: SecretRef({
      description: "The token user's PIN (CKU_USER). Never logged.",
    }),
    sessions: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 4,
      description:
        'PKCS#11 sessions each process keeps open: the most token operations it runs at once. Operations run ' +
        "on libuv's thread pool (UV_THREADPOOL_SIZE, default 4): raise both together for a network HSM.",
    }),
    reconnectMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 2000,
      description:
        'After a token fault (unreachable, sessions closed), how often the process tries to reopen its sessions.',
    }),
    libraryParameters: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Passed to C_Initialize as NSS's LibraryParameters (NSS softoken's configdir string). Other modules take none.",
      }),
    ),
  },
  { additionalProperties: false, description: 'A PKCS#11 token (HSM) holding keys; absent: none.' },
);
export type HsmConfig = Static<typeof HsmConfig>;
