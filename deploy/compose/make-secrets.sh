#!/usr/bin/env bash
# Makes the example's keys and passwords in deploy/compose/secrets/ (and deploy/compose/.env)
# with openssl, owned by the image's user (10001) with mode 0600, as ctp-notify requires. For the
# example only: in production the issuer key comes from `ctp-notify keys generate` or your HSM
# process, and Visa's signing certificate from Visa. Needs openssl; run as root (for chown).
set -euo pipefail
cd "$(dirname "$0")"
umask 077
[ -e secrets ] && { echo "secrets/ exists: remove it to make new keys" >&2; exit 1; }
mkdir -p secrets
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out secrets/issuer-enc-1.key.pem
openssl req -x509 -new -key secrets/issuer-enc-1.key.pem -subj "/CN=issuer-enc-1/O=ctp-notify compose example" -days 365 \
  -addext keyUsage=critical,keyEncipherment -out secrets/issuer-enc-1.cert.pem
# A stand-in for Visa's signing key, so that `ctp-notify send` can act as Visa against the example.
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out secrets/visa-stand-in.key.pem
openssl req -x509 -new -key secrets/visa-stand-in.key.pem -subj "/CN=visa-sign-1/O=Visa stand-in (example only)" -days 365 \
  -addext keyUsage=critical,digitalSignature -out secrets/visa-sign-1.cert.pem
openssl rand -base64 32 >secrets/data-key-1
openssl rand -base64 32 >secrets/fingerprint-key
openssl rand -base64 32 >secrets/totp-key
openssl rand -base64 24 >secrets/x-pay-token-secret
printf 'CTP_PG_PASSWORD=%s\nCTP_MQ_PASSWORD=%s\n' "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" >.env
chmod 0600 secrets/* .env
chown 10001:10001 secrets secrets/*
chmod 0700 secrets
echo "made deploy/compose/secrets/ and deploy/compose/.env (keep both out of version control)"
