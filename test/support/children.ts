/**
 * Server processes as `npm start` runs them, for the tests that stop, damage and restart them: call inside a
 * `describe`; every child started is killed, and every data folder removed, after each test.
 */
import { afterEach } from 'vitest';
import { tempDir } from '../../sdk/test/helpers.ts';
import { startChild, type ChildServer } from '../../server/src/testing.ts';

export function childServers() {
  const children: ChildServer[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await c.stop('SIGKILL');
    for (const f of cleanups.splice(0)) await f();
  });
  /** A server child with `env` (see `startChild`), killed after the test unless it stopped before. */
  const start = async (env: Record<string, string>): Promise<ChildServer> => {
    const c = await startChild(env);
    children.push(c);
    return c;
  };
  /** A fresh temporary folder, removed after the test. */
  const dataDir = async (): Promise<string> => {
    const t = await tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
  return { start, dataDir };
}
