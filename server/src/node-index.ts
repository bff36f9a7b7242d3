/**
 * The server on Node (`cra-runtime/server/node`): everything of `cra-runtime/server`, plus `startServer` (runtime with
 * durable JSONL traces, a file of session owners, the atlases of a folder, `@hono/node-server`, graceful close),
 * `listen` for any app, and `FileOwners`.
 *
 * ```ts
 * import { parseConfig, startServer } from 'cra-runtime/server/node';
 * const server = await startServer({ ...parseConfig(process.env), atlasDir: './atlases' });
 * console.log(server.url);
 * ```
 *
 * @module
 */

export * from './index.ts';
export { listen, readAtlases, startServer, type AtlasReport, type Listening, type RunningServer, type StartOptions } from './node.ts';
export { FileOwners } from './auth/owner-file.ts';
