import type { Plugin } from 'rollup';

export function platformVariant(variant: string | null): Plugin;
export function wasmBeside(options?: { emit?: boolean }): Plugin;
export function transpileTs(): Plugin;
export function jsonModules(): Plugin;
export function packageSelf(root: string, conditions: string[]): Plugin;
export function declarations(tsconfig: string): Plugin;
