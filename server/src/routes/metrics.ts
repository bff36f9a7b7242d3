/**
 * `GET /metrics`: the server's metrics in the Prometheus text format (`metrics/server-metrics.ts`), for admin keys
 * (they count every key's traffic). A scraper without a key is served by a listener of its own instead
 * (`CRA_METRICS_PORT`, `adapter/node`), which answers {@link metricsOnly}.
 */

import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import type { CraRuntime } from '../../../sdk/src/interface.ts';
import { requireAdmin } from '../auth/keys.ts';
import type { App } from '../context.ts';
import { errorBody } from '../errors.ts';
import { EXPOSITION_CONTENT_TYPE } from '../metrics/exposition.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import { errors, route } from './helpers.ts';

export interface MetricsSources {
  metrics: ServerMetrics;
  runtime: CraRuntime | null;
  version: string;
}

async function scrape(s: MetricsSources): Promise<Response> {
  return new Response(await s.metrics.render({ runtime: s.runtime, version: s.version }), {
    headers: { 'content-type': EXPOSITION_CONTENT_TYPE, 'cache-control': 'no-store' },
  });
}

export function metricsRoutes(app: App, s: MetricsSources): void {
  route(
    app,
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['Health'],
      summary: 'Metrics in the Prometheus text format (admin keys)',
      responses: {
        200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
        ...errors(403),
      },
    }),
    (c) => {
      requireAdmin(c.var.principal, 'reading metrics');
      return scrape(s);
    },
  );
}

/** An app that answers `GET /metrics` alone, without auth: for a listener of its own (loopback by default). */
export function metricsOnly(s: MetricsSources): Hono {
  const app = new Hono();
  app.get('/metrics', () => scrape(s));
  app.notFound((c) => c.json(errorBody('not_found', 'this listener serves GET /metrics only'), 404));
  return app;
}
