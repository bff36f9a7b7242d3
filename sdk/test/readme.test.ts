/**
 * The README's quick start must run as written: this test takes the code block from README.md, saves it at the
 * repository root and runs it with tsx in a child process. The README speaks to an installed package, so the only
 * rewriting is of what the package would resolve (`forCheckout`): the import specifiers `cra-runtime`,
 * `cra-runtime/node` and `cra-runtime/ai-sdk` become the sources they are built from (no `dist/` needed), and
 * `atlases/support` — what `npx cra atlas init atlases/support` copies — the example atlas it copies. The blocks
 * of "Agent integrations" run the same way, against the scripted models of `examples/agents/` (the AI SDK block's
 * hosted model replaced by the scripted one), and the block of the SDK README's "Sessions over time" on a folder of
 * real traces.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { forCheckout } from '../../test/support/snippets.ts';
import { tempDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function quickStart(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('## Quick start')[1] ?? '';
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block?.[1]) throw new Error('README.md has no ts block under "## Quick start"');
  return forCheckout(block[1]);
}

describe('README server walk-through', () => {
  it('is the script that server/src/walkthrough.test.ts runs against `npm start`', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = /```bash\n([\s\S]*?)```/.exec(readme.split('## Server')[1] ?? '');
    const script = await readFile(join(ROOT, 'server', 'walkthrough.sh'), 'utf8');
    expect(block?.[1]).toBe(script.split('set -euo pipefail\n')[1]);
  });
});

describe('SDK README: sessions over time', () => {
  it('runs as written on a folder of stored sessions, reading none of their traces', async () => {
    const readme = await readFile(join(ROOT, 'sdk', 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme.split('## Sessions over time')[1] ?? '')?.[1];
    if (!block) throw new Error('sdk/README.md has no ts block under "## Sessions over time"');
    const { dir, cleanup } = await tempDir();
    // Three sessions, one of them ended, stored by a runtime before the block runs on the same folder.
    const { createRuntime } = await import('../src/index.ts');
    const { jsonlStore } = await import('../src/node.ts');
    const before = await createRuntime({ storage: jsonlStore({ dir, fsyncIntervalMs: 0 }) });
    for (let i = 0; i < 3; i++) {
      const s = await before.createSession({ agentId: 'a', goal: `g${i}` });
      if (i === 0) await s.end('completed');
    }
    await before.close();
    const file = join(ROOT, `.sessions-${randomUUID()}.ts`);
    await writeFile(file, block.replace("'.data/traces'", JSON.stringify(dir)));
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 60_000 });
      expect(stdout.trim()).toBe('2 active of 3 known, 0 in memory');
    } finally {
      await rm(file, { force: true });
      await cleanup();
    }
  });
});

describe('README proofs', () => {
  it('runs as written: a receipt verifies with the public key, and not once an event is edited', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme.split('## Proofs')[1] ?? '')?.[1];
    if (!block) throw new Error('README.md has no ts block under "## Proofs"');
    const file = join(ROOT, `.proofs-${randomUUID()}.mts`);
    await writeFile(file, forCheckout(block));
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 60_000 });
      expect(stdout.trim().split('\n')).toEqual(['true', 'false']);
    } finally {
      await rm(file, { force: true });
    }
  });
});

describe('README quick start', () => {
  it('imports the package, not the sources', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme.split('## Quick start')[1] ?? '')?.[1] ?? '';
    expect(block).toContain("from 'cra-runtime'");
    expect(block).toContain("from 'cra-runtime/node'");
    expect(block).not.toMatch(/sdk\/src|examples\//);
    expect(block.trim().split('\n').at(-1)).toBe('await runtime.close();');
  });

  it('runs as written and prints the refund gate, a scope violation, a pending approval and a valid chain', async () => {
    const file = join(ROOT, `.quickstart-${randomUUID()}.mts`);
    await writeFile(file, await quickStart());
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 60_000 });
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toBe('partial Approval required for: refund.issue');
      expect(lines[1]).toBe('violated `amount` exceeds the maximum 500');
      expect(lines[2]).toBe('pending_approval');
      expect(stdout).toMatch(/valid: true,\s+length: 15,/);
    } finally {
      await rm(file, { force: true });
    }
  });
});

/**
 * `## Agent integrations`: its first ts block (the guard) and the ts block of each framework subsection. Each
 * framework block continues the guard block, as the README says: the two are saved together at the repository root
 * and run with tsx, the official clients pointed at the examples' scripted models on loopback by the environment
 * variables they read (`OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`).
 */
