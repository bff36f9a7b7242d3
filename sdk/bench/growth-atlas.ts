/**
 * Generated atlases for the growth rows: `n` actions in groups of ten (`g<k>.a<j>`), one capability per group
 * (`cap<k>`), and the same two policies whatever the size (deny `*.a9`, allow `*`), so that only the number of
 * actions changes. A request narrowed to `cap0` considers ten actions at every size: what it costs beyond that is
 * what the atlas's size adds (an index answers in constant time, a scan grows with `n`).
 */

import type { AtlasManifest } from '../src/types.ts';

export function growthAtlas(n: number): AtlasManifest {
  const actions = Array.from({ length: n }, (_, i) => ({
    action_id: `g${Math.floor(i / 10)}.a${i % 10}`,
    name: `Action ${i}`,
    description: `Generated action ${i}`,
    risk_tier: 'low',
    parameters_schema: { type: 'object', properties: { id: { type: 'string' } }, additionalProperties: false },
  }));
  const groups = Math.ceil(n / 10);
  const capabilities = Array.from({ length: groups }, (_, k) => ({
    capability_id: `cap${k}`,
    name: `Group ${k}`,
    description: `Actions of group ${k}`,
    actions: actions.slice(k * 10, k * 10 + 10).map((a) => a.action_id),
  }));
  return {
    atlas_version: '1.0',
    atlas_id: `com.example.growth${n}`,
    version: '1.0.0',
    name: `Growth ${n}`,
    description: `${n} generated actions`,
    capabilities,
    policies: [
      { policy_id: 'no-a9', name: 'No a9', type: 'deny', priority: 100, actions: ['*.a9'], parameters: { reason: 'a9 is denied' } },
      { policy_id: 'open', name: 'Open', type: 'allow', actions: ['*'] },
    ],
    actions,
  } as unknown as AtlasManifest;
}
