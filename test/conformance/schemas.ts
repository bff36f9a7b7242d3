// The protocol's JSON Schemas (the copy shipped in `schemas/`), compiled by an independent validator: ajv in
// draft 2020-12 mode with ajv-formats' full format checks. The runtime never uses ajv (Workers refuse its
// `new Function`), which is what makes it a second opinion here.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020Module, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// Both packages are CommonJS with a `default` export.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: typeof Ajv2020Module }).default ?? Ajv2020Module) as typeof Ajv2020Module;
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as typeof addFormatsModule;

export type SchemaName = 'atlas-manifest' | 'carp-request' | 'carp-resolution' | 'trace-event';
export type SchemaError = ErrorObject;

const dir = fileURLToPath(new URL('../../schemas/', import.meta.url));

export function readSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(`${dir}${name}.schema.json`, 'utf8')) as Record<string, unknown>;
}

const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
addFormats(ajv);
const compiled = new Map<string, ValidateFunction>();
for (const name of ['atlas-manifest', 'carp-request', 'carp-resolution', 'trace-event'] as const) {
  const schema = readSchema(name);
  ajv.addSchema(schema, name);
  compiled.set(name, ajv.getSchema(name) as ValidateFunction);
}

/** Validates `value` against a schema, or against one of its `$defs` (`trace-event#/$defs/PolicyViolatedPayload`). */
export function check(name: SchemaName | `${SchemaName}#/$defs/${string}`, value: unknown): { valid: boolean; errors: SchemaError[] } {
  let validate = compiled.get(name);
  if (!validate) {
    validate = ajv.getSchema(name) as ValidateFunction | undefined;
    if (!validate) throw new Error(`no schema ${name}`);
    compiled.set(name, validate);
  }
  const valid = validate(value) as boolean;
  return { valid, errors: valid ? [] : [...(validate.errors ?? [])] };
}
