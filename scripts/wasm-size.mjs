#!/usr/bin/env node
// What each part of a WebAssembly module costs, in bytes of code: the core's size budget is checked against these
// figures, and no twiggy is at hand, so this reads the module itself (plain Node, no dependencies).
//
//   node scripts/wasm-size.mjs [module.wasm] [--top N] [--depth D]
//
// Default module: the cargo output before wasm-opt (wasm/target/wasm32-unknown-unknown/release/cra_core.wasm), which
// still has its name section; wasm-opt strips it, so on the shipped artifact functions show as their index.
// Prints the section sizes, the N largest functions, and code size summed by demangled path prefix of D segments
// (`serde_json::de`, `core::fmt`, `cra_core::atlas` …). Generic instances are counted under the path of the item they
// instantiate, with `<T as Trait>::f` counted under T's path.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  argv.splice(i, 2);
  return v;
};
const top = opt('--top', 30);
const depth = opt('--depth', 2);
const file = argv[0] ?? join(ROOT, 'wasm', 'target', 'wasm32-unknown-unknown', 'release', 'cra_core.wasm');
const buf = readFileSync(file);

let pos = 8;
const u32 = () => {
  let result = 0, shift = 0, b;
  do { b = buf[pos++]; result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  return result;
};
const str = () => { const n = u32(); const s = buf.toString('utf8', pos, pos + n); pos += n; return s; };

const SECTION = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element',
  'code', 'data', 'datacount'];
const sections = [];
let imported = 0;
const bodies = []; // [size] in code-section order
const names = new Map();
while (pos < buf.length) {
  const id = buf[pos++];
  const size = u32();
  const end = pos + size;
  let label = SECTION[id] ?? `#${id}`;
  if (id === 0) {
    const at = pos;
    label = `custom "${str()}"`;
    if (label === 'custom "name"') readNames(end);
    pos = at;
  } else if (id === 2) {
    for (let n = u32(); n > 0; n--) { str(); str(); const kind = buf[pos++]; skipImport(kind); if (kind === 0) imported++; }
  } else if (id === 10) {
    for (let n = u32(); n > 0; n--) { const s = u32(); bodies.push(s + lebLength(s)); pos += s; }
  }
  sections.push([label, size]);
  pos = end;
}

function skipImport(kind) {
  if (kind === 0) u32();
  else if (kind === 1) { pos++; limits(); }
  else if (kind === 2) limits();
  else pos += 2;
}
function limits() { const flag = buf[pos++]; u32(); if (flag & 1) u32(); }
function lebLength(n) { let l = 1; while (n >= 128) { n = Math.floor(n / 128); l++; } return l; }
function readNames(end) {
  while (pos < end) {
    const sub = buf[pos++];
    const size = u32();
    const next = pos + size;
    if (sub === 1) for (let n = u32(); n > 0; n--) { const idx = u32(); names.set(idx, str()); }
    pos = next;
  }
}

// Rust's legacy mangling: _ZN <len><ident>... 17h<hash> E, with $LT$-style escapes inside idents.
const ESC = { SP: '@', BP: '*', RF: '&', LT: '<', GT: '>', LP: '(', RP: ')', C: ',' };
function demangle(s) {
  const m = /^_?_ZN(.*)E(?:\.llvm\.\d+)?$/.exec(s);
  if (!m) return s;
  const parts = [];
  let rest = m[1];
  while (rest.length > 0) {
    const len = /^\d+/.exec(rest);
    if (!len) break;
    const start = len[0].length;
    parts.push(rest.slice(start, start + Number(len[0])));
    rest = rest.slice(start + Number(len[0]));
  }
  if (parts.length > 1 && /^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
  return parts.map((p) => p
    .replace(/^_\$/, '$')
    .replace(/\.\./g, '::')
    .replace(/\$([A-Z]{1,2})\$/g, (all, k) => ESC[k] ?? all)
    .replace(/\$u([0-9a-f]+)\$/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))).join('::');
}

// The path an item belongs to: `<T as Trait>::f` -> T's path; `<impl X for T>` likewise; generics dropped.
function owner(name) {
  let s = name.startsWith('<') ? name.slice(1) : name;
  s = s.replace(/^&(mut )?/, '').replace(/^\[/, '');
  const cut = s.search(/[< >\[(;,]/);
  if (cut >= 0) s = s.slice(0, cut);
  const segs = s.split('::').filter(Boolean);
  if (segs.length === 0 || !/^[a-z_]/.test(segs[0])) return '(other)';
  const mod = [];
  for (const seg of segs) { if (/^[A-Z{]/.test(seg) || mod.length === depth) break; mod.push(seg); }
  return mod.length ? mod.join('::') : segs[0];
}

const fns = bodies.map((size, i) => {
  const raw = names.get(imported + i) ?? `func[${imported + i}]`;
  return { name: demangle(raw), size };
});
const code = fns.reduce((a, f) => a + f.size, 0);
const pct = (n, of = buf.length) => `${((100 * n) / of).toFixed(1).padStart(5)} %`;
const row = (n, label) => console.log(`${String(n).padStart(9)}  ${pct(n)}  ${label}`);

console.log(`${file}: ${buf.length} B, ${fns.length} functions (${imported} imported)${names.size ? '' : ', no name section'}\n`);
console.log('sections');
for (const [label, size] of sections) row(size, label);

console.log(`\ntop ${top} functions`);
for (const f of [...fns].sort((a, b) => b.size - a.size).slice(0, top)) row(f.size, f.name.slice(0, 150));

const byPath = new Map();
for (const f of fns) {
  const k = owner(f.name);
  const e = byPath.get(k) ?? { size: 0, count: 0 };
  e.size += f.size;
  e.count++;
  byPath.set(k, e);
}
console.log(`\ncode by path (depth ${depth}; ${code} B of code)`);
for (const [k, e] of [...byPath].sort((a, b) => b[1].size - a[1].size)) {
  if (e.size < code / 1000) break;
  row(e.size, `${k}  (${e.count} fn)`);
}
