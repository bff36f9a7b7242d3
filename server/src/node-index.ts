/**
 * The server on Node (`cra-runtime/server/node`): everything of `cra-runtime/server`, plus `startServer` (runtime with
 * durable JSONL traces, a file of session owners, the atlases of a folder, `@hono/node-server`, graceful close),
 * `listen` for any app, `assembleOnFiles` (the same server on files, without a listener) and `FileOwners`.
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
export { listen, startServer, type Listening, type RunningServer, type StartOptions } from './adapter/node/index.ts';
export { assembleOnFiles, readAtlases, type FileAssembly } from './adapter/files/index.ts';
export { FileOwners } from './auth/owner-file.ts';
