/** The ABI contract as data (`wasm/abi.json`): the operations and the error codes a suite may see, by origin. */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './atlas.ts';

interface Contract {
  operations: Array<{ name: string }>;
  error_codes: Array<{ code: string; http: number; origin: string }>;
}

export const CONTRACT = JSON.parse(readFileSync(join(ROOT, 'wasm/abi.json'), 'utf8')) as Contract;
export const OPERATIONS = CONTRACT.operations.map((o) => o.name);
export const ALL_CODES = new Set(CONTRACT.error_codes.map((e) => e.code));
export const CORE_CODES = new Set(CONTRACT.error_codes.filter((e) => e.origin === 'core').map((e) => e.code));
