/** `cra trace export | diff | replay`: traces the runtime wrote to a real data folder, the real core comparing and replaying. */

import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { cli, EXAMPLE_ATLAS, recordSession } from '../testing.ts';

let tmp: { dir: string; cleanup(): Promise<void> };
let data: string;
let sessionId: string;
let file: string;
let text: string;

beforeAll(async () => {
  tmp = await tempDir();
  data = join(tmp.dir, 'data');
  ({ sessionId, file } = await recordSession(data));
  text = await readFile(file, 'utf8');
});
afterAll(async () => {
  await tmp.cleanup();
});

const events = () => text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { payload: Record<string, unknown> });
const jsonl = (list: unknown[]) => `${list.map((e) => JSON.stringify(e)).join('\n')}\n`;

describe('cra trace export', () => {
  it('writes a stored session\'s trace as stored, to stdout or --out; reads the folder without writing to it', async () => {
    const before = await readFile(join(data, 'traces/sessions.index.jsonl'), 'utf8');
    expect(await cli(['trace', 'export', sessionId, '--data', data])).toEqual({ code: 0, stdout: text, stderr: '' });
    // Written uppercase, as the server also reads a path's id.
    expect(await cli(['trace', 'export', sessionId.toUpperCase(), '--data', data])).toEqual({ code: 0, stdout: text, stderr: '' });
    const out = join(tmp.dir, 'exported.jsonl');
    const r = await cli(['trace', 'export', sessionId, '--data', data, '--out', out, '--json']);
    expect(JSON.parse(r.stdout)).toEqual({ session_id: sessionId, events: events().length, file: out });
    expect(await readFile(out, 'utf8')).toBe(text);
    // CRA_DATA_DIR when no --data.
    expect((await cli(['trace', 'export', sessionId], { env: { CRA_DATA_DIR: data } })).stdout).toBe(text);
    expect(await readFile(join(data, 'traces/sessions.index.jsonl'), 'utf8')).toBe(before);
    expect((await readdir(join(data, 'traces'))).sort()).toEqual([`${sessionId}.trace.jsonl`, 'sessions.index.jsonl']);
  });

  it('an unknown session, a folder without traces (left uncreated), a torn trace: exit 1; --json without --out: exit 2', async () => {
    const other = '01a23cbb-94b5-7ba2-8939-8418b0afc6f2';
    expect(await cli(['trace', 'export', other, '--data', data])).toEqual({
      code: 1,
      stdout: '',
      stderr: `cra trace export: no trace of session ${other} in ${join(data, 'traces')}\n`,
    });
    expect((await cli(['trace', 'export', 'not-an-id', '--data', data])).stderr).toBe('cra trace export: not a session id: "not-an-id" (at /session_id) [invalid_request]\n');
    const empty = join(tmp.dir, 'empty');
    expect((await cli(['trace', 'export', sessionId, '--data', empty])).stderr).toBe(`cra trace export: no traces in ${empty} (no folder ${join(empty, 'traces')})\n`);
    await expect(stat(empty)).rejects.toThrow(/ENOENT/);
    const torn = join(tmp.dir, 'torn');
    await cp(data, torn, { recursive: true });
    await writeFile(join(torn, 'traces', `${sessionId}.trace.jsonl`), text.slice(0, -20));
    const r = await cli(['trace', 'export', sessionId, '--data', torn]);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/^cra trace export: stored trace .* is damaged: line \d+ is incomplete \(no trailing newline\) \[storage_corrupt\]\n$/);
    expect((await cli(['trace', 'export', sessionId, '--data', data, '--json'])).code).toBe(2);
  });
});

