/**
 * The bank's systems in the bench: one HTTP receiver, run as its own process (its CPU is neither
 * the server's nor the load generator's), for the webhook sink's events (`/PHASE/events`) and the
 * cardholder alerts (`/PHASE/alerts`) of every phase, and the traces rows' spans (`/v1/traces`,
 * taken and dropped, as a collector would). It answers 204 at once and counts distinct
 * `webhook-id`s per phase and path, so a phase can wait until every delivery and alert of its
 * stream is done. Asked over IPC (`{ type: 'counts' }`), it answers every phase's counts.
 */
import { createServer } from 'node:http';

/** Distinct deliveries and alerts one phase's service made. */
export interface SinkCounts {
  events: number;
  alerts: number;
}

const seen = new Map<string, { events: Set<string>; alerts: Set<string> }>();
const server = createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    if (req.url === '/v1/traces') return void res.writeHead(200).end();
    const m = /^\/([a-z0-9-]+)\/(events|alerts)$/.exec(req.url ?? '');
    if (m === null) return void res.writeHead(404).end();
    let phase = seen.get(m[1]!);
    if (phase === undefined) {
      phase = { events: new Set(), alerts: new Set() };
      seen.set(m[1]!, phase);
    }
    phase[m[2] as 'events' | 'alerts'].add(String(req.headers['webhook-id']));
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;

process.on('message', (m: { type?: string }) => {
  if (m?.type !== 'counts') return;
  const counts: Record<string, SinkCounts> = {};
  for (const [k, v] of seen) counts[k] = { events: v.events.size, alerts: v.alerts.size };
  process.send?.({ type: 'counts', counts });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send?.({ type: 'listening', url: `http://127.0.0.1:${port}` });
});
process.once('disconnect', () => process.exit(0));
