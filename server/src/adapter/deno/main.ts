/**
 * The CRA server as a Deno process, configured by the same environment variables as `npm start` (`config.ts`):
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write --allow-env server/src/adapter/deno/main.ts
 * ```
 *
 * SIGINT / SIGTERM stop it gracefully (open streams end, requests under way finish, traces are flushed).
 *
 * @module
 */

import { parseConfig } from '../../config.ts';
import { startFailure, stopOnSignals } from '../process.ts';
import { deno, serveDeno } from './index.ts';

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  const server = await serveDeno(parseConfig(deno().env.toObject()), { log });
  stopOnSignals({ onSignal: (signal, handler) => deno().addSignalListener(signal, handler), exit: (code) => deno().exit(code), log }, () => server.close());
}

main().catch((err: unknown) => {
  console.error(startFailure(err));
  deno().exit(1);
});
