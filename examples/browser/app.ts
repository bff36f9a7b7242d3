/**
 * The browser page: the CRA core runs in this tab (WebAssembly), governs the agent of `agent.ts`, and the page
 * shows the hash-chained trace as it grows, verifies it, lets you tamper with the displayed copy and export it.
 * Built by `serve.ts` into `dist/app.js`, beside a copy of the core (`dist/cra_core.wasm`).
 */
import { callbackSink, createRuntime, toJsonl, verifyTrace, type EmbeddedRuntime } from '../../sdk/src/index.ts';
import type { AtlasBundle, Execution, TraceEvent, VerifyResult } from '../../sdk/src/types.ts';
// The example support atlas as data ({ manifest, files }); the build inlines it.
import supportAtlas from '../../sdk/test/parity/support-bundle.json';
import { runAgent, type AgentStep, type PlannedCall } from './agent.ts';

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
};

/** The live trace as the collector delivered it, and the displayed copy (possibly tampered with). */
const state = {
  events: [] as TraceEvent[],
  tampered: null as { index: number; event: TraceEvent } | null,
  sessionId: null as string | null,
  exportUrl: null as string | null,
  renders: 0,
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
  showVerdict(verdict);
  await updateExport(events);
  state.renders++;
  document.body.dataset.renders = String(state.renders);
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
  try {
    runtime = await createRuntime({
      wasm: WASM,
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

  ui.run.onclick = async () => {
    ui.run.disabled = true;
    ui.log.replaceChildren();
    state.events = [];
    state.tampered = null;
    ui.tamper.textContent = 'Tamper with one event';
    state.sessionId = null; // the next session.started names the session to show
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
