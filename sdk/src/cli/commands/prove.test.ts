/** `cra prove`: proofs over a trace a signing runtime wrote, made and checked by the real core against its checkpoints. */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { generateSigningKey } from '../../proof/signer.ts';
import type { SigningKeyPair } from '../../proof/types.ts';
import { PROVE_USAGE } from '../commands.ts';
import { cli, recordSignedSession } from '../testing.ts';

let tmp: { dir: string; cleanup(): Promise<void> };
let key: SigningKeyPair;
let file: string;
let checkpoints: string;
let lines: string[];
let sizes: number[];

beforeAll(async () => {
  tmp = await tempDir();
  key = await generateSigningKey('cra.example.com/test');
  ({ file, checkpoints } = await recordSignedSession(tmp.dir, key.signer));
  lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  sizes = (await readFile(checkpoints, 'utf8')).trimEnd().split('\n').map((l) => Number((JSON.parse(l) as string).split('\n')[1]));
});
afterAll(async () => {
  await tmp.cleanup();
});

async function save(name: string, text: string): Promise<string> {
  const path = join(tmp.dir, name);
  await writeFile(path, text);
  return path;
}

describe('cra prove', () => {
  it('an inclusion proof: JSON (indented; one line with --json), of the whole trace or of --size events', async () => {
    const r = await cli(['prove', file, '3']);
    expect(r.code).toBe(0);
    const proof = JSON.parse(r.stdout);
    expect(proof).toMatchObject({ type: 'inclusion', index: 3, size: lines.length, event_hash: JSON.parse(lines[3]!).event_hash });
    expect(r.stdout.split('\n').length).toBeGreaterThan(3);
    const small = await cli(['prove', file, '3', '--size', String(sizes[0]), '--json']);
    expect(small.stdout.split('\n')).toHaveLength(2);
    expect(JSON.parse(small.stdout)).toMatchObject({ type: 'inclusion', index: 3, size: sizes[0] });
  });

  it('checked against the store’s checkpoint file: the one of its size is taken, signed by the key; with the event', async () => {
    const proof = await save('p.json', (await cli(['prove', file, '3', '--size', String(sizes[0])])).stdout);
    const event = await save('e.json', lines[3]!);
    const r = await cli(['prove', '--verify', proof, '--event', event, '--checkpoint', checkpoints, '--key', key.verifier]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`^valid inclusion proof: event 3 \\(the one given\\) is in the tree of ${sizes[0]} events, root [0-9a-f]{64}; the root is fixed by a checkpoint signed by ${key.name}\\+${key.key_id}\\n$`));
    const alone = await cli(['prove', '--verify', proof]);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain('not checked against a signed checkpoint (--checkpoint with --key): it shows only that its hashes lead to this root');
  });

  it('refusals: another event, a tree the checkpoint does not fix, a key that did not sign it (exit 1)', async () => {
    const proof = await save('p2.json', (await cli(['prove', file, '3', '--size', String(sizes[0])])).stdout);
    const wrong = await save('e2.json', lines[4]!);
    expect(await cli(['prove', '--verify', proof, '--event', wrong])).toMatchObject({ code: 1, stdout: 'INVALID proof: the proof is about another event (wrong_event at /event)\n' });
    const note = await save('newest.note', JSON.parse((await readFile(checkpoints, 'utf8')).trimEnd().split('\n').at(-1)!) as string);
    const mismatch = await cli(['prove', '--verify', proof, '--checkpoint', note, '--key', key.verifier, '--json']);
    expect(mismatch.code).toBe(1);
    expect(JSON.parse(mismatch.stdout)).toMatchObject({ file: proof, valid: false, reason: 'checkpoint_mismatch', path: '/checkpoint' });
    const stranger = await generateSigningKey('cra.example.com/other');
    const unknown = await cli(['prove', '--verify', proof, '--checkpoint', checkpoints, '--key', stranger.verifier]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/^INVALID proof: .* \(unknown_key at \/checkpoint\)\n$/);
  });

  it('a consistency proof between two checkpoints, checked against both', async () => {
    const r = await cli(['prove', file, '--first', String(sizes[0]), '--second', String(sizes[1])]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'consistency', first: sizes[0], second: sizes[1] });
    const proof = await save('c.json', r.stdout);
    const ok = await cli(['prove', '--verify', proof, '--checkpoint', checkpoints, '--first-checkpoint', checkpoints, '--key', key.verifier]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^valid consistency proof: the tree of the first ${sizes[0]} events is a prefix of the tree of the first ${sizes[1]}, root [0-9a-f]{64}; the root is fixed by a checkpoint signed by `));
  });

  it('an event the trace does not hold, an unreadable proof: exit 1; usage mistakes: exit 2', async () => {
    const beyond = await cli(['prove', file, String(lines.length)]);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain(`no event ${lines.length} (at /index) [invalid_request]`);
    const junk = await save('junk.json', 'not json');
    expect((await cli(['prove', '--verify', junk])).stderr).toMatch(/^cra prove: .*junk\.json is not a proof \(JSON\)/);
    const cases: Array<[string[], string]> = [
      [['prove'], 'missing <trace.jsonl> (or --verify <proof.json>)'],
      [['prove', file], 'say what to prove: <index> (inclusion) or --first <m> (consistency)'],
      [['prove', file, 'x'], '<index> takes a number of events (a non-negative integer)'],
      [['prove', file, '1', '--first', '0'], 'an inclusion proof (<index>) takes no --first or --second'],
      [['prove', file, '--first', '1', '--size', '2'], 'a consistency proof (--first) takes --second, not --size'],
      [['prove', file, '1', '--key', key.verifier], '--key goes with --verify <proof.json>'],
      [['prove', '--verify', 'p.json', '--checkpoint', checkpoints], '--checkpoint needs --key <verifier key | file>: a checkpoint counts for its signature'],
      [['prove', '--verify', 'p.json', '--key', key.verifier], '--key checks the signature of a checkpoint: give --checkpoint <file>'],
      [['prove', '--verify', 'p.json', file], `--verify takes no trace: unexpected argument ${JSON.stringify(file)}`],
    ];
    expect(await cli(['prove', '--help'])).toEqual({ code: 0, stdout: PROVE_USAGE, stderr: '' });
    for (const [argv, message] of cases) expect([argv, await cli(argv)]).toEqual([argv, { code: 2, stdout: '', stderr: `cra prove: ${message}\n\n${PROVE_USAGE}` }]);
  });
});
