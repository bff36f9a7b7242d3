/** What every runtime's ABI report must say (see `scenario.ts`). */
import { expect } from 'vitest';
import type { AbiReport } from './scenario.ts';

export function expectAbiReport(report: AbiReport): void {
  expect(report.shipped).toBe('ok');
  // A module of another version has every export, so it compiles; the runtime refuses it once it reads the version.
  expect(report.otherVersion).toEqual({
    compiled: true,
    code: 'core_unavailable',
    message: `the core implements ABI version 1, this SDK speaks version ${report.abiVersion}: use the module shipped with this package (or rebuild it)`,
  });
  expect(report.unversioned.code).toBe('core_unavailable');
  expect(report.unversioned.message).toContain('export cra_abi_version is missing');
}
