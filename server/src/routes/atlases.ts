/**
 * Atlases: list, get, validate (any key); load, replace and unload (admin keys only, or every key with
 * `CRA_ATLAS_WRITES=any-key`): an atlas's policies govern every session.
 *
 * @module
 */

import { createRoute, z } from '@hono/zod-openapi';
import { isAtlasBundle } from '../../../sdk/src/atlas/bundle.ts';
import type { AtlasBundle, AtlasManifest, JsonObject } from '../../../sdk/src/types.ts';
import { requireAtlasAccess } from '../auth/keys.ts';
import type { App, Services } from '../context.ts';
import {
  AtlasBody,
  AtlasIdParam,
  AtlasListSchema,
  AtlasLoadQuery,
  AtlasLoadResultSchema,
  AtlasManifestSchema,
  AtlasValidationSchema,
} from '../schemas.ts';
import { errors, json, ok, requestBody, route, valid } from './helpers.ts';

const Atlases = ['Atlases'];
const body = requestBody(AtlasBody);

export function atlasRoutes(app: App, s: Services): void {
  const { runtime } = s;

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/atlases',
      tags: Atlases,
      summary: 'List the loaded atlases, in load order',
      responses: { 200: ok('The atlases', AtlasListSchema), ...errors() },
    }),
    async (c) => {
      const items = await runtime.listAtlases();
      return json(c, { items, total: items.length });
    },
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/atlases',
      tags: Atlases,
      summary: 'Load an atlas: a manifest, or {manifest, files, replace} (admin keys; every key with CRA_ATLAS_WRITES=any-key)',
      request: { query: AtlasLoadQuery, body },
      responses: { 201: ok('Loaded', AtlasLoadResultSchema), ...errors(400, 403, 404, 409, 413) },
    }),
    async (c) => {
      requireAtlasAccess(c.var.principal, 'loading an atlas');
      const b = valid<JsonObject>(c, 'json');
      const q = valid<z.infer<typeof AtlasLoadQuery>>(c, 'query');
      const { atlas, replace } = splitAtlas(b);
      const result = await runtime.loadAtlas(atlas, { replace: replace || q.replace === 'true' });
      return json(c, result, 201);
    },
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/atlases/validate',
      tags: Atlases,
      summary: 'Validate an atlas without loading it',
      request: { body },
      responses: { 200: ok('The findings', AtlasValidationSchema), ...errors(400) },
    }),
    async (c) => json(c, await runtime.validateAtlas(splitAtlas(valid<JsonObject>(c, 'json')).atlas)),
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/atlases/{atlas_id}',
      tags: Atlases,
      summary: "An atlas's manifest",
      request: { params: AtlasIdParam },
      responses: { 200: ok('The manifest', AtlasManifestSchema), ...errors(404) },
    }),
    async (c) => json(c, await runtime.getAtlas(valid<{ atlas_id: string }>(c, 'param').atlas_id)),
  );

  route(
    app,
    createRoute({
      method: 'delete',
      path: '/v1/atlases/{atlas_id}',
      tags: Atlases,
      summary: 'Unload an atlas; its policies stop applying (admin keys; every key with CRA_ATLAS_WRITES=any-key)',
      request: { params: AtlasIdParam },
      responses: { 204: { description: 'Unloaded' }, ...errors(403, 404) },
    }),
    async (c) => {
      requireAtlasAccess(c.var.principal, 'unloading an atlas');
      await runtime.unloadAtlas(valid<{ atlas_id: string }>(c, 'param').atlas_id);
      return c.body(null, 204);
    },
  );
}

/** A manifest, or a bundle `{manifest, files?, replace?}` (told apart by the SDK's rule, `isAtlasBundle`). */
function splitAtlas(b: JsonObject): { atlas: AtlasManifest | AtlasBundle; replace: boolean } {
  if (isAtlasBundle(b)) {
    const { replace, ...bundle } = b;
    return { atlas: bundle as unknown as AtlasBundle, replace: replace === true };
  }
  return { atlas: b as unknown as AtlasManifest, replace: false };
}
