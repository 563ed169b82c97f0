#!/usr/bin/env node
// The image's HEALTHCHECK: GET /healthz on Visa's listener, whose host, port and TLS come from the
// config at $CTP_NOTIFY_CONFIG (default /etc/ctp-notify/config.json). Exit 0 on 200, else 1.
// The service's own certificate is not verified: this only asks the local process whether it is alive.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const file = process.env.CTP_NOTIFY_CONFIG || '/etc/ctp-notify/config.json';
let listen = {};
try {
  listen = JSON.parse(readFileSync(file, 'utf8')).listen ?? {};
} catch {
  process.stderr.write(`healthcheck: cannot read ${file}\n`);
  process.exit(1);
}
// Defaults as in the config schema: 127.0.0.1:8443. A wildcard address is reached on loopback.
const wildcard = { '0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1' };
const host = wildcard[listen.host ?? ''] ?? listen.host;
const port = listen.port ?? 8443;
const client = listen.tls ? https : http;
const req = client.get(
  { host, port, path: '/healthz', timeout: 4000, rejectUnauthorized: false },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => {
  process.stderr.write(`healthcheck: ${e.message}\n`);
  process.exit(1);
});