describe('README agent integrations', () => {
  // The allowed actions the agent has handlers for.
  const ALLOWED_TOOLS = ['ticket_lookup', 'refund_issue'];

  async function blocks(): Promise<{ setup: string; sub: Map<string, string> }> {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const section = (readme.split('\n## Agent integrations\n')[1] ?? '').split('\n## ')[0]!;
    const [intro = '', ...subsections] = section.split('\n### ');
    const setup = /```ts\n([\s\S]*?)```/.exec(intro)?.[1];
    if (!setup) throw new Error('README.md has no ts block under "## Agent integrations"');
    const sub = new Map<string, string>();
    for (const s of subsections) {
      const code = /```ts\n([\s\S]*?)```/.exec(s)?.[1];
      if (code) sub.set(s.split('\n')[0]!.trim(), code);
    }
    return { setup, sub };
  }

  // The AI SDK block's hosted model, and the offline stand-in that answers in its place here.
  const AI_SDK_MODEL = "import { openai } from '@ai-sdk/openai';\n\nconst model = openai('gpt-4o-mini');";
  const SCRIPTED_MODEL = `import { scriptedModel } from '${join(ROOT, 'examples/agents/ai-sdk/scripted-model.ts')}';\n\nconst model = scriptedModel();`;

  it('the AI SDK block names a hosted model, which the test replaces', async () => {
    const { sub } = await blocks();
    expect(sub.get('AI SDK')).toContain(AI_SDK_MODEL);
  });

  /** Runs the guard block followed by the subsection's block; answers stdout. */
  async function runBlock(name: string, env: Record<string, string> = {}): Promise<string> {
    const { setup, sub } = await blocks();
    const code = sub.get(name);
    if (!code) throw new Error(`README.md has no ts block under "### ${name}"`);
    const file = join(ROOT, `.agents-${randomUUID()}.ts`);
    await writeFile(file, forCheckout(`${setup}\n${code}`).replace(AI_SDK_MODEL, SCRIPTED_MODEL));
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const k of ['OPENAI_ORG_ID', 'OPENAI_PROJECT_ID', 'ANTHROPIC_AUTH_TOKEN']) delete childEnv[k];
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 60_000, env: childEnv });
      return stdout;
    } finally {
      await rm(file, { force: true });
    }
  }

  /** The guard block's own two lines: the lookup's result, then the over-limit refund's refusal. */
  function expectGuardLines(stdout: string): string[] {
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe("{ ticket_id: 'T-10042', status: 'open' }");
    expect(lines[1]).toBe('scope_violation `amount` exceeds the maximum 500');
    return lines.slice(2);
  }

  it('has the guard block and one block per framework (OpenAI, Anthropic, AI SDK)', async () => {
    const { sub } = await blocks();
    expect([...sub.keys()].slice(0, 3)).toEqual(['OpenAI', 'Anthropic', 'AI SDK']);
  });

  it('OpenAI: runs as written with the official client against the scripted Chat Completions endpoint', async () => {
    const { startFakeModel } = await import('../../examples/agents/openai/fake-model.ts');
    const fake = await startFakeModel();
    try {
      const stdout = await runBlock('OpenAI', { OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'test' });
      const rest = expectGuardLines(stdout);
      expect(rest).toHaveLength(1);
      expect(rest[0]).toBe('Ticket T-10042 is open. I could not refund 900 USD: `amount` exceeds the maximum 500 (scope_violation).');
      expect(fake.requests).toHaveLength(2);
      for (const r of fake.requests) expect(r.body.tools?.map((t) => (t.type === 'function' ? t.function.name : t.type))).toEqual(ALLOWED_TOOLS);
      expect(fake.requests[0]!.authorization).toBe('Bearer test');
    } finally {
      await fake.close();
    }
  });

  it('Anthropic: runs as written with the official client; the refusal is is_error, the approved refund runs', async () => {
    const { startFakeModel } = await import('../../examples/agents/anthropic/fake-model.ts');
    const fake = await startFakeModel();
    try {
      const stdout = await runBlock('Anthropic', { ANTHROPIC_BASE_URL: fake.baseURL, ANTHROPIC_API_KEY: 'test' });
      const rest = expectGuardLines(stdout);
      expect(rest.join('\n')).toContain("text: 'Refund RF-P-19 of 25 USD issued for the duplicate charge; 900 USD is over what I may refund.'");
      expect(fake.requests).toHaveLength(3);
      expect(fake.requests.map((r) => (r.body.tools as Array<{ name: string }>).map((t) => t.name))).toEqual([ALLOWED_TOOLS, ALLOWED_TOOLS, ALLOWED_TOOLS]);
      const refused = fake.requests[1]!.body.messages.at(-1)!.content as Array<{ type: string; tool_use_id?: string; is_error?: boolean }>;
      expect(refused.map((b) => [b.type, b.tool_use_id, b.is_error ?? false])).toEqual([
        ['tool_result', 'toolu_lookup', false],
        ['tool_result', 'toolu_refund_order', true],
      ]);
    } finally {
      await fake.close();
    }
  });

  it('AI SDK: runs as written with generateText and the scripted model; the refusal is the tool output', async () => {
    const rest = expectGuardLines(await runBlock('AI SDK')).join('\n');
    expect(rest).toMatch(/ticket_id: 'T-10042'/);
    expect(rest).toMatch(/error: \{\s+code: '(scope_violation|violated)'/);
    expect(rest).toMatch(/refund_id: 'RF-P-19'/);
    expect(rest.trim().split('\n').at(-1)).toBe('Refund RF-P-19 of 25 USD issued for the duplicate charge; 900 USD is over what I may refund.');
  });
});

