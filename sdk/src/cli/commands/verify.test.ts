/**
 * `cra verify`: a trace the runtime wrote to a real file, verified by the real core; damaged copies. With signed
 * checkpoints: a runtime that signs, its store's checkpoint file, and copies cut, extended, forged or mixed up.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { generateSigningKey } from '../../proof/signer.ts';
import type { SigningKeyPair } from '../../proof/types.ts';
import { cli, recordSession, recordSignedSession } from '../testing.ts';

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

describe('cra verify with signed checkpoints', () => {
  let signed: { sessionId: string; file: string; checkpoints: string };
  let other: { sessionId: string; file: string; checkpoints: string };
  let key: SigningKeyPair;
  let stranger: SigningKeyPair;
  let traceLines: string[];
  let notes: string[];
  let sizes: number[];

  beforeAll(async () => {
    key = await generateSigningKey('cra.example.com/test');
    stranger = await generateSigningKey('cra.example.com/other');
    signed = await recordSignedSession(join(tmp.dir, 'signed'), key.signer);
    other = await recordSignedSession(join(tmp.dir, 'other'), key.signer);
    traceLines = (await readFile(signed.file, 'utf8')).trimEnd().split('\n');
    notes = (await readFile(signed.checkpoints, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as string);
    sizes = notes.map((n) => Number(n.split('\n')[1]));
  });

  /** A folder holding the trace as `edit` makes it and the checkpoint file as `editNotes` makes it, as a store keeps them. */
  async function stored(name: string, edit: (l: string[]) => string[], editNotes: (n: string[]) => string[] = (n) => n): Promise<string> {
    const dir = join(tmp.dir, name);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${signed.sessionId}.trace.jsonl`);
    await writeFile(file, `${edit([...traceLines]).join('\n')}\n`);
    await writeFile(join(dir, `${signed.sessionId}.checkpoints.jsonl`), editNotes([...notes]).map((n) => `${JSON.stringify(n)}\n`).join(''));
    return file;
  }

  const label = () => `${key.name}+${key.key_id}`;
  const beside = () => `cra verify: checking the checkpoints in ${signed.checkpoints} (beside the trace; --checkpoint <file> for others)\n`;

  it('--checkpoint reads a note with blank lines after it (jq -r > file) and checkpoints as the server lists them', async () => {
    const dir = join(tmp.dir, 'forms');
    await mkdir(dir, { recursive: true });
    const newest = notes.at(-1)!;
    const listed = notes.map((note, i) => ({ note, session_id: signed.sessionId, size: sizes[i], root: 'r', time: null }));
    const forms: Array<[string, string, number]> = [
      ['jq.txt', `${newest}\n`, 1],
      ['edited.txt', `${newest}\n\n\n`, 1],
      ['one.json', JSON.stringify(listed.at(-1)), 1],
      ['array.json', JSON.stringify(listed), notes.length],
      ['items.json', JSON.stringify({ items: listed }), notes.length],
    ];
    for (const [name, text, count] of forms) {
      const file = join(dir, name);
      await writeFile(file, text);
      const r = await cli(['verify', signed.file, '--checkpoint', file, '--key', key.verifier]);
      expect([name, r.code, r.stdout]).toEqual([name, 0, expect.stringContaining(`checkpoints: ${count} verified`)]);
    }
  });

  it('the store signed checkpoints as the session went (every 3 events and at its end), the newest covering the whole trace', () => {
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes.at(-1)).toBe(traceLines.length);
  });

  it('uses the checkpoint file beside the trace (and says so); without --key: roots checked, signatures not', async () => {
    const head = (JSON.parse(traceLines.at(-1)!) as { event_hash: string }).event_hash;
    expect(await cli(['verify', signed.file])).toEqual({
      code: 0,
      stdout: `valid: ${traceLines.length} events, head ${head}; checkpoints: ${notes.length} checked, roots match (newest: size ${traceLines.length}); signatures not checked (no --key)\n`,
      stderr: beside(),
    });
  });

  it('with --key: every checkpoint verified, the newest and its key named; --json carries each', async () => {
    const r = await cli(['verify', signed.file, '--key', key.verifier]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`; checkpoints: ${notes.length} verified \\(newest: size ${traceLines.length}, key ${label().replace(/[.+]/g, '\\$&')}\\)\\n$`));
    const json = await cli(['verify', signed.file, '--key', key.verifier, '--json']);
    const out = JSON.parse(json.stdout);
    expect(out).toMatchObject({ valid: true, length: traceLines.length, warnings: [] });
    expect(out.checkpoints).toMatchObject({ file: signed.checkpoints, source: 'beside', count: notes.length, signatures_checked: true, keys: [key.verifier] });
    expect(out.checkpoints.checked.map((c: { checkpoint: number; size: number; key: string }) => [c.checkpoint, c.size, c.key])).toEqual(
      sizes.map((s, i) => [i + 1, s, key.verifier]),
    );
    expect(out.checkpoints.newest.size).toBe(traceLines.length);
  });

  it('--key from a file of several keys (one per line, comments skipped); --checkpoint with one note’s text', async () => {
    const keys = join(tmp.dir, 'trusted.pub');
    await writeFile(keys, `# trusted signers\n${stranger.verifier}\n\n${key.verifier}\n`);
    expect((await cli(['verify', signed.file, '--key', keys])).stdout).toContain(`checkpoints: ${notes.length} verified`);
    const one = join(tmp.dir, 'one.note');
    await writeFile(one, notes[0]!);
    const r = await cli(['verify', signed.file, '--checkpoint', one, '--key', key.verifier]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`checkpoints: 1 verified (newest: size ${sizes[0]}, key ${label()}; the last ${traceLines.length - sizes[0]!} event(s) are after it)`);
  });

  it('a trace cut short beside its checkpoints: INVALID, the checkpoint covers events the trace no longer holds (with or without --key)', async () => {
    const cut = await stored('cut', (l) => l.slice(0, -1));
    const n = notes.length;
    const expected = `INVALID checkpoint ${n} of ${n} (${cut.replace('.trace.', '.checkpoints.')}): it covers ${traceLines.length} events, the trace holds ${traceLines.length - 1}: events were cut from the trace's end (trace_truncated)\n`;
    expect(await cli(['verify', cut])).toMatchObject({ code: 1, stdout: expected });
    expect(await cli(['verify', cut, '--key', key.verifier])).toMatchObject({ code: 1, stdout: expected });
    const json = JSON.parse((await cli(['verify', cut, '--json'])).stdout);
    expect(json).toMatchObject({ valid: false, reason: 'trace_truncated', checkpoint: n, size: traceLines.length, length: traceLines.length - 1 });
    // The chain alone cannot tell: it is intact.
    const alone = join(tmp.dir, 'cut-alone.jsonl');
    await writeFile(alone, `${traceLines.slice(0, -1).join('\n')}\n`);
    expect((await cli(['verify', alone])).code).toBe(0);
    expect((await cli(['verify', alone, '--checkpoint', signed.checkpoints])).code).toBe(1);
  });

  it('a trace extended past its newest checkpoint is fine: the events after it are said', async () => {
    const extended = await stored('extended', (l) => l, (n) => n.slice(0, 1));
    const r = await cli(['verify', extended, '--key', key.verifier]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`checkpoints: 1 verified (newest: size ${sizes[0]}, key ${label()}; the last ${traceLines.length - sizes[0]!} event(s) are after it)`);
  });

  it('an event changed: the chain breaks first (hash_mismatch), the checkpoints are not reached', async () => {
    const changed = await stored('changed', (l) => {
      l[2] = l[2]!.replace('"sequence":2', '"sequence":2 ').replace(/"timestamp":"(\d)/, (_m, d: string) => `"timestamp":"${d === '1' ? '2' : '1'}`);
      return l;
    });
    expect(await cli(['verify', changed, '--key', key.verifier])).toMatchObject({
      code: 1,
      stdout: 'INVALID at event 2: its content does not match its event_hash (changed after it was recorded) (hash_mismatch)\n',
    });
  });

  it('a checkpoint whose root was changed: root_mismatch without --key, bad_signature with it', async () => {
    const forge = (n: string[]) => {
      const lines = n[0]!.split('\n');
      lines[2] = Buffer.alloc(32, 7).toString('base64');
      n[0] = lines.join('\n');
      return n;
    };
    const file = await stored('forged-root', (l) => l, forge);
    const r = await cli(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^INVALID checkpoint 1 of ${notes.length} \\(.*\\): it fixes the root ${'07'.repeat(32)} of ${sizes[0]} events, the trace's first ${sizes[0]} events have the root [0-9a-f]{64}: they are not the events it covers \\(root_mismatch\\)\\n$`));
    const signedCheck = await cli(['verify', file, '--key', key.verifier, '--json']);
    expect(signedCheck.code).toBe(1);
    expect(JSON.parse(signedCheck.stdout)).toMatchObject({ valid: false, reason: 'bad_signature', checkpoint: 1 });
  });

  it('a checkpoint of another session: wrong_session, even signed by the trusted key', async () => {
    const r = await cli(['verify', signed.file, '--checkpoint', other.checkpoints, '--key', key.verifier]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`INVALID checkpoint 1 of `);
    expect(r.stdout).toContain(`it is a checkpoint of session ${other.sessionId}, the trace is of session ${signed.sessionId} (wrong_session)\n`);
  });

  it('a key that did not sign them: unknown_key (exit 1)', async () => {
    const r = await cli(['verify', signed.file, '--key', stranger.verifier, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, reason: 'unknown_key', checkpoint: 1, checkpoints: { signatures_checked: true, keys: [stranger.verifier] } });
    expect((await cli(['verify', signed.file, '--key', stranger.verifier])).stdout).toMatch(/^INVALID checkpoint 1 of \d+ \(.*\): .* \(unknown_key\)\n$/);
  });

  it('a checkpoint file with a damaged line, or an empty one asked for: exit 1 naming it; a torn last line is left out with a warning', async () => {
    const damaged = join(tmp.dir, 'damaged.checkpoints.jsonl');
    await writeFile(damaged, `${JSON.stringify(notes[0])}\nnot json\n`);
    expect(await cli(['verify', signed.file, '--checkpoint', damaged])).toMatchObject({ code: 1, stdout: '', stderr: `cra verify: ${damaged}: line 2 is not a signed checkpoint as a JSON string\n` });
    const torn = join(tmp.dir, 'torn.checkpoints.jsonl');
    await writeFile(torn, `${JSON.stringify(notes[0])}\n${JSON.stringify(notes[1]).slice(0, 20)}`);
    const r = await cli(['verify', signed.file, '--checkpoint', torn, '--key', key.verifier]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`cra verify: warning: ${torn}: line 2 is cut short (a write that did not finish) and is left out\n`);
    const empty = join(tmp.dir, 'empty.note');
    await writeFile(empty, '');
    expect(await cli(['verify', signed.file, '--checkpoint', empty])).toMatchObject({ code: 1, stderr: `cra verify: ${empty} holds no checkpoint\n` });
  });

  it('--key with no checkpoint to check: exit 1; a signer key or a value that is no key: usage error (exit 2)', async () => {
    expect(await cli(['verify', file, '--key', key.verifier])).toMatchObject({
      code: 1,
      stderr: `cra verify: --key is given but there is no checkpoint to check: no --checkpoint <file>, and no <id>.checkpoints.jsonl beside ${file}\n`,
    });
    const secret = await cli(['verify', signed.file, '--key', key.signer]);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/^cra verify: --key ".*" is a signer key, which must stay secret: --key takes its verifier key \(cra key verifier <signer key \| file> prints it\)\n/);
    const junk = await cli(['verify', signed.file, '--key', 'no-such-file-or-key']);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/^cra verify: --key takes a verifier key \(<name>\+<key id>\+<base64>\) or a file of them: --key "no-such-file-or-key" is neither/);
  });
});
