/**
 * Small rollup plugins shared by the package build (`rollup.config.mjs`) and the tests that bundle workers
 * (`test/support/workers.ts`). No dependency beyond rollup and typescript.
 */

import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Swaps `sdk/src/runtime/platform.ts` (what `load.ts` imports) for one of its per-runtime variants:
 * `platform.node.ts`, `platform.web.ts` or `platform.workerd.ts`. `null` keeps the detecting default.
 */
export function platformVariant(variant) {
  return {
    name: 'cra-platform',
    resolveId(source, importer) {
      if (!variant || !importer || !/^\.\/platform\.[jt]s$/.test(source)) return null;
      if (!/[\\/]sdk[\\/]src[\\/]runtime[\\/]load\.ts$/.test(importer)) return null;
      return resolve(dirname(importer), variant);
    },
  };
}

/**
 * `.wasm` imports stay imports of a file beside the bundle (`import core from './cra_core.wasm'`): workerd and
 * wrangler load them as `CompiledWasm` modules. With `emit`, the file is copied into the output.
 */
export function wasmBeside({ emit = false } = {}) {
  const files = new Map();
  return {
    name: 'cra-wasm-beside',
    resolveId(source, importer) {
      if (!source.endsWith('.wasm')) return null;
      const name = basename(source);
      if (emit && importer) files.set(name, resolve(dirname(importer), source));
      return { id: `./${name}`, external: true };
    },
    generateBundle() {
      for (const [fileName, path] of files) this.emitFile({ type: 'asset', fileName, source: readFileSync(path) });
    },
  };
}

/** TypeScript to JavaScript, file by file, no type-check (the sources are `isolatedModules`). */
export function transpileTs() {
  return {
    name: 'cra-transpile',
    transform(code, id) {
      if (!/\.[cm]?ts$/.test(id) || id.endsWith('.d.ts')) return null;
      const out = ts.transpileModule(code, {
        fileName: id,
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ESNext,
          isolatedModules: true,
          allowImportingTsExtensions: true,
          noEmit: false,
          sourceMap: false,
        },
      });
      return { code: out.outputText, map: null };
    },
  };
}

/** `import data from './x.json'` (wrangler's esbuild does this natively). */
export function jsonModules() {
  return {
    name: 'cra-json',
    transform(code, id) {
      if (!id.endsWith('.json')) return null;
      return { code: `export default ${JSON.stringify(JSON.parse(code))};`, map: null };
    },
  };
}

/**
 * Resolves `name` and `name/sub` to the package at `root` through its `exports` and the given conditions, as an
 * installed dependency would resolve (for bundling this repository's examples against its own `dist/`).
 */
export function packageSelf(root, conditions) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const pick = (target) => {
    if (typeof target === 'string') return target;
    if (target && typeof target === 'object') {
      for (const [key, value] of Object.entries(target)) {
        if (key === 'default' || conditions.includes(key)) {
          const found = pick(value);
          if (found) return found;
        }
      }
    }
    return null;
  };
  return {
    name: 'cra-package-self',
    resolveId(source) {
      if (source !== pkg.name && !source.startsWith(`${pkg.name}/`)) return null;
      const subpath = `.${source.slice(pkg.name.length)}`;
      const target = pick(pkg.exports?.[subpath]);
      if (!target) throw new Error(`${source}: no export of ${pkg.name} for the conditions ${conditions.join(', ')}`);
      return join(root, target);
    },
  };
}

/**
 * Writes the declarations of the program of `tsconfig` (`emitDeclarationOnly`) at the end of the build; any error
 * fails the build. With `noCheck` in `tsconfig` (as the package build has it: `npm run typecheck` is the type-check,
 * and this halves the build), only syntax, options and declaration errors are reported.
 */
export function declarations(tsconfig) {
  return {
    name: 'cra-declarations',
    buildEnd(error) {
      if (error) return;
      const config = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => this.error(format([d])) });
      const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, projectReferences: config.projectReferences });
      const emitted = program.emit(undefined, undefined, undefined, true);
      const checks = config.options.noCheck
        ? [...program.getOptionsDiagnostics(), ...program.getSyntacticDiagnostics()]
        : ts.getPreEmitDiagnostics(program);
      const diagnostics = [...config.errors, ...checks, ...emitted.diagnostics];
      if (diagnostics.length > 0) this.error(format(diagnostics));
    },
  };
}

function format(diagnostics) {
  return ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' });
}
