/**
 * The browser page: the CRA core runs in this tab (WebAssembly), governs the agent of `agent.ts`, and the page
 * shows the hash-chained trace as it grows, verifies it, lets you tamper with the displayed copy and export it.
 * The tab signs its log too (a key generated in the page, WebCrypto Ed25519): checkpoints every 8 events and at the
 * session's end, shown beside the timeline; "Sync to server" hands the log and its checkpoints to the CRA server
 * beside the page (`sync.ts`), and "Rewrite history" shows that server refusing another history of the same session.
 * Built by `serve.ts` into `dist/app.js`, beside a copy of the core (`dist/cra_core.wasm`).
 */
import {
  callbackSink,
  CraError,
  createRuntime,
  generateSigningKey,
  toJsonl,
  verifyTrace,
  type Checkpoint,
  type EmbeddedRuntime,
  type HttpRuntime,
  type SigningKeyPair,
  type SyncResult,
} from '../../sdk/src/index.ts';
import type { AtlasBundle, Execution, TraceEvent, VerifyResult } from '../../sdk/src/types.ts';
// The example support atlas as data ({ manifest, files }); the build inlines it.
import supportAtlas from '../../sdk/test/parity/support-bundle.json';
import { runAgent, type AgentStep, type PlannedCall } from './agent.ts';
import { connect, syncRewritten, syncSession } from './sync.ts';

/** The core, fetched beside this bundle; one URL object so that every tool shares one compiled module. */
const WASM = new URL('./cra_core.wasm', import.meta.url);

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
};

const ui = {
  status: $('status'),
  run: $<HTMLButtonElement>('run'),
  log: $<HTMLOListElement>('log'),
  approval: $('approval'),
  approvalText: $('approval-text'),
  approve: $<HTMLButtonElement>('approve'),
  deny: $<HTMLButtonElement>('deny'),
  timeline: $<HTMLTableSectionElement>('timeline'),
  verdict: $('verdict'),
  tamper: $<HTMLButtonElement>('tamper'),
  exportLink: $<HTMLAnchorElement>('export'),
  key: $('key'),
  checkpoints: $<HTMLOListElement>('checkpoints'),
  sync: $<HTMLButtonElement>('sync'),
  rewrite: $<HTMLButtonElement>('rewrite'),
  syncStatus: $('sync-status'),
};

/** The live trace as the collector delivered it, and the displayed copy (possibly tampered with). */
const state = {
  events: [] as TraceEvent[],
  tampered: null as { index: number; event: TraceEvent } | null,
  sessionId: null as string | null,
  exportUrl: null as string | null,
  renders: 0,
  /** The runtime governing the agent (null until the core is loaded): its checkpoints are shown. */
  runtime: null as EmbeddedRuntime | null,
  /** The session the server holds a copy of (a rewrite needs one to be refused). */
  syncedSession: null as string | null,
};

function displayed(): TraceEvent[] {
  const t = state.tampered;
  return t ? state.events.map((e, i) => (i === t.index ? t.event : e)) : state.events;
}

// --- rendering -------------------------------------------------------------------------------------------------

/**
 * The core's words for a refusal (`action.denied`, `policy.violated`): the reason it recorded and the policy that
 * decided, as "reason (policy)"; null for any other event. The agent log and the timeline both show this text, taken
 * from the event, so that one refusal reads the same in both.
 */
function refusalText(e: TraceEvent): string | null {
  if (e.event_type !== 'action.denied' && e.event_type !== 'policy.violated') return null;
  const p = e.payload as Record<string, unknown>;
  const details = p.details as { message?: unknown } | undefined;
  const reason = typeof p.reason === 'string' ? p.reason : typeof details?.message === 'string' ? details.message : String(p.code ?? e.event_type);
  return typeof p.policy_id === 'string' ? `${reason} (${p.policy_id})` : reason;
}

