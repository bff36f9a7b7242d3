/** `GET /health`, `GET /v1/health` (public) and `GET /v1/stats`. */

import { createRoute } from '@hono/zod-openapi';
import { requireAdmin } from '../auth/keys.ts';
import type { App, Services } from '../context.ts';
import { HealthSchema, StatsSchema } from '../schemas.ts';
import { errors, json, ok, route } from './helpers.ts';

export function healthRoutes(app: App, s: Services): void {
  for (const path of ['/health', '/v1/health']) {
    route(
      app,
      createRoute({
        method: 'get',
        path,
        tags: ['Health'],
        summary: 'Health check (no key needed)',
        security: [],
        responses: { 200: ok('The server is up', HealthSchema) },
      }),
      (c) =>
        json(c, {
          status: 'healthy',
          version: s.version,
          // What answers: a server (the runtime it serves is embedded in it, which is not what a caller talks to).
          mode: 'server',
          uptime_seconds: Math.floor((Date.now() - s.startedAt) / 1000),
        }),
    );
  }

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/stats',
      tags: ['Health'],
      summary: 'Runtime counters (admin keys)',
      responses: { 200: ok('Counters', StatsSchema), ...errors(403) },
    }),
    async (c) => {
      requireAdmin(c.var.principal, 'reading runtime-wide counters');
      return json(c, await s.runtime.stats());
    },
  );
}
