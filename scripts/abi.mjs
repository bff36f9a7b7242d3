#!/usr/bin/env node
/**
 * The ABI contract, rendered. `wasm/abi.json` is the one machine-readable statement of the core's ABI (operations,
 * error codes with their HTTP status, check codes, refusal codes, event types, exports, imports). The Rust side is
 * checked against it by `wasm/tests/abi_contract.rs`; the TypeScript side and the document are rendered from it here:
 *
 *   node scripts/abi.mjs           writes sdk/src/abi.ts and the tables of wasm/ABI.md
 *   node scripts/abi.mjs --check   fails, naming each difference, when either is not what the contract renders to
 *
 * The vitest contract test (sdk/src/abi.test.ts) runs `disagreements()` too, so a hand edit of one side fails CI.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PATHS = {
  contract: join(ROOT, 'wasm/abi.json'),
  ts: join(ROOT, 'sdk/src/abi.ts'),
  md: join(ROOT, 'wasm/ABI.md'),
};

/** The tables of ABI.md, each between `<!-- abi:<name> -->` and `<!-- /abi:<name> -->`. */
export const TABLES = ['exports', 'imports', 'operations', 'check_codes', 'refusal_codes', 'error_codes', 'event_types'];

export function readContract(path = PATHS.contract) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

const code = (s) => `\`${s}\``;
const cell = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ');
const row = (cells) => `| ${cells.map(cell).join(' | ')} |`;
const table = (head, rows) => [row(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(row)].join('\n');

/** The markdown of one named table. */
export function renderTable(contract, name) {
  switch (name) {
    case 'exports':
      return table(['export', 'signature', 'meaning'], contract.exports.map((e) => [code(e.name), e.signature === 'memory' ? 'memory' : code(e.signature), e.meaning]));
    case 'imports':
      return table(['import', 'signature', 'meaning'], contract.imports.map((e) => [code(e.name), code(e.signature), e.meaning]));
    case 'operations':
      return table(['op', 'input', 'ok result'], contract.operations.map((o) => [code(o.name), o.input, o.result]));
    case 'check_codes':
      return table(['code', 'name', 'meaning'], contract.check_codes.map((c) => [String(c.code), code(c.name), c.meaning]));
    case 'refusal_codes':
      return table(['`code`', 'status', 'when', 'members'], contract.refusal_codes.map((r) => [code(r.code), r.status, r.when, r.members]));
    case 'error_codes':
      return table(['code', 'HTTP', 'raised by', 'when'], contract.error_codes.map((e) => [code(e.code), String(e.http), e.origin, e.when]));
    case 'event_types':
      return table(
        ['event type', 'emitted by', 'required payload members (host events)'],
        contract.event_types.map((e) => [code(e.type), e.emitted_by, e.required ? e.required.map(code).join(', ') : '—']),
      );
    default:
      throw new Error(`no ABI table ${name}`);
  }
}

/** ABI.md with every marked table replaced by its rendering. */
export function renderMarkdown(contract, md) {
  let out = md;
  for (const name of TABLES) {
    const open = `<!-- abi:${name} -->`;
    const close = `<!-- /abi:${name} -->`;
    const a = out.indexOf(open);
    const b = out.indexOf(close);
    if (a < 0 || b < a) throw new Error(`wasm/ABI.md has no ${open} … ${close} block`);
    out = `${out.slice(0, a + open.length)}\n${renderTable(contract, name)}\n${out.slice(b)}`;
  }
  return out;
}

const list = (items, indent = '  ') => items.map((x) => `${indent}${JSON.stringify(x)},`).join('\n');
const record = (entries, indent = '  ') => entries.map(([k, v]) => `${indent}${k}: ${JSON.stringify(v)},`).join('\n');
const doc = (text, indent = '  ') => `${indent}/** ${text.replaceAll('*/', '*\\/').replaceAll('`', "'")} */`;

/** The TypeScript module of the contract. */
export function renderTs(c) {
  const byOrigin = (o) => c.error_codes.filter((e) => e.origin === o);
  const statusTable = (name, origin, what) =>
    [
      `/** ${what}, with the HTTP status the server answers. */`,
      `export const ${name} = Object.freeze({`,
      ...byOrigin(origin).flatMap((e) => [doc(e.when), `  ${e.code}: ${e.http},`]),
      '} as const);',
    ].join('\n');
  return `// Generated from wasm/abi.json by scripts/abi.mjs (\`npm run gen:abi\`). Do not edit: change the contract.
/**
 * The ABI contract of the core, as TypeScript: what the core's operations are called, which codes it answers and
 * what they mean. Everything here is rendered from \`wasm/abi.json\`, which the Rust side is tested against too.
 *
 * @module
 */

/** The ABI version this SDK speaks; a core module exporting another \`cra_abi_version()\` is refused. */
export const ABI_VERSION = ${c.abi_version};

/** The deepest nesting of containers the core's JSON parser reads; hosts refuse deeper values before the core. */
export const MAX_JSON_DEPTH = ${c.max_json_depth};

/** The exports a core module must have. */
export const CORE_EXPORTS = Object.freeze([
${list(c.exports.map((e) => e.name))}
] as const);

/** The \`cra_call\` operations. */
export const OPERATIONS = Object.freeze([
${list(c.operations.map((o) => o.name))}
] as const);
/** The name of a \`cra_call\` operation. */
export type Operation = (typeof OPERATIONS)[number];

/** \`cra_check\` answers: name → code. */
export const CHECK_CODES = Object.freeze({
${c.check_codes.flatMap((k) => [doc(k.meaning), `  ${k.name}: ${k.code},`]).join('\n')}
} as const);
/** What \`cra_check\` answers for an action, by name (see {@link CHECK_CODES} for what each means). */
export type CheckResult = keyof typeof CHECK_CODES;

/** \`cra_check\` answers: code → name. */
export const CHECK_RESULTS: ReadonlyMap<number, CheckResult> = new Map(
  (Object.entries(CHECK_CODES) as Array<[CheckResult, number]>).map(([name, code]) => [code, name]),
);

${statusTable('CORE_ERROR_STATUS', 'core', 'Error codes the core answers')}
/**
 * An error code the core answers: the \`code\` of a \`CraError\` that the core raised.
 * @useDeclaredType
 */
export type CoreErrorCode = keyof typeof CORE_ERROR_STATUS;

${statusTable('SDK_ERROR_STATUS', 'sdk', 'Error codes the SDK raises itself')}
/**
 * An error code the SDK raises itself: a failed or closed core, store, or collector.
 * @useDeclaredType
 */
export type SdkErrorCode = keyof typeof SDK_ERROR_STATUS;

${statusTable('HTTP_ERROR_STATUS', 'http', 'Error codes of the HTTP layer')}
/**
 * An error code the server's HTTP layer answers itself, before or around the core.
 * @useDeclaredType
 */
export type HttpErrorCode = keyof typeof HTTP_ERROR_STATUS;

/** The \`code\` of a refused execution's \`details\`. */
export const REFUSAL_CODES = Object.freeze([
${list(c.refusal_codes.map((r) => r.code))}
] as const);
/**
 * A refusal \`code\` (in a refused execution's \`details\`) that this version knows.
 * @useDeclaredType
 */
export type KnownRefusalCode = (typeof REFUSAL_CODES)[number];

/** TRACE event types. */
export const EVENT_TYPES = Object.freeze([
${list(c.event_types.map((e) => e.type))}
] as const);
/**
 * The \`type\` of a TRACE event: emitted by the core, or appended by the host with \`trace.append\`.
 * @useDeclaredType
 */
export type KnownEventType = (typeof EVENT_TYPES)[number];

/** The event types a host may append itself (\`trace.append\`), with the payload members each requires. */
export const HOST_EVENT_TYPES = Object.freeze({
${record(c.event_types.filter((e) => e.emitted_by === 'host').map((e) => [JSON.stringify(e.type), e.required]))}
} as const);
`;
}

/** Every difference between the contract and its renderings (empty when they agree). */
export function disagreements(contract, { ts, md }) {
  const out = [];
  const problems = check(contract);
  out.push(...problems);
  const wantTs = renderTs(contract);
  if (ts !== wantTs) out.push(`sdk/src/abi.ts is not what wasm/abi.json renders to (first difference at line ${firstDiff(ts, wantTs)})`);
  let wantMd;
  try {
    wantMd = renderMarkdown(contract, md);
  } catch (err) {
    out.push(err.message);
  }
  if (wantMd !== undefined && md !== wantMd) {
    for (const name of TABLES) {
      const open = `<!-- abi:${name} -->\n`;
      const got = md.slice(md.indexOf(open) + open.length, md.indexOf(`<!-- /abi:${name} -->`)).trimEnd();
      if (got !== renderTable(contract, name)) out.push(`wasm/ABI.md table ${name} differs from wasm/abi.json (first difference at line ${firstDiff(got, renderTable(contract, name))} of the table)`);
    }
  }
  return out;
}

/** The contract's own consistency: unique names, known origins, every member present. */
function check(c) {
  const out = [];
  if (!Number.isInteger(c.abi_version) || c.abi_version < 1) out.push('abi_version must be a positive integer');
  const unique = (what, names) => {
    const seen = new Set();
    for (const n of names) {
      if (seen.has(n)) out.push(`${what} ${n} is listed twice`);
      seen.add(n);
    }
  };
  unique('operation', c.operations.map((o) => o.name));
  unique('error code', c.error_codes.map((e) => e.code));
  unique('check code', c.check_codes.map((k) => k.code));
  unique('check name', c.check_codes.map((k) => k.name));
  unique('refusal code', c.refusal_codes.map((r) => r.code));
  unique('event type', c.event_types.map((e) => e.type));
  for (const e of c.error_codes) {
    if (!['core', 'sdk', 'http'].includes(e.origin)) out.push(`error code ${e.code}: origin ${e.origin} is not core, sdk or http`);
    if (!Number.isInteger(e.http) || e.http < 400 || e.http > 599) out.push(`error code ${e.code}: HTTP status ${e.http} is not an error status`);
  }
  for (const e of c.event_types) {
    if (e.emitted_by !== 'core' && e.emitted_by !== 'host') out.push(`event type ${e.type}: emitted_by must be core or host`);
    if (e.emitted_by === 'host' && !Array.isArray(e.required)) out.push(`event type ${e.type}: a host event lists its required members`);
  }
  return out;
}

function firstDiff(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return i + 1;
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const contract = readContract();
  const md = readFileSync(PATHS.md, 'utf8');
  if (process.argv.includes('--check')) {
    const found = disagreements(contract, { ts: readFileSync(PATHS.ts, 'utf8'), md });
    for (const d of found) console.error(`abi: ${d}`);
    if (found.length > 0) {
      console.error('abi: run `npm run gen:abi` after changing wasm/abi.json');
      process.exit(1);
    }
    console.log('abi: sdk/src/abi.ts and wasm/ABI.md agree with wasm/abi.json');
  } else {
    const problems = check(contract);
    if (problems.length > 0) {
      for (const p of problems) console.error(`abi: ${p}`);
      process.exit(1);
    }
    writeFileSync(PATHS.ts, renderTs(contract));
    writeFileSync(PATHS.md, renderMarkdown(contract, md));
    console.log('abi: wrote sdk/src/abi.ts and the tables of wasm/ABI.md');
  }
}
