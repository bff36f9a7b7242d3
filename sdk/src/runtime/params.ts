/**
 * JSON Schema validation of action parameters. The host validates (the core has no JSON Schema engine) and passes
 * the resulting errors to the core as `schema_errors`; the core decides what they mean.
 *
 * @module
 */

import { Validator } from '@cfworker/json-schema';
import type { AtlasBundle, JsonSchema, Resolution, SchemaError } from '../types.ts';

const validators = new WeakMap<object, Validator>();

/** Keywords whose own error only says "a sub-schema failed"; the sub-schema's error is the useful one. */
const WRAPPERS = new Set([
  'properties',
  'patternProperties',
  'additionalProperties',
  'unevaluatedProperties',
  'items',
  'prefixItems',
  'unevaluatedItems',
  'contains',
  'propertyNames',
  'dependentSchemas',
  '$ref',
  'allOf',
]);

/**
 * Validates `parameters` against `schema` (draft 2020-12) and returns the violations. Wrapper errors such as
 * "Property x does not match schema" are dropped when the nested error that caused them is listed. A schema that
 * cannot be evaluated yields one error at `""`, so that the core refuses the call.
 */
export function validateParameters(schema: JsonSchema | undefined, parameters: unknown): SchemaError[] {
  if (schema === undefined) return [];
  let validator = validators.get(schema);
  try {
    if (!validator) {
      // The validator annotates the schema it is given (ids of sub-schemas): hand it a copy, never the caller's
      // (possibly frozen) object, nor a manifest that is loaded into the core again on a rebuild.
      validator = new Validator(structuredClone(schema) as never, '2020-12', false);
      validators.set(schema, validator);
    }
    const result = validator.validate(parameters);
    if (result.valid) return [];
    const units = result.errors;
    const kept = units.filter(
      (e) =>
        !units.some(
          (f) =>
            f !== e &&
            (f.keywordLocation.startsWith(`${e.keywordLocation}/`) ||
              (WRAPPERS.has(e.keyword) && f.instanceLocation.startsWith(`${e.instanceLocation}/`))),
        ),
    );
    const seen = new Set<string>();
    const out: SchemaError[] = [];
    for (const e of kept) {
      const path = pointer(e.instanceLocation);
      const message = e.keyword === 'false' ? 'is not allowed by the schema' : e.error;
      const key = `${path}\u0000${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ path, message });
    }
    return out;
  } catch (err) {
    return [{ path: '', message: `the parameters schema cannot be evaluated: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` }];
  }
}

/** `#/a%20b/0` → `/a b/0` (a JSON pointer; `~0` and `~1` escapes are kept). */
function pointer(location: string): string {
  const raw = location.startsWith('#') ? location.slice(1) : location;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * The schema errors of `parameters` for `actionId`: against the schema the resolution allowed it with, else (an
 * action the resolution does not include, which the core refuses anyway) the schema of the loaded atlas.
 */
export function schemaErrorsFor(
  resolution: Resolution | undefined,
  atlases: Iterable<AtlasBundle>,
  actionId: unknown,
  parameters: unknown,
): SchemaError[] {
  if (typeof actionId !== 'string') return [];
  const allowed = resolution?.allowed_actions.find((a) => a.action_id === actionId);
  if (allowed) return validateParameters(allowed.parameters_schema, parameters);
  for (const bundle of atlases) {
    const action = bundle.manifest.actions?.find((a) => a.action_id === actionId);
    if (action) return validateParameters(action.parameters_schema, parameters);
  }
  return [];
}
