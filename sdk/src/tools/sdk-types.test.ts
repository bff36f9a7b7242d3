/**
 * The tool formats and runners against the official SDKs' types: `sdk-types.check.ts` (and `../ai-sdk.ts`) must
 * compile under the project's compiler options with `openai`, `@anthropic-ai/sdk`, `@modelcontextprotocol/sdk` and
 * `ai` installed (dev dependencies).
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('tool formats against the official SDK types', () => {
  it('compile with no diagnostics', () => {
    const config = ts.getParsedCommandLineOfConfigFile(`${ROOT}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    expect(config).toBeDefined();
    const files = [fileURLToPath(new URL('./sdk-types.check.ts', import.meta.url)), fileURLToPath(new URL('../ai-sdk.ts', import.meta.url))];
    const program = ts.createProgram(files, { ...config!.options, noEmit: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
    // The check really reaches the SDKs' declarations (a missing package would make every import `any`).
    const sources = program.getSourceFiles().map((f) => f.fileName);
    for (const pkg of ['/openai/', '/@anthropic-ai/sdk/', '/@modelcontextprotocol/sdk/', '/node_modules/ai/']) {
      expect(sources.some((f) => f.includes(pkg))).toBe(true);
    }
  }, 60_000);
});
