/** The example atlas every suite works with, and the shared paths. */

import { fileURLToPath } from 'node:url';
import { loadAtlasDir } from '../../../sdk/src/atlas/dir.ts';
import type { AtlasBundle } from '../../../sdk/src/types.ts';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SUPPORT_DIR = fileURLToPath(new URL('../../../examples/atlases/support', import.meta.url));

let cached: Promise<AtlasBundle> | null = null;
export function supportAtlas(): Promise<AtlasBundle> {
  cached ??= loadAtlasDir(SUPPORT_DIR);
  return cached;
}

export const REFUND = { customer_id: 'C-7', payment_id: 'P-19', amount: 25, currency: 'USD' };