describe('README tool names', () => {
  it('the adapters block names a tool when merged into an atlas, and the name maps back', async () => {
    const { createRuntime, guard, toOpenAITools, toAnthropicTools } = await import('../src/index.ts');
    const { loadAtlasDir } = await import('../src/node.ts');
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = /```json\n([\s\S]*?)```/.exec(readme.split('## Agent integrations')[1] ?? '');
    expect(block?.[1]).toBeDefined();
    const { adapters } = JSON.parse(block![1]!) as { adapters: Record<string, unknown> };
    const support = await loadAtlasDir(join(ROOT, 'examples/atlases/support'));
    const runtime = await createRuntime();
    await runtime.loadAtlas({ ...support, manifest: { ...support.manifest, adapters } as typeof support.manifest });
    const session = await runtime.createSession({ agentId: 'a', goal: 'g' });
    const g = guard(session, { 'ticket.lookup': () => 'found', 'ticket.close': () => 'closed' });
    const catalog = await g.catalog();
    expect(toOpenAITools(catalog).map((t) => t.function.name)).toEqual(['lookup_ticket', 'ticket_close']);
    expect(toAnthropicTools(catalog).map((t) => t.name)).toEqual(['ticket_lookup', 'ticket_close']); // openai's entry only
    expect(await g.call('lookup_ticket', { ticket_id: 'T-10042' })).toMatchObject({ ok: true, result: 'found' });
    await runtime.close();
  });
});
