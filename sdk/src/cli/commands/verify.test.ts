/** `cra verify`: a trace the runtime wrote to a real file, verified by the real core; damaged copies. */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { cli, recordSession } from '../testing.ts';

let tmp: { dir: string; cleanup(): Promise<void> };
let file: string;
let lines: string[];
let head: string;

beforeAll(async () => {
  tmp = await tempDir();
  ({ file } = await recordSession(tmp.dir));
  lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  head = (JSON.parse(lines.at(-1)!) as { event_hash: string }).event_hash;
});
afterAll(async () => {
  await tmp.cleanup();
});

/** A copy of the trace with its lines as `edit` makes them. */
async function copy(name: string, edit: (lines: string[]) => string[]): Promise<string> {
  const path = join(tmp.dir, name);
  await writeFile(path, `${edit([...lines]).join('\n')}\n`);
  return path;
}

describe('cra verify', () => {
  it('valid: the count and the head (exit 0); --json is the verdict alone on stdout', async () => {
    expect(await cli(['verify', file])).toEqual({ code: 0, stdout: `valid: ${lines.length} events, head ${head}\n`, stderr: '' });
    const json = await cli(['verify', file, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ file, valid: true, length: lines.length, head_hash: head, warnings: [] });
    expect(json.stdout.split('\n')).toHaveLength(2);
  });

  it('one byte changed: INVALID at that event, with the reason and its code (exit 1)', async () => {
    const changed = await copy('changed.jsonl', (l) => {
      l[3] = l[3]!.replace('"sequence":3', '"sequence":3 ').replace(/"timestamp":"(\d)/, (_m, d: string) => `"timestamp":"${d === '1' ? '2' : '1'}`);
      return l;
    });
    expect(await cli(['verify', changed])).toEqual({
      code: 1,
      stdout: 'INVALID at event 3: its content does not match its event_hash (changed after it was recorded) (hash_mismatch)\n',
      stderr: '',
    });
    expect(JSON.parse((await cli(['verify', changed, '--json'])).stdout)).toEqual({ file: changed, valid: false, index: 3, reason: 'hash_mismatch' });
  });

  it('an event removed or repeated: the core tells which (sequence_gap with its detail)', async () => {
    const missing = await copy('missing.jsonl', (l) => [...l.slice(0, 2), ...l.slice(3)]);
    const r = await cli(['verify', missing]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^INVALID at event 2: .* \(sequence_gap, missing_events\)\n$/);
    const repeated = await copy('repeated.jsonl', (l) => [...l.slice(0, 3), l[2]!, ...l.slice(3)]);
    expect((await cli(['verify', repeated])).stdout).toMatch(/^INVALID at event 3: .*it repeats the event before \(sequence_gap, duplicated_event\)\n$/);
  });

  it('an empty file: a valid (empty) chain, exit 0, with a warning that a trace starts with session.started', async () => {
    const empty = join(tmp.dir, 'empty.jsonl');
    await writeFile(empty, '');
    const warning = `${empty} holds no event: a session's trace starts with session.started`;
    const r = await cli(['verify', empty]);
    expect(r).toEqual({ code: 0, stdout: `valid: 0 events, head ${'0'.repeat(64)}\n`, stderr: `cra verify: warning: ${warning}\n` });
    const json = await cli(['verify', empty, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ file: empty, valid: true, length: 0, head_hash: '0'.repeat(64), warnings: [warning] });
  });

  it('--head: the chain must end at that hash; cut short it fails, saying where it ends', async () => {
    expect((await cli(['verify', file, '--head', head])).code).toBe(0);
    const cut = await copy('cut.jsonl', (l) => l.slice(0, -1));
    const before = (JSON.parse(lines.at(-2)!) as { event_hash: string }).event_hash;
    expect(await cli(['verify', cut, '--head', head])).toEqual({
      code: 1,
      stdout: `INVALID: the chain is intact but ends at ${before} (${lines.length - 1} events), not at ${head} (head_mismatch)\n`,
      stderr: '',
    });
    expect(JSON.parse((await cli(['verify', cut, '--head', head, '--json'])).stdout)).toEqual({
      file: cut,
      valid: false,
      reason: 'head_mismatch',
      length: lines.length - 1,
      head_hash: before,
      expected_head: head,
    });
  });

  it('--progress on stderr only; --json stdout stays one object', async () => {
    const r = await cli(['verify', file, '--json', '--progress']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).valid).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`^reading .* \\(\\d+ bytes\\)…\\nverifying ${lines.length} events…\\n$`));
    expect((await cli(['verify', file])).stderr).toBe('');
  });

  it('a file that cannot be read or is not JSONL: exit 1 with the reason; usage mistakes: exit 2', async () => {
    const none = await cli(['verify', join(tmp.dir, 'none.jsonl')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^cra verify: cannot read .*none\.jsonl: ENOENT/);
    const junk = await copy('junk.jsonl', (l) => [...l.slice(0, 2), 'not json', ...l.slice(3)]);
    expect(await cli(['verify', junk])).toEqual({
      code: 1,
      stdout: 'INVALID at event 2: line 3: invalid JSON: invalid literal at offset 0 (invalid_json)\n',
      stderr: '',
    });
    expect(JSON.parse((await cli(['verify', junk, '--json'])).stdout)).toEqual({ file: junk, valid: false, index: 2, reason: 'invalid_json', message: 'invalid JSON: invalid literal at offset 0' });
    for (const argv of [['verify'], ['verify', file, '--head', 'abc'], ['verify', file, 'more'], ['verify', file, '--bogus']]) {
      const r = await cli(argv);
      expect([argv, r.code, r.stdout]).toEqual([argv, 2, '']);
      expect(r.stderr).toContain('Usage: cra verify <trace.jsonl>');
    }
  });
});