describe('cra trace diff', () => {
  it('the same trace: exit 0', async () => {
    const copy = join(tmp.dir, 'copy.jsonl');
    await writeFile(copy, text);
    const n = events().length;
    expect(await cli(['trace', 'diff', file, copy])).toEqual({ code: 0, stdout: `same: ${n} events, head ${events().at(-1)!.event_hash}\n`, stderr: '' });
  });

  it('a payload changed after recording (its recorded hash kept): the index, the type, the member; exit 1', async () => {
    const list = events();
    list[0]!.payload.goal = 'Something else';
    const changed = join(tmp.dir, 'changed.jsonl');
    await writeFile(changed, jsonl(list));
    const r = await cli(['trace', 'diff', file, changed]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `different from event 0 (${list.length} events in ${file}, ${list.length} in ${changed})\n` +
        `  hash: ${list[0]!.event_hash} recorded in both, but their content differs\n` +
        '  event type: session.started (both)\n' +
        '  differs in: /payload/goal\n',
    );
    const json = JSON.parse((await cli(['trace', 'diff', file, changed, '--json'])).stdout);
    expect(json).toEqual({
      same: false,
      length_a: list.length,
      length_b: list.length,
      index: 0,
      a: { event_type: 'session.started', event_hash: list[0]!.event_hash },
      b: { event_type: 'session.started', event_hash: list[0]!.event_hash },
      paths: ['/payload/goal'],
    });
  });

  it('members in another order are the same event (canonical JSON); a trace cut short parts where it ends', async () => {
    const list = events().map((e) => Object.fromEntries(Object.entries(e).reverse()));
    const reordered = join(tmp.dir, 'reordered.jsonl');
    await writeFile(reordered, jsonl(list));
    expect((await cli(['trace', 'diff', file, reordered])).code).toBe(0);
    const cut = join(tmp.dir, 'cut.jsonl');
    await writeFile(cut, jsonl(events().slice(0, 3)));
    const r = await cli(['trace', 'diff', file, cut]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`different from event 3 (${events().length} events in ${file}, 3 in ${cut})\n  ${cut} ends there; ${file} goes on with ${events()[3]!.event_type}\n`);
  });
});

