/**
 * The server's metrics, scraped at `GET /metrics`: HTTP requests by method, route pattern and status, with their
 * durations; trace events appended, by type; and the governance decisions those events record. Decisions are counted
 * from the event hub (`TraceEvents`): the event type is the decision the core took and recorded (`action.approved`,
 * `action.denied`, `policy.violated`), never decided again here. Sessions are read from the runtime at scrape time.
 *
 * Every label value is bounded: route patterns (`/v1/sessions/:session_id`), never raw paths or ids; known methods
 * and event types only, the rest as `OTHER` / `other`.
 *
 * @module
 */

import { EVENT_TYPES } from '../../../sdk/src/abi.ts';
import type { CraRuntime } from '../../../sdk/src/interface.ts';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import type { TraceEvents } from '../events.ts';
import { Counter, Histogram } from './exposition.ts';

/** Upper bounds of the request duration histogram, seconds. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const KNOWN_EVENTS: ReadonlySet<string> = new Set(EVENT_TYPES);

/** The decision each decision event records. */
const DECISION_OF: Readonly<Record<string, string>> = {
  'action.approved': 'approved',
  'action.denied': 'denied',
  'policy.violated': 'violated',
};

/**
 * What a scrape reads besides the counters.
 * @inline
 */
export interface ScrapeSources {
  /** The runtime whose sessions, atlases and core memory are reported (`cra_sessions`…); none: not reported. */
  runtime?: CraRuntime | null;
  /** Reported as `cra_server_info{version}`; none: not reported. */
  version?: string;
}

/**
 * The counters of `GET /metrics`, in the Prometheus text format. `createApp` makes one unless it is given one
 * (`metrics`), which lets another listener serve the same counters.
 */
export class ServerMetrics {
  /** `cra_http_requests_total{method, route, status}`: HTTP requests answered. */
  readonly requests = new Counter('cra_http_requests_total', 'HTTP requests answered, by method, route pattern and status', ['method', 'route', 'status']);
  /** `cra_http_request_duration_seconds{method, route}`: time to answer a request, in seconds. */
  readonly durations = new Histogram(
    'cra_http_request_duration_seconds',
    'Time to answer an HTTP request (to its headers, for streams), by method and route pattern',
    ['method', 'route'],
    DURATION_BUCKETS,
  );
  /** `cra_trace_events_total{event_type}`: trace events appended. */
  readonly traceEvents = new Counter('cra_trace_events_total', 'Trace events appended, by event type', ['event_type']);
  /** `cra_actions_requested_total`: `action.requested` events appended. */
  readonly actionsRequested = new Counter('cra_actions_requested_total', 'Actions requested (action.requested events)');
  /** `cra_action_decisions_total{result}`: decisions recorded (`approved`, `denied`, `violated`). */
  readonly decisions = new Counter(
    'cra_action_decisions_total',
    'Decisions on requested actions, by result, as recorded in the trace (approved: action.approved; denied: action.denied; violated: policy.violated)',
    ['result'],
  );
  private readonly hubs = new WeakSet<TraceEvents>();
  /** When the process started (ms since the epoch): the time origin where the runtime has one, else now. */
  readonly startedAtMs: number;

  constructor() {
    const origin = typeof performance !== 'undefined' ? performance.timeOrigin : 0;
    this.startedAtMs = origin > 0 ? origin : Date.now();
    // Every decision series exists from the start, at 0: a rate over the first decision is then defined.
    this.actionsRequested.inc([], 0);
    for (const result of new Set(Object.values(DECISION_OF))) this.decisions.inc([result], 0);
  }

  /** Counts every event appended through `events` from now on (once per hub, however often it is called). */
  observe(events: TraceEvents): void {
    if (this.hubs.has(events)) return;
    this.hubs.add(events);
    events.observe((_session, batch) => this.count(batch));
  }

  /** Counts appended events and the decisions they record. */
  count(batch: readonly TraceEvent[]): void {
    for (const event of batch) {
      const type = KNOWN_EVENTS.has(event.event_type) ? event.event_type : 'other';
      this.traceEvents.inc([type]);
      if (type === 'action.requested') this.actionsRequested.inc();
      const decision = DECISION_OF[type];
      if (decision) this.decisions.inc([decision]);
    }
  }

  /** One answered request. `route` is the matched route pattern (or `unmatched`). */
  request(method: string, route: string, status: number, seconds: number): void {
    const m = METHODS.has(method) ? method : 'OTHER';
    this.requests.inc([m, route, String(status)]);
    this.durations.observe([m, route], seconds);
  }

  /** The exposition text: the counters, then what the runtime says now (sessions), then the process. */
  async render(sources: ScrapeSources = {}): Promise<string> {
    let out = this.requests.render() + this.durations.render() + this.traceEvents.render() + this.actionsRequested.render() + this.decisions.render();
    const runtime = sources.runtime;
    if (runtime) {
      try {
        const stats = await runtime.stats();
        const active = (await runtime.listSessions({ status: 'active', limit: 1 })).total;
        const sessions = new Counter('cra_sessions', 'Sessions: active (not ended), live (held in memory by the core), known (stored)', ['state'], 'gauge');
        sessions.set(['active'], active);
        sessions.set(['live'], stats.sessions);
        if (stats.known_sessions !== undefined) sessions.set(['known'], stats.known_sessions);
        const atlases = new Counter('cra_atlases_loaded', 'Atlases loaded', [], 'gauge');
        atlases.set([], stats.atlases);
        const memory = new Counter('cra_core_memory_bytes', "The core's linear memory, bytes", [], 'gauge');
        memory.set([], stats.memory_bytes);
        out += sessions.render() + atlases.render() + memory.render();
      } catch {
        // A closing runtime answers no stats: the scrape still has the counters.
      }
    }
    if (sources.version !== undefined) {
      const info = new Counter('cra_server_info', 'The server version (always 1)', ['version'], 'gauge');
      info.set([sources.version], 1);
      out += info.render();
    }
    const start = new Counter('process_start_time_seconds', 'Start time of the process since unix epoch in seconds', [], 'gauge');
    start.set([], Math.floor(this.startedAtMs / 1000));
    return out + start.render();
  }
}
