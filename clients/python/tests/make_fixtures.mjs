/**
 * The SDK's side of the Python verifier's comparison tests: real traces, checkpoints and receipts from a runtime
 * that signs, and the SDK's own verdicts on whatever the tests hand it back (as made, or tampered with).
 *
 *   node --import tsx clients/python/tests/make_fixtures.mjs generate <dir>
 *     A runtime with `signing` (a checkpoint every 3 events and at session end) and a JSONL store in <dir>/traces
 *     runs a support-desk session (resolve, actions, an approval, a denial) and ends it. Prints JSON: the paths of
 *     the trace and checkpoints files, the verifier key, a second (unrelated) verifier key, the session id, the
 *     execution ids and one receipt per execution.
 *
 *   node --import tsx clients/python/tests/make_fixtures.mjs judge < cases.json
 *     Reads `[{kind, ...}]` and prints one SDK verdict per case (an error thrown is `{error: code}`):
 *     `{kind: "trace", text}` → verifyTrace; `{kind: "checkpoint", note, keys}` → verifyCheckpoint;
 *     `{kind: "receipt", receipt, keys}` → verifyReceipt; `{kind: "tree", text, size}` → traceTree;
 *     `{kind: "numbers", values}` → the ECMAScript text of each number; `{kind: "cli", argv}` → what `cra <argv>`
 *     answers (`{code, stdout, stderr}`), for the command lines to be compared.
 */

import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sdk = (p) => import(join(root, 'sdk', 'src', p));

const [{ createRuntime, verifyTrace }, { JsonlStore, loadAtlasDir }, { generateSigningKey }, { verifyCheckpoint, verifyReceipt }, { traceTree }, { cli }] =
  await Promise.all([sdk('index.ts'), sdk('node.ts'), sdk('proof/signer.ts'), sdk('proof/verify.ts'), sdk('proof/tools.ts'), sdk('cli/testing.ts')]);

async function generate(dir) {
  const key = await generateSigningKey('cra.example');
  const other = await generateSigningKey('cra.example');
  const rt = await createRuntime({ storage: new JsonlStore({ dir: join(dir, 'traces') }), signing: { key: key.signer, every: 3 } });
  try {
    await rt.loadAtlas(await loadAtlasDir(join(root, 'examples', 'atlases', 'support')));
    const session = await rt.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042: double charge' });
    await session.resolve({ requiredCapabilities: ['tickets.read', 'tickets.write', 'billing.refund'] });
    const executions = [];
    const lookup = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: 'T-10042' } });
    await session.complete(lookup, { result: { ticket_id: 'T-10042', status: 'open' }, durationMs: 40 });
    executions.push(lookup.execution_id);
    const refund = await session.requestAction({
      actionId: 'refund.issue',
      parameters: { customer_id: 'c-7', payment_id: 'pay-991', amount: 49.5, currency: 'USD', reason: 'charged twice' },
    });
    const approved = await session.approve(refund, { approver: 'lead@example.com' });
    await session.complete(approved, { result: { refund_id: 'rf-1' } });
    executions.push(refund.execution_id);
    const del = await session.requestAction({ actionId: 'customer.delete', parameters: { customer_id: 'c-7' } });
    executions.push(del.execution_id);
    await session.end('completed');
    await rt.flush();
    const receipts = {};
    for (const id of executions) receipts[id] = await rt.receipt(session.id, id);
    return {
      session_id: session.id,
      trace: join(dir, 'traces', `${session.id}.trace.jsonl`),
      checkpoints: join(dir, 'traces', `${session.id}.checkpoints.jsonl`),
      verifier: key.verifier,
      signer: key.signer,
      other_verifier: other.verifier,
      executions,
      receipts,
    };
  } finally {
    await rt.close();
  }
}

async function judge(c) {
  try {
    switch (c.kind) {
      case 'trace':
        return await verifyTrace(c.text);
      case 'checkpoint':
        return await verifyCheckpoint(c.note, { keys: c.keys });
      case 'receipt':
        return await verifyReceipt(c.receipt, { keys: c.keys });
      case 'tree':
        return await traceTree(c.text, c.size === undefined ? {} : { size: c.size });
      case 'numbers':
        return c.values.map((v) => String(v));
      case 'cli':
        return await cli(c.argv);
      default:
        return { error: `unknown case kind ${c.kind}` };
    }
  } catch (err) {
    return { error: err?.code ?? String(err), message: err?.message };
  }
}

const [command, arg] = process.argv.slice(2);
if (command === 'generate') {
  console.log(JSON.stringify(await generate(arg)));
} else if (command === 'judge') {
  const cases = JSON.parse(readFileSync(0, 'utf8'));
  const out = [];
  for (const c of cases) out.push(await judge(c));
  console.log(JSON.stringify(out));
} else {
  console.error('usage: make_fixtures.mjs generate <dir> | judge < cases.json');
  process.exit(2);
}
