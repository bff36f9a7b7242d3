/**
 * `cra`: the package's command line (`bin` → `dist/cli.js`, built from this file). From the sources:
 * `node --import tsx sdk/src/cli/main.ts <command> …`. See `commands.ts`.
 *
 * @module
 */

import { runCli } from './commands.ts';

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  onProxy(proxy) {
    const stop = () => void proxy.close('cancelled');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  onServer(server) {
    // As `npm start`: `SIGTERM: shutting down`, a graceful close, `stopped`, exit 0 (the server's modules are loaded).
    void import('../../../server/src/adapter/process.ts').then(({ stopOnSignals }) =>
      stopOnSignals(
        { onSignal: (signal, handler) => process.on(signal, handler), exit: (c) => process.exit(c), log: (line) => process.stdout.write(`${line}\n`) },
        () => server.close(),
      ),
    );
  },
});
// Written output is flushed before exiting; stdin (the MCP channel) must not keep the process alive.
process.stdout.write('', () => process.exit(code));
