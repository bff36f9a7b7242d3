// One change to a JSON document, chosen from numbers that fast-check draws (so a failing case shrinks and replays
// from its seed): a member given a value of another type or a spelling validators read differently, removed, or
// added, or an array item repeated.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObj = { [key: string]: Json };
export type Path = Array<string | number>;

export type Mutation =
  | { kind: 'set'; path: Path; value: Json }
  | { kind: 'delete'; path: Path }
  | { kind: 'duplicate'; path: Path };

/** A value of each JSON type: what a member of another type is replaced with. */
export const otherTypes: Json[] = [null, true, 0, 1.5, 'x', '', [], {}];

/** Spellings every table shares. */
export const tricky: Record<string, Json[]> = {};

export function pointer(path: Path): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function at(doc: Json, path: Path): Json | undefined {
  let v: Json | undefined = doc;
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, Json>)[s as string];
  }
  return v;
}

/** The value at a JSON pointer, or `undefined`. */
export function atPointer(doc: unknown, ptr: string): Json | undefined {
  if (ptr === '') return doc as Json;
  const path = ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return at(doc as Json, path);
}

function walk(v: Json, path: Path, out: Path[]): void {
  if (path.length > 0) out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k], out);
}

/** The name a path's value goes by: its member name, or its array's (`files` for `/context_packs/0/files/1`). */
export function nameOf(path: Path): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string;
  return undefined;
}

/** Optional members added where they are absent (`reason` on a policy, `dependencies` on a manifest…). */
export type Slots = (doc: JsonObj) => Path[];

export function pickMutation(doc: JsonObj, where: number, how: number, which: number, table: Record<string, Json[]>, slots?: Slots): Mutation {
  const paths: Path[] = [];
  walk(doc, [], paths);
  const named = paths.filter((p) => typeof p.at(-1) === 'string' && table[p.at(-1) as string]);
  const extra = slots ? slots(doc) : [];
  const kind = how % 6;
  if ((kind === 1 || kind === 2) && named.length + extra.length > 0) {
    const candidates = [...named, ...extra];
    const path = candidates[where % candidates.length]!;
    const values = table[path.at(-1) as string] ?? otherTypes;
    return { kind: 'set', path, value: values[which % values.length]! };
  }
  const path = paths[where % paths.length] ?? ['extra_member'];
  const parent = at(doc, path.slice(0, -1));
  if (kind === 3 && parent !== null && typeof parent === 'object' && !Array.isArray(parent)) return { kind: 'delete', path };
  if (kind === 4) {
    const value = at(doc, path);
    if (Array.isArray(parent) && (which % 3 === 0 || value === null || typeof value !== 'object' || Array.isArray(value))) return { kind: 'duplicate', path };
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return { kind: 'set', path: [...path, 'extra_member'], value: which % 2 === 0 ? 'x' : null };
  }
  return { kind: 'set', path, value: otherTypes[which % otherTypes.length]! };
}

export function applyMutation(doc: Json, m: Mutation): Json {
  const copy = structuredClone(doc) as Json;
  // A slot may name a member of an object the document lacks (`/context/max_context_tokens`): create it.
  let parent = copy as unknown as Record<string, Json>;
  for (const s of m.path.slice(0, -1)) {
    if (parent[s as string] === undefined || parent[s as string] === null || typeof parent[s as string] !== 'object') parent[s as string] = {};
    parent = parent[s as string] as Record<string, Json>;
  }
  const last = m.path.at(-1) as string | number;
  if (m.kind === 'delete') delete (parent as Record<string, Json>)[last as string];
  else if (m.kind === 'duplicate') {
    const list = parent as unknown as Json[];
    list.push(structuredClone(list[last as number] ?? null));
  }
  else (parent as Record<string, Json>)[last as string] = m.value;
  return copy;
}

export function describe(m: Mutation): string {
  return m.kind === 'set' ? `${pointer(m.path)} = ${JSON.stringify(m.value)}` : `${m.kind} ${pointer(m.path)}`;
}
