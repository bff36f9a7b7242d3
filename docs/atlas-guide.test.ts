/**
 * The atlas guide's atlases are real: every ```json atlas block of docs/atlas-guide.md is validated by the runtime
 * (no error, no warning), the first one resolves as the guide says, and the last one — the whole atlas — is loaded
 * and exercised: an allowed call, a denial by its policy, a scope violation and an approval.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../sdk/src/index.ts';
import type { AtlasManifest } from '../sdk/src/index.ts';

const GUIDE = join(import.meta.dirname, 'atlas-guide.md');
const FILES = { 'context/orders.md': '# Orders\n\nAn order ships within two working days; it can be cancelled until then.\n' };

async function atlases(): Promise<AtlasManifest[]> {
  const text = await readFile(GUIDE, 'utf8');
  return [...text.matchAll(/```json atlas\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as AtlasManifest);
}

describe('docs/atlas-guide.md', () => {
  it('has the six atlases of its steps', async () => {
    expect((await atlases()).map((a) => a.version)).toEqual(['0.1.0', '0.2.0', '0.3.0', '0.4.0', '0.5.0', '1.0.0']);
  });

  it('every atlas validates with no error and no warning', async () => {
    const runtime = await createRuntime();
    try {
      for (const manifest of await atlases()) {
        const report = await runtime.validateAtlas({ manifest, files: FILES });
        expect({ version: manifest.version, ...report }).toEqual({ version: manifest.version, valid: true, errors: [], warnings: [] });
      }
    } finally {
      await runtime.close();
    }
  });

  it('the minimal atlas loads and governs nothing', async () => {
    const [minimal] = await atlases();
    const runtime = await createRuntime({ atlases: [minimal!] });
    try {
      const session = await runtime.createSession({ agentId: 'shop-bot', goal: 'g' });
      const resolution = await session.resolve();
      expect(resolution.decision).toMatchObject({ type: 'deny', reason: 'No actions are in scope' });
    } finally {
      await runtime.close();
    }
  });

  it('the whole atlas: an allowed lookup, a denied erase, a capped refund and an approved one', async () => {
    const manifest = (await atlases()).at(-1)!;
    const runtime = await createRuntime({ atlases: [{ manifest, files: FILES }] });
    try {
      const session = await runtime.createSession({ agentId: 'shop-bot', goal: 'Refund order O-1001' });
      const resolution = await session.resolve({ requiredCapabilities: ['orders.read', 'orders.manage'] });
      expect(resolution.decision.type).toBe('partial');
      expect(resolution.allowed_actions.map((a) => [a.action_id, a.requires_confirmation])).toEqual([
        ['order.lookup', false],
        ['order.cancel', false],
        ['order.refund', true],
      ]);
      expect(resolution.context_blocks.map((b) => b.block_id)).toEqual(['com.example.shop/order-faq/context/orders.md']);
      expect(resolution.constraints.find((c) => c.constraint_id === 'lookup-rate')).toMatchObject({ type: 'rate_limit' });

      const lookup = await session.requestAction({ actionId: 'order.lookup', parameters: { order_id: 'O-1001' } });
      expect(lookup.status).toBe('approved');
      await session.complete(lookup, { result: { status: 'shipped' } });

      const tooMuch = await session.requestAction({ actionId: 'order.refund', parameters: { order_id: 'O-1001', amount: 500 } });
      expect([tooMuch.status, tooMuch.details?.code]).toEqual(['violated', 'scope_violation']);

      const refund = await session.requestAction({ actionId: 'order.refund', parameters: { order_id: 'O-1001', amount: 40 } });
      expect(refund.status).toBe('pending_approval');
      expect((await session.approve(refund, { approver: 'lead@example.com' })).status).toBe('approved');

      // Out of the narrowed resolution, then denied by its policy in one that considers every action.
      await session.resolve();
      const erase = await session.requestAction({ actionId: 'customer.erase', parameters: { customer_id: 'C-1' } });
      expect([erase.status, erase.reason, erase.details?.code]).toEqual(['denied', 'Customer data is erased only by the privacy team', 'policy_denied']);
    } finally {
      await runtime.close();
    }
  });
});