/** The payload fields worth a glance, per event (a refusal: who and what, then its {@link refusalText}). */
function keyFields(e: TraceEvent): string {
  const p = e.payload as Record<string, unknown>;
  const refusal = refusalText(e);
  const pick = refusal
    ? ['action_id', 'approver', 'violation_type']
    : ['agent_id', 'operation', 'goal', 'action_id', 'decision_type', 'allowed_count', 'denied_count', 'block_id', 'policy_id', 'result', 'approver', 'reason', 'violation_type', 'error_code'];
  const parts: string[] = [];
  for (const k of pick) {
    const v = p[k];
    if (v === undefined || v === null) continue;
    parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  const details = p.details as { message?: string } | undefined;
  if (refusal) parts.push(refusal);
  else if (details?.message) parts.push(details.message);
  return parts.join(' · ');
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

let rendering: Promise<void> = Promise.resolve();

/** Re-renders the timeline and its verdict; renders are serialised so that a slow verify never lands late. */
function render(): Promise<void> {
  rendering = rendering.then(renderNow, renderNow);
  return rendering;
}

async function renderNow(): Promise<void> {
  const events = displayed();
  const verdict = events.length > 0 ? await verifyTrace(events, { wasm: WASM }) : null;
  const bad = verdict && !verdict.valid ? verdict.index : -1;
  const rows = events.map((e, i) => {
    const tr = document.createElement('tr');
    tr.dataset.sequence = String(e.sequence);
    tr.dataset.type = e.event_type;
    tr.dataset.hash = e.event_hash;
    if (i === state.tampered?.index) tr.classList.add('tampered');
    if (i === bad) tr.classList.add('broken');
    tr.append(cell(String(e.sequence), 'seq'), cell(e.event_type, 'type'), cell(keyFields(e), 'fields'), cell(e.event_hash.slice(0, 12), 'hash'));
    tr.title = `previous ${e.previous_event_hash}\nhash     ${e.event_hash}`;
    return tr;
  });
  ui.timeline.replaceChildren(...rows);
  ui.timeline.dataset.session = state.sessionId ?? '';
  showVerdict(verdict);
  await showCheckpoints();
  await updateExport(events);
  state.renders++;
  document.body.dataset.renders = String(state.renders);
}

/** The signed checkpoints of the session shown, oldest first: how many events each covers and its root. */
async function showCheckpoints(): Promise<void> {
  const id = state.sessionId;
  const checkpoints: Checkpoint[] = id && state.runtime ? await state.runtime.checkpoints(id).catch(() => []) : [];
  if (id !== state.sessionId) return; // a new run started meanwhile: its own render shows its checkpoints
  ui.checkpoints.replaceChildren(
    ...checkpoints.map((c) => {
      const li = document.createElement('li');
      li.dataset.size = String(c.size);
      li.dataset.root = c.root;
      li.textContent = `${c.size} events · root ${c.root.slice(0, 12)}`;
      li.title = c.note;
      return li;
    }),
  );
}

/** `<name>+<key id>` of a verifier key: enough to tell keys apart (the whole key is the element's title). */
function shortKey(verifier: string): string {
  const first = verifier.indexOf('+');
  return verifier.slice(0, verifier.indexOf('+', first + 1));
}

/** What the server answered a sync: what it now holds, or its refusal (code, status, message) in red. */
function showSync(action: 'sync' | 'rewrite', outcome: unknown): void {
  const el = ui.syncStatus;
  el.dataset.action = action;
  el.classList.remove('valid', 'invalid');
  delete el.dataset.code;
  if (isSyncResult(outcome)) {
    const r = outcome;
    el.dataset.state = action === 'sync' ? 'synced' : 'accepted';
    el.dataset.length = String(r.length);
    el.dataset.appended = String(r.appended);
    el.dataset.root = r.root;
    el.classList.add(action === 'sync' ? 'valid' : 'invalid');
    el.textContent =
      action === 'sync'
        ? `✔ synced: ${r.length} events (${r.appended} new) · root ${r.root.slice(0, 12)}`
        : `✘ the server took a rewritten history (${r.length} events)`;
    return;
  }
  el.dataset.state = 'refused';
  el.classList.add('invalid');
  if (outcome instanceof CraError) {
    el.dataset.code = outcome.code;
    el.textContent = `✘ ${action === 'rewrite' ? 'rewritten history refused' : 'sync refused'}: ${outcome.code} (${outcome.status}) — ${outcome.message}`;
  } else {
    el.textContent = `✘ ${action} failed: ${outcome instanceof Error ? outcome.message : String(outcome)}`;
  }
}

function isSyncResult(v: unknown): v is SyncResult {
  return typeof v === 'object' && v !== null && 'appended' in v && 'root' in v;
}

function showVerdict(v: VerifyResult | null): void {
  ui.verdict.classList.remove('valid', 'invalid');
  if (!v) {
    ui.verdict.textContent = 'no events yet';
    ui.verdict.dataset.state = 'empty';
    return;
  }
  if (v.valid) {
    ui.verdict.classList.add('valid');
    ui.verdict.dataset.state = 'valid';
    ui.verdict.textContent = `✔ chain valid · ${v.length} events · head ${v.head_hash.slice(0, 12)}`;
  } else {
    ui.verdict.classList.add('invalid');
    ui.verdict.dataset.state = 'invalid';
    ui.verdict.dataset.index = String(v.index);
    ui.verdict.textContent = `✘ chain broken at event #${v.index} (${v.reason})`;
  }
}

async function updateExport(events: TraceEvent[]): Promise<void> {
  if (state.exportUrl) URL.revokeObjectURL(state.exportUrl);
  state.exportUrl = null;
  if (events.length === 0) {
    ui.exportLink.removeAttribute('href');
    ui.exportLink.setAttribute('aria-disabled', 'true');
    return;
  }
  const text = await toJsonl(events, { wasm: WASM });
  state.exportUrl = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  ui.exportLink.href = state.exportUrl;
  ui.exportLink.download = `${state.sessionId ?? 'session'}${state.tampered ? '.tampered' : ''}.trace.jsonl`;
  ui.exportLink.removeAttribute('aria-disabled');
}

/**
 * One line of the agent log. A refusal says why in the words of the events the core recorded for the execution
 * (flushed to the timeline before the step is logged); a call with no such event (one the guard refused before
 * asking CRA) says what the guard said.
 */
function logStep(step: AgentStep): void {
  const li = document.createElement('li');
  li.dataset.action = step.actionId;
  li.dataset.outcome = step.outcome;
  li.className = step.outcome;
  const recorded = step.executionId === null ? [] : state.events.filter((e) => e.payload.execution_id === step.executionId);
  const said = recorded.map(refusalText).filter((t): t is string => t !== null);
  const reason = said.length > 0 ? said.join('; ') : step.outcome !== 'executed' ? step.reason : null;
  li.textContent = `${step.intent}: ${step.actionId} → ${step.outcome}${reason ? ` — ${reason}` : ''}`;
  ui.log.append(li);
}

// --- the human in the loop ---------------------------------------------------------------------------------------

function askHuman(execution: Execution, call: PlannedCall): Promise<boolean> {
  ui.approvalText.textContent =
    `${call.actionId} ${JSON.stringify(call.parameters)} needs approval: ${execution.reason ?? ''} (${execution.policy_id ?? ''}). ` +
    `The approval is bound to this exact call (approval_hash ${execution.approval_hash?.slice(0, 12) ?? '?'}…).`;
  ui.approval.hidden = false;
  ui.approve.focus();
  document.body.dataset.agent = 'awaiting-approval';
  return new Promise((resolve) => {
    const done = (answer: boolean) => () => {
      ui.approval.hidden = true;
      document.body.dataset.agent = 'running';
      ui.approve.onclick = null;
      ui.deny.onclick = null;
      resolve(answer);
    };
    ui.approve.onclick = done(true);
    ui.deny.onclick = done(false);
  });
}

// --- wiring ------------------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  const t0 = performance.now();
  let runtime: EmbeddedRuntime;
  let key: SigningKeyPair | null;
  let server: HttpRuntime | null;
  try {
    // This tab's signing key: made here, never sent anywhere; its verifier key is shown for anyone to check with.
    // A browser without Ed25519 in WebCrypto (Chromium before 137) runs the agent unsigned, with no sync.
    key = await generateSigningKey('cra.example/browser', { wasm: WASM }).catch(() => null);
    server = key ? await connect(location.href) : null;
    runtime = await createRuntime({
      wasm: WASM,
      ...(key ? { signing: { key: key.signer, every: 8 } } : {}),
      // The live trace: every recorded event reaches this sink, one at a time.
      sinks: [
        callbackSink((batch) => {
          for (const e of batch) {
            if (state.sessionId === null && e.event_type === 'session.started') state.sessionId = e.session_id;
            if (e.session_id === state.sessionId) state.events.push(e);
          }
          void render();
        }, 'timeline'),
      ],
      collector: { bufferSize: 1, flushIntervalMs: 0 },
    });
    await runtime.loadAtlas(supportAtlas as AtlasBundle);
    state.runtime = runtime;
  } catch (err) {
    ui.status.textContent = `✘ could not start the CRA core: ${err instanceof Error ? err.message : String(err)}`;
    ui.status.dataset.state = 'error';
    throw err;
  }
  const ms = Math.round(performance.now() - t0);
  const { atlas_id, version } = (supportAtlas as AtlasBundle).manifest;
  ui.status.textContent = `ready · core loaded in ${ms} ms · atlas ${atlas_id} ${version}`;
  ui.status.dataset.state = 'ready';
  ui.run.disabled = false;
  if (key) {
    ui.key.textContent = `verifier key ${shortKey(key.verifier)}`;
    ui.key.title = key.verifier;
    ui.key.dataset.key = key.verifier;
  } else ui.key.textContent = 'no Ed25519 in this browser (WebCrypto): the log is not signed';
  if (key && !server) ui.syncStatus.textContent = 'no CRA server beside this page: serve it with serve.ts to sync';

  ui.run.onclick = async () => {
    ui.run.disabled = true;
    ui.log.replaceChildren();
    state.events = [];
    state.tampered = null;
    ui.tamper.textContent = 'Tamper with one event';
    state.sessionId = null; // the next session.started names the session to show
    state.syncedSession = null;
    ui.rewrite.disabled = true;
    ui.syncStatus.textContent = '';
    ui.syncStatus.dataset.state = 'idle';
    ui.syncStatus.classList.remove('valid', 'invalid');
    document.body.dataset.agent = 'running';
    try {
      await runAgent(runtime, {
        // The guard's `approve` callback: the Approve / Deny buttons answer it (approved: the tool runs).
        approve: async (execution, call) => {
          await runtime.flush(); // show the pending request before waiting for the human
          return askHuman(execution, call);
        },
        approver: 'lead@example.com',
        onStep: async (step) => {
          await runtime.flush();
          if ('actionId' in step) logStep(step);
        },
      });
      await runtime.flush();
      await render();
      document.body.dataset.agent = 'done';
    } catch (err) {
      const li = document.createElement('li');
      li.className = 'error';
      li.textContent = `the agent stopped: ${err instanceof Error ? err.message : String(err)}`;
      ui.log.append(li);
      document.body.dataset.agent = 'error';
    } finally {
      ui.run.disabled = false;
    }
  };

  // Sync: the server takes what it lacks of the session's log, with checkpoints that cover it.
  ui.sync.onclick = async () => {
    const id = state.sessionId;
    if (!server || !id) return;
    ui.sync.disabled = true;
    try {
      const result = await syncSession(runtime, server, id);
      if (id === state.sessionId) {
        state.syncedSession = id;
        ui.rewrite.disabled = false;
      }
      showSync('sync', result);
    } catch (err) {
      showSync('sync', err);
    } finally {
      ui.sync.disabled = false;
      await render(); // the checkpoint the sync may have signed
    }
  };

  // Rewrite: another history of the synced session, as validly signed, which the server must refuse.
  ui.rewrite.onclick = async () => {
    const id = state.syncedSession;
    if (!server || !key || !id) return;
    ui.rewrite.disabled = true;
    try {
      showSync('rewrite', await syncRewritten(await runtime.trace(id), server, { wasm: WASM, atlas: supportAtlas as AtlasBundle, signer: key.signer }));
    } catch (err) {
      showSync('rewrite', err);
    } finally {
      ui.rewrite.disabled = state.syncedSession === null;
    }
  };
  ui.sync.disabled = server === null;

  ui.tamper.onclick = async () => {
    if (state.tampered) {
      state.tampered = null;
      ui.tamper.textContent = 'Tamper with one event';
    } else if (state.events.length > 0) {
      // Rewrite who approved the refund (or, before any approval, the goal) in the displayed copy only.
      let index = state.events.findIndex((e) => e.event_type === 'action.approved' && 'approver' in e.payload);
      if (index < 0) index = 0;
      const original = state.events[index]!;
      const payload = 'approver' in original.payload ? { ...original.payload, approver: 'mallory@example.com' } : { ...original.payload, goal: 'Refund everyone' };
      state.tampered = { index, event: { ...original, payload } };
      ui.tamper.textContent = 'Undo the tampering';
    }
    await render();
  };
}

void start();
