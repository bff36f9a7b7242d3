/**
 * `cra receipt`: receipts of a trace a signing runtime wrote, under its stored checkpoints or a checkpoint signed on
 * demand, and their offline check, by the real core.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { generateSigningKey } from '../../proof/signer.ts';
import type { SigningKeyPair } from '../../proof/types.ts';
import { RECEIPT_USAGE, RECEIPT_VERIFY_USAGE } from '../commands.ts';
import { cli, recordSignedSession } from '../testing.ts';

let tmp: { dir: string; cleanup(): Promise<void> };
let key: SigningKeyPair;
let sessionId: string;
let file: string;
let checkpoints: string;
let executionId: string;
/** The events of the execution: their sequences. */
let executionEvents: number[];
let lines: string[];
let notes: string[];
let sizes: number[];

beforeAll(async () => {
  tmp = await tempDir();
  key = await generateSigningKey('cra.example.com/test');
  ({ sessionId, executionId, file, checkpoints } = await recordSignedSession(tmp.dir, key.signer));
  lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  executionEvents = lines.map((l) => JSON.parse(l) as { sequence: number; payload: { execution_id?: string } }).filter((e) => e.payload.execution_id === executionId).map((e) => e.sequence);
  notes = (await readFile(checkpoints, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as string);
  sizes = notes.map((n) => Number(n.split('\n')[1]));
});
afterAll(async () => {
  await tmp.cleanup();
});

async function save(name: string, text: string): Promise<string> {
  const path = join(tmp.dir, name);
  await writeFile(path, text);
  return path;
}

/** The trace (first `events` lines) and checkpoint file (`keep` of its notes) in a folder, as a store keeps them. */
async function stored(name: string, events: number, keep: (n: string[]) => string[]): Promise<string> {
  const dir = join(tmp.dir, name);
  await mkdir(dir, { recursive: true });
  const trace = join(dir, `${sessionId}.trace.jsonl`);
  await writeFile(trace, `${lines.slice(0, events).join('\n')}\n`);
  await writeFile(join(dir, `${sessionId}.checkpoints.jsonl`), keep([...notes]).map((n) => `${JSON.stringify(n)}\n`).join(''));
  return trace;
}

describe('cra receipt', () => {
  it('under the newest stored checkpoint beside the trace; checked offline with the verifier key', async () => {
    expect(executionEvents.length).toBeGreaterThan(1);
    const r = await cli(['receipt', file, executionId]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const receipt = JSON.parse(r.stdout);
    expect(receipt).toMatchObject({ receipt_version: '1', session_id: sessionId, execution_id: executionId, checkpoint: notes.at(-1) });
    expect(receipt.entries.map((e: { index: number }) => e.index)).toEqual(executionEvents);
    const saved = await save('r.json', r.stdout);
    expect(await cli(['receipt', 'verify', saved, '--key', key.verifier])).toEqual({
      code: 0,
      stdout: `valid receipt: execution ${executionId}, ${executionEvents.length} events, checkpoint size ${sizes.at(-1)}, key ${key.name}+${key.key_id}\n`,
      stderr: '',
    });
    const json = JSON.parse((await cli(['receipt', 'verify', saved, '--key', key.verifier, '--json'])).stdout);
    expect(json).toEqual({ file: saved, valid: true, session_id: sessionId, execution_id: executionId, size: sizes.at(-1), root: expect.stringMatching(/^[0-9a-f]{64}$/), events: executionEvents.length, key: key.verifier });
  });

  it('a trace cut short: the checkpoint beyond it is warned about; the newest one it still reaches is used', async () => {
    const cut = await stored('cut', lines.length - 1, (n) => n);
    const r = await cli(['receipt', cut, executionId, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`covers ${lines.length} events, the trace holds ${lines.length - 1} (cut short?)`);
    const covering = sizes.filter((s) => s <= lines.length - 1 && s > Math.max(...executionEvents));
    expect(JSON.parse(r.stdout).checkpoint).toBe(notes[sizes.indexOf(covering.at(-1)!)]);
  });

  it('no checkpoint covers the execution and no signing key: refused naming both options (exit 1)', async () => {
    const older = await stored('older', lines.length, (n) => n.slice(0, 1));
    expect(sizes[0]).toBeLessThanOrEqual(Math.max(...executionEvents));
    expect(await cli(['receipt', older, executionId])).toEqual({
      code: 1,
      stdout: '',
      stderr: `cra receipt: no signed checkpoint covers execution ${executionId} (its last event is event ${Math.max(...executionEvents)}; the newest checkpoint in ${older.replace('.trace.', '.checkpoints.')} covers ${sizes[0]} events): give --checkpoint <file> with one that does, or --signing-key <signer key | file> (or CRA_SIGNING_KEY) to sign one\n`,
    });
  });

  it('with --signing-key (a file) or CRA_SIGNING_KEY: a checkpoint of the whole trace is signed for it, and verifies', async () => {
    const older = await stored('older-signed', lines.length, (n) => n.slice(0, 1));
    const keyFile = await save('signer.key', `${key.signer}\n`);
    const r = await cli(['receipt', older, executionId, '--signing-key', keyFile]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`cra receipt: signed a checkpoint of ${lines.length} events (no checkpoint given covers the execution)\n`);
    const saved = await save('signed.json', r.stdout);
    expect((await cli(['receipt', 'verify', saved, '--key', key.verifier])).code).toBe(0);
    const env = await cli(['receipt', older, executionId], { env: { CRA_SIGNING_KEY: key.signer } });
    expect(env.code).toBe(0);
    expect(JSON.parse(env.stdout).execution_id).toBe(executionId);
    const verifierAsSigner = await cli(['receipt', older, executionId, '--signing-key', await save('v.pub', key.verifier)]);
    expect(verifierAsSigner).toMatchObject({ code: 1, stderr: `cra receipt: ${join(tmp.dir, 'v.pub')} holds no signer key (PRIVATE+KEY+…): a verifier key cannot sign\n` });
  });

  it('a covering checkpoint whose root is not the trace’s: refused, not replaced by a new signature (exit 1)', async () => {
    const forged = await stored('forged', lines.length, (n) => {
      const l = n.at(-1)!.split('\n');
      l[2] = Buffer.alloc(32, 7).toString('base64');
      n[n.length - 1] = l.join('\n');
      return n;
    });
    const r = await cli(['receipt', forged, executionId, '--signing-key', key.signer]);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `cra receipt: ${forged}: the checkpoint's root is not the root of this trace's first ${lines.length} events (at /checkpoint) [checkpoint_invalid]\n`,
    });
  });

  it('an execution the trace does not hold: exit 1', async () => {
    const none = '01a23d38-0000-7000-8000-000000000000';
    expect(await cli(['receipt', file, none])).toEqual({ code: 1, stdout: '', stderr: `cra receipt: no event of execution ${none} in ${file} (execution_not_found)\n` });
  });

  it('verify refuses a receipt whose event was changed, one checked with another key, and needs --key', async () => {
    const receipt = JSON.parse((await cli(['receipt', file, executionId])).stdout);
    receipt.entries[0].event.payload.action_id = 'refund.issue';
    const changed = await save('changed.json', JSON.stringify(receipt));
    expect(await cli(['receipt', 'verify', changed, '--key', key.verifier])).toEqual({
      code: 1,
      stdout: "INVALID receipt: the event's contents do not hash to its event_hash (event_hash_mismatch at /entries/0/event)\n",
      stderr: '',
    });
    const intact = await save('intact.json', (await cli(['receipt', file, executionId])).stdout);
    const stranger = await generateSigningKey('cra.example.com/other');
    const unknown = await cli(['receipt', 'verify', intact, '--key', stranger.verifier, '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ valid: false, reason: 'unknown_key' });
    expect(await cli(['receipt', 'verify', intact])).toEqual({
      code: 2,
      stdout: '',
      stderr: `cra receipt verify: missing --key <verifier key | file>: a receipt is only as good as its checkpoint’s signature, checked with the log’s verifier key\n\n${RECEIPT_VERIFY_USAGE}`,
    });
  });

  it('usage: --help for both; a missing argument is a usage error', async () => {
    expect(await cli(['receipt', '--help'])).toEqual({ code: 0, stdout: RECEIPT_USAGE, stderr: '' });
    expect(await cli(['receipt', 'verify', '-h'])).toEqual({ code: 0, stdout: RECEIPT_VERIFY_USAGE, stderr: '' });
    expect(await cli(['receipt', file])).toEqual({ code: 2, stdout: '', stderr: `cra receipt: missing <execution-id>\n\n${RECEIPT_USAGE}` });
  });
});
