/**
 * The admin listener's routes served without an operator, by design: written here, not read
 * from the routes, so a route that gains `public` fails the walks instead of redefining them.
 */
export const PUBLIC_ADMIN_ROUTES: ReadonlySet<string> = new Set([
  'GET /',
  'GET /login',
  'POST /login',
  'GET /login/mfa',
  'POST /login/mfa',
  'POST /logout',
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /assets/:name',
  'GET /api/openapi.json',
]);
