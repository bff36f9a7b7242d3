/** `GET /openapi.json`: the OpenAPI 3.1 document, generated from the registered routes (itself included). */

import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../context.ts';
import { json, ok, route } from './helpers.ts';

export function openapiDocument(app: App, version: string) {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'CRA server',
      version,
      description:
        'CRA, the authority layer between AI agents and their tools, over HTTP. Bodies are the protocol objects ' +
        '(snake_case; see docs/protocol.md); every error is `{error: {code, message, path}}`. Authenticate with ' +
        '`Authorization: Bearer <key>` or `X-API-Key: <key>`; a session is visible only to the key that created it.',
    },
    security: [{ bearerAuth: [] }, { apiKey: [] }],
    tags: ['Health', 'Sessions', 'CARP', 'Actions', 'Traces', 'Atlases'].map((name) => ({ name })),
  });
}

export function openapiRoutes(app: App, version: string): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  let cached: unknown = null;
  route(
    app,
    createRoute({
      method: 'get',
      path: '/openapi.json',
      tags: ['Health'],
      summary: 'This document (no key needed)',
      security: [],
      responses: { 200: ok('OpenAPI 3.1', z.looseObject({})) },
    }),
    (c) => {
      cached ??= openapiDocument(app, version);
      // The server is where this document was fetched (its path, mount point included, without the origin: the one
      // a caller used, through a proxy or not): a client or the /docs page calls the port and prefix it reached.
      const path = new URL(c.req.url).pathname;
      const base = path.slice(0, path.length - '/openapi.json'.length) || '/';
      return json(c, { ...(cached as object), servers: [{ url: base, description: 'this server' }] });
    },
  );
}
