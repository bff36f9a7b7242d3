/**
 * `GET /docs`: Swagger UI over the OpenAPI document (public, like `/openapi.json`). The page names the document by a
 * relative URL, so that it works wherever the app is mounted (`/cra/docs` reads `/cra/openapi.json`). Its script and
 * stylesheet load from a CDN (jsDelivr) unless `assetsUrl` names another host of npm packages.
 */

import { createRoute, z } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import type { App } from '../context.ts';
import { route } from './helpers.ts';

/**
 * Where the `GET /docs` page loads Swagger UI from.
 * @inline
 */
export interface DocsOptions {
  /**
   * A host of npm packages, CDN-style, under which the page loads `swagger-ui-dist@5/swagger-ui-bundle.js` and
   * `swagger-ui-dist@5/swagger-ui.css` (default `https://cdn.jsdelivr.net/npm`). Serving the package yourself: put
   * `node_modules/swagger-ui-dist` at `<assetsUrl>/swagger-ui-dist@5/`.
   */
  assetsUrl?: string;
}

/** The Swagger UI major version the page loads (the CDN serves its latest release). */
export const SWAGGER_UI_VERSION = '5';

/** Registers `GET /docs`. */
export function docsRoutes(app: App, options: DocsOptions = {}): void {
  const page = swaggerUI({
    url: 'openapi.json',
    title: 'CRA server API',
    version: SWAGGER_UI_VERSION,
    ...(options.assetsUrl ? { baseUrl: options.assetsUrl } : {}),
  });
  // `/docs/` would read its document as `/docs/openapi.json`: send the browser to the page itself (relative, so that
  // it works wherever the app is mounted). Middleware, not a route: the OpenAPI document lists the page once.
  app.use('/docs/', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? Promise.resolve(c.redirect('../docs', 301)) : next()));
  route(
    app,
    createRoute({
      method: 'get',
      path: '/docs',
      tags: ['Health'],
      summary: 'This API, browsable: Swagger UI over /openapi.json (no key needed)',
      security: [],
      responses: { 200: { description: 'An HTML page', content: { 'text/html': { schema: z.string() } } } },
    }),
    (c) => page(c as never, async () => undefined) as Promise<Response>,
  );
}
