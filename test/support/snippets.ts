/**
 * A documentation snippet as it runs from this checkout: the snippets are written for users of the installed package
 * (`cra-runtime`, `cra-runtime/node`…, an atlas made by `npx cra atlas init atlases/support`), and the tests that run
 * them point those specifiers at the sources and the atlas at the repository's example.
 */
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export function forCheckout(code: string): string {
  const src = (p: string) => `'${join(ROOT, p)}'`;
  return code
    .replaceAll("from 'cra-runtime'", `from ${src('sdk/src/index.ts')}`)
    .replaceAll("from 'cra-runtime/node'", `from ${src('sdk/src/node.ts')}`)
    .replaceAll("from 'cra-runtime/ai-sdk'", `from ${src('sdk/src/ai-sdk.ts')}`)
    .replaceAll("loadAtlasDir('atlases/support')", `loadAtlasDir(${src('examples/atlases/support')})`);
}