describe('cra trace replay', () => {
  /** The example atlas with `edit` applied to its manifest, in a folder of its own. */
  const atlasWith = async (name: string, edit: (manifest: Record<string, unknown> & { policies: Array<Record<string, unknown>> }) => void) => {
    const atlas = join(tmp.dir, name);
    await cp(EXAMPLE_ATLAS, atlas, { recursive: true });
    const manifest = JSON.parse(await readFile(join(atlas, 'atlas.json'), 'utf8'));
    edit(manifest);
    await writeFile(join(atlas, 'atlas.json'), JSON.stringify(manifest));
    return atlas;
  };

  it('with the atlas it was recorded with: the resolutions reproduced, the action decisions said not re-checked (exit 0)', async () => {
    expect(await cli(['trace', 'replay', file, '--atlas', EXAMPLE_ATLAS])).toEqual({
      code: 0,
      stdout: `resolutions reproduced (1 of 1); 2 action decision(s) not re-checked: their parameters are recorded only as hashes (${events().length} events replayed)\n`,
      stderr: '',
    });
  });

  it('--atlas a folder of atlas folders, as cra serve reads it: the same replay; a broken atlas in it is an error', async () => {
    const parent = join(tmp.dir, 'parent');
    await cp(EXAMPLE_ATLAS, join(parent, 'support'), { recursive: true });
    expect(await cli(['trace', 'replay', file, '--atlas', parent])).toEqual(await cli(['trace', 'replay', file, '--atlas', EXAMPLE_ATLAS]));
    await mkdir(join(parent, 'broken'));
    await writeFile(join(parent, 'broken', 'atlas.json'), '{');
    const r = await cli(['trace', 'replay', file, '--atlas', parent]);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(new RegExp(`^cra trace replay: ${join(parent, 'broken')}: invalid_json: `));
  });

  it('a lowered refund limit: the refund decision is not re-checked, and the output says so instead of claiming every decision', async () => {
    // Recorded: a refund of 25 waiting for approval. Under a limit of 10 it would be refused; replay cannot tell.
    const lowered = await atlasWith('lowered', (m) => {
      const limits = m.policies.find((p) => p.policy_id === 'refund-limits') as { parameters: { max: { amount: number } } };
      limits.parameters.max.amount = 10;
    });
    const r = await cli(['trace', 'replay', file, '--atlas', lowered]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/every recorded decision/);
    expect(r.stdout).toMatch(/^resolutions reproduced \(1 of 1\); 2 action decision\(s\) not re-checked: their parameters are recorded only as hashes/);
    const json = JSON.parse((await cli(['trace', 'replay', file, '--atlas', lowered, '--json'])).stdout);
    expect(json).toMatchObject({
      reproduced: true,
      resolutions: { recorded: 1, reproduced: 1 },
      not_rechecked: { action_decisions: 2, reason: 'their parameters are recorded only as hashes' },
      warnings: [],
    });
    const help = (await cli(['trace', 'replay', '--help'])).stdout;
    expect(help).toContain('What is not: action decisions');
    expect(help).toContain('only as a hash');
  });

  it('an atlas the trace names but no --atlas gives: a warning on stderr and in --json', async () => {
    const other = await atlasWith('other', (m) => {
      m.atlas_id = 'com.example.other';
    });
    const r = await cli(['trace', 'replay', file, '--atlas', other]);
    expect(r.code).toBe(1);
    const warning = "the trace's resolutions used atlas com.example.support, which no --atlas gives: they cannot be reproduced without it";
    expect(r.stderr).toBe(`cra trace replay: warning: ${warning}\n`);
    expect(r.stdout).toMatch(/; resolutions reproduced \(0 of 1\)\n/);
    expect(JSON.parse((await cli(['trace', 'replay', file, '--atlas', other, '--json'])).stdout).warnings).toEqual([warning]);
  });

  it('under an atlas that decides otherwise: not reproduced, each divergence listed (exit 1)', async () => {
    const atlas = join(tmp.dir, 'stricter');
    await cp(EXAMPLE_ATLAS, atlas, { recursive: true });
    const manifest = JSON.parse(await readFile(join(atlas, 'atlas.json'), 'utf8')) as { policies: unknown[] };
    manifest.policies.unshift({ policy_id: 'no-lookups', name: 'No lookups', type: 'deny', priority: 1000, actions: ['ticket.lookup'] });
    await writeFile(join(atlas, 'atlas.json'), JSON.stringify(manifest));
    const r = await cli(['trace', 'replay', file, '--atlas', atlas]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^NOT reproduced: \d+ divergence\(s\) \(\d+ events recorded, \d+ replayed\); resolutions reproduced \(0 of 1\)\n( {2}event \d+ .*\n)+2 action decision\(s\) not re-checked: .*\n$/,
    );
    const json = JSON.parse((await cli(['trace', 'replay', file, '--atlas', atlas, '--json'])).stdout);
    expect(json.reproduced).toBe(false);
    expect(json.divergences.length).toBeGreaterThan(0);
    expect(json.resolutions).toEqual({ recorded: 1, reproduced: 0 });
  });

  it('a tampered trace or a missing atlas: exit 1 with the reason; no --atlas: exit 2', async () => {
    const list = events();
    list[1]!.payload.extra = true;
    const tampered = join(tmp.dir, 'tampered.jsonl');
    await writeFile(tampered, jsonl(list));
    const t = await cli(['trace', 'replay', tampered, '--atlas', EXAMPLE_ATLAS]);
    expect(t).toMatchObject({ code: 1, stdout: '' });
    expect(t.stderr).toMatch(/^cra trace replay: .*hash_mismatch.*\[trace_invalid\]\n$/);
    const none = await cli(['trace', 'replay', file, '--atlas', join(tmp.dir, 'nowhere')]);
    expect(none.stderr).toMatch(/^cra trace replay: .*nowhere: no atlas at .* \[atlas_not_found\]\n$/);
    const usage = await cli(['trace', 'replay', file]);
    expect([usage.code, usage.stderr.split('\n')[0]]).toEqual([2, 'cra trace replay: missing --atlas <dir>']);
  });
});
