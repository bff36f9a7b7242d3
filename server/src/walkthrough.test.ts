/**
 * Runs server/walkthrough.sh — the curl walk-through of the report, as written — against `npm start` (a child
 * process with a generated key). Needs curl; jq is replaced by a small stand-in when the machine has none.
 */

import { execFile, execFileSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../sdk/test/helpers.ts';
import { ROOT, startChild, type ChildServer } from './testing.ts';

const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Enough of jq for the walk-through: `-r`/`-c`, paths like `.a.b[0].c`, and `{a, b}`; JSON texts one per line. */
const JQ_STANDIN = `#!/usr/bin/env node
const args = process.argv.slice(2);
const raw = args.includes('-r');
const filter = args.filter((a) => !a.startsWith('-'))[0] ?? '.';
const input = require('fs').readFileSync(0, 'utf8').split('\\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
const path = (v, p) => (p.match(/\\.[a-z_]+|\\[\\d+\\]/g) ?? []).reduce((x, s) => (x == null ? null : s[0] === '.' ? x[s.slice(1)] : x[Number(s.slice(1, -1))]), v);
for (const v of input) {
  let out;
  const m = /^\\{(.*)\\}$/.exec(filter);
  if (m) out = Object.fromEntries(m[1].split(',').map((k) => k.trim()).map((k) => [k, v[k]]));
  else out = path(v, filter);
  console.log(raw && typeof out === 'string' ? out : JSON.stringify(out));
}
`;

describe.skipIf(!has('curl'))('the curl walk-through (server/walkthrough.sh)', () => {
  let server: ChildServer | null = null;
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await server?.stop('SIGKILL');
    for (const f of cleanups) await f();
  });

  // With the machine's jq when it has one, and always with the stand-in (so that the stand-in itself is tested).
  const variants = has('jq') ? ['jq', 'stand-in'] : ['stand-in'];
  it.each(variants)('runs as written against npm start, with the printed key (%s)', async (variant) => {
    if (!server) {
      const data = await tempDir();
      cleanups.push(data.cleanup);
      server = await startChild({ CRA_DATA_DIR: data.dir, CRA_API_KEYS: '', CRA_ADMIN_KEYS: '', CRA_AUTH: '' });
    }
    expect(server.generatedKey).not.toBeNull();
    let PATH = process.env.PATH ?? '';
    if (variant === 'stand-in') {
      const bin = await tempDir();
      cleanups.push(bin.cleanup);
      await writeFile(join(bin.dir, 'jq'), JQ_STANDIN);
      await chmod(join(bin.dir, 'jq'), 0o755);
      PATH = `${bin.dir}:${PATH}`;
    }
    const { stdout } = await promisify(execFile)('bash', [join(ROOT, 'server/walkthrough.sh')], {
      env: { ...process.env, PATH, CRA_URL: server.url, CRA_API_KEY: server.generatedKey! },
      timeout: 30_000,
    });
    const lines = stdout.trimEnd().split('\n');
    const session = /^session ([0-9a-f-]{36})$/.exec(lines[2] ?? '')?.[1];
    expect(session).toBeDefined();
    expect(lines).toEqual([
      expect.stringMatching(/^\{"status":"healthy","version":"0\.1\.0","mode":"server","uptime_seconds":\d+\}$/),
      'com.example.support',
      `session ${session}`,
      '{"decision":{"type":"partial","reason":"Approval required for: refund.issue","approval_id":null,"expires_at":null}}',
      '{"result":"allow","code":1,"allowed":true}',
      'executed',
      'pending_approval',
      'approved',
      'failed',
      'ended',
      'session.started',
      'carp.request.received',
      'context.injected',
      'context.injected',
      'policy.evaluated',
      'carp.resolution.completed',
      'action.requested',
      'action.approved',
      'action.executed',
      'action.requested',
      'action.approved',
      'action.failed',
      'session.ended',
      expect.stringMatching(/^\{"valid":true,"length":13,"head_hash":"[0-9a-f]{64}"\}$/),
      '13',
      '{"error":{"code":"unauthorized","message":"an API key is required: Authorization: Bearer <key>","path":null}}',
    ]);
  });
});
