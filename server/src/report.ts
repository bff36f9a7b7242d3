/**
 * What a server tells its operator at start, the same on every runtime: the atlases loaded (and those skipped, with
 * why), damaged traces left out, weak keys, unreadable owner records, the MCP upstream, checkpoint signing (with the
 * verifier key to publish) and the keys trusted for sync, where the data lives and how
 * many sessions it restored, the auth mode (with a generated key, shown once), and last where it is served — last so
 * that whatever waits for that line has everything above it.
 *
 * @module
 */

import type { StoreIssue } from '../../sdk/src/storage/store.ts';
import type { Assembly } from './assemble.ts';
import { shortKeyWarning } from './auth/keys.ts';

/** The atlases read at start: loaded, or skipped (a duplicate id, an invalid atlas), never fatal. */
export interface AtlasReport {
  /** The atlases loaded, in load order. */
  loaded: Array<{
    /** The atlas's id. */
    atlas_id: string;
    /** The atlas's version. */
    version: string;
    /** Where it was read from: a file, or a few words (`deployed with the Worker`). */
    path: string;
  }>;
  /** The atlases left out, with why. */
  skipped: Array<{
    /** The file (or folder) that could not be loaded. */
    path: string;
    /** The error code of why (`atlas_invalid`, `atlas_exists`…). */
    code: string;
    /** The error's message. */
    message: string;
  }>;
}

/** What the adapter knows about where and how it serves. */
export interface Served {
  /** The last line's subject: `CRA server`, `CRA server (Deno)`. */
  name: string;
  /** Where the API is served (origin, e.g. `http://127.0.0.1:8420`). */
  url: string;
  /** Where the sessions live: a folder, or a few words (`in memory, …`). */
  data: string;
  /** The command that starts this server, for the hint that keeps a generated key. */
  command: string;
  /** The atlases read at start. */
  atlases: AtlasReport;
  /** When sessions live in JSONL files: when an answer is given (`CRA_DURABILITY`). */
  durability?: 'fsync' | 'interval';
  /** Lines of the owners file that could not be read, skipped. */
  ownersSkipped?: readonly number[];
  /** The command of the upstream MCP server behind `/v1/sessions/{id}/mcp`, when there is one. */
  mcp?: readonly string[];
  /** The URL of a metrics listener of its own (no key), when there is one. */
  metrics?: string;
}

/** The start-up lines of `server`, served as `served` says. */
export async function startupReport(server: Assembly, served: Served): Promise<string[]> {
  const { config, runtime, generatedKey } = server;
  const lines: string[] = [];
  for (const a of served.atlases.loaded) lines.push(`  atlas ${a.atlas_id}@${a.version} (${a.path})`);
  if (served.atlases.loaded.length === 0 && served.atlases.skipped.length === 0) lines.push('  atlases: none (CRA_ATLAS_DIR names a folder of atlases)');
  for (const s of served.atlases.skipped) lines.push(`  atlas skipped: ${s.path}: ${s.code}: ${s.message}`);
  for (const i of runtime.storageIssues) lines.push(damagedTrace(i));
  const weak = config.auth ? shortKeyWarning(config) : null;
  if (weak) lines.push(weak);
  if (served.ownersSkipped?.length) lines.push(`  owners.jsonl: unreadable line(s) ${served.ownersSkipped.join(', ')} skipped`);
  if (server.unowned > 0) {
    lines.push(
      `  owners: ${server.unowned} session(s) have no owner (created with auth off, or stopped before the owner was recorded and the session answered): no key can see them`,
    );
  }
  if (served.mcp) lines.push(`  mcp: /v1/sessions/{id}/mcp serves the tools of ${JSON.stringify(served.mcp)}`);
  if (served.metrics) lines.push(`  metrics: ${served.metrics} (no key needed there; /metrics on the API needs an admin key)`);
  const signing = config.runtime?.signing;
  const verifier = await runtime.checkpointKey();
  if (signing && verifier) {
    const every = signing.every ?? 1000;
    lines.push(`  checkpoints: signed at each session's end${every > 0 ? ` and every ${every} events` : ''}; verifier key (publish it): ${verifier}`);
  } else {
    lines.push('  checkpoints: none signed (CRA_SIGNING_KEY, from `cra key generate`, turns them on)');
  }
  const trusted = config.runtime?.trustedKeys;
  if (trusted) lines.push(`  sync: checkpoints of ${trusted.length} trusted key(s) accepted (CRA_TRUSTED_KEYS)`);
  const all = (await runtime.listSessions({ limit: 1 })).total;
  const active = (await runtime.listSessions({ status: 'active', limit: 1 })).total;
  lines.push(`  data: ${served.data} (${all} session(s) indexed, ${active} active; each restored when used)`);
  if (served.durability === 'fsync') lines.push('  durability: fsync (a request is answered once its events are on disk; CRA_DURABILITY=interval answers sooner)');
  if (served.durability === 'interval') lines.push('  durability: interval (answered once written; fsynced within a second: a machine crash can lose that second)');
  if (!config.auth) {
    lines.push('  auth: OFF (CRA_AUTH=off): every request is accepted and every session is visible. Local use only.');
  } else if (generatedKey) {
    lines.push(
      '  auth: no CRA_API_KEYS set, so a key was generated for this run (admin: may load atlases). It is shown once:',
      '',
      `    export CRA_API_KEY=${generatedKey}`,
      '',
      '  Sessions belong to the key that created them; to keep this key across restarts, start with',
      `  CRA_ADMIN_KEYS=$CRA_API_KEY ${served.command}`,
    );
  } else {
    const admins =
      config.adminKeys.length > 0
        ? `${config.adminKeys.length} admin`
        : config.atlasWrites === 'any-key'
          ? 'no admin key; CRA_ATLAS_WRITES=any-key: every key may load and unload atlases'
          : 'no admin key: atlases change only at start; CRA_ADMIN_KEYS lets keys change them over HTTP';
    lines.push(`  auth: ${config.apiKeys.length + config.adminKeys.length} key(s) configured (${admins})`);
  }
  lines.push(`${served.name} listening on ${served.url} (OpenAPI: ${served.url}/openapi.json, docs: ${served.url}/docs)`);
  return lines;
}

/** What each kind of damage means, in the operator's words. */
const DAMAGE: Readonly<Record<StoreIssue['kind'], string>> = {
  torn_line: 'its last line was cut short (a write interrupted)',
  malformed_line: 'a line is not a JSON event',
  invalid_chain: 'its hash chain does not verify',
  truncated: 'its last events are gone (shorter than at its last sync)',
  missing: 'its trace file is gone',
  missing_events: 'events are missing inside it',
  duplicated_events: 'an event is stored twice',
  session_mismatch: 'it holds events of another session',
  index_missing: 'the session index is gone: rebuilt from the traces, whose cut ends cannot be told this time',
  unreadable: 'it cannot be read',
};

/** One line per damaged trace (or store file): which session, the kind and what it means, the store's account, where. */
function damagedTrace(i: StoreIssue): string {
  const meaning = (DAMAGE as Record<string, string>)[i.kind] ?? 'it is damaged';
  if (i.session_id === null) return `  damaged store file: ${i.location ?? 'the store'}: ${i.kind} (${meaning}): ${i.message}`;
  const where = i.location ? ` [${i.location}]` : '';
  return `  damaged trace left out: session ${i.session_id}: ${i.kind} (${meaning}): ${i.message}${where}`;
}
