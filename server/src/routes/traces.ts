/**
 * Traces: read (JSON array, or JSONL), verify, replay, diff, and a live SSE stream of a session's events.
 *
 * @module
 */

import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { TraceEvent } from '../../../sdk/src/types.ts';
import type { App, Services } from '../context.ts';
import {
  DiffBody,
  DiffSchema,
  ReplaySchema,
  SessionIdParam,
  StreamQuery,
  TraceQuery,
  TraceSchema,
  VerifySchema,
} from '../schemas.ts';
import { errors, json, ok, owned, requestBody, route, valid } from './helpers.ts';

const Traces = ['Traces'];
export const JSONL_TYPES = ['application/vnd.cra.trace+jsonl', 'application/x-ndjson'] as const;

/** One event per line, LF-terminated (docs/protocol.md, trace format), trailing newline included. */
export function toJsonlText(events: readonly TraceEvent[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join('');
}

export function traceRoutes(app: App, s: Services): void {
  const { runtime } = s;

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/traces/{session_id}',
      tags: Traces,
      summary: "A session's trace in chain order: JSON array, or JSONL with Accept: application/x-ndjson or application/vnd.cra.trace+jsonl",
      request: { params: SessionIdParam, query: TraceQuery },
      responses: {
        200: {
          description: 'The events',
          content: {
            'application/json': { schema: TraceSchema },
            'application/vnd.cra.trace+jsonl': { schema: z.string() },
            'application/x-ndjson': { schema: z.string() },
          },
        },
        ...errors(400, 404),
      },
    }),
    async (c) => {
      const id = await owned(c, s);
      const q = valid<z.infer<typeof TraceQuery>>(c, 'query');
      let events = await runtime.trace(id);
      if (q.since_sequence !== undefined) events = events.filter((e) => e.sequence > q.since_sequence!);
      if (q.event_type !== undefined) events = events.filter((e) => e.event_type === q.event_type);
      if (q.limit !== undefined) events = events.slice(0, q.limit);
      const type = jsonlType(c.req.header('accept'));
      if (type) return c.body(toJsonlText(events), 200, { 'Content-Type': `${type}; charset=utf-8` });
      return json(c, events);
    },
  );

  for (const method of ['get', 'post'] as const) {
    route(
      app,
      createRoute({
        method,
        path: '/v1/traces/{session_id}/verify',
        tags: Traces,
        summary: "Verify a session's stored chain (and that it was not cut: against the head the runtime holds)",
        request: { params: SessionIdParam },
        responses: { 200: ok('The verdict', VerifySchema), ...errors(404) },
      }),
      async (c) => json(c, await runtime.verify(await owned(c, s))),
    );
  }

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/traces/{session_id}/replay',
      tags: Traces,
      summary: "Replay a session's trace against the loaded atlases and report divergences",
      request: { params: SessionIdParam },
      responses: { 200: ok('The replay', ReplaySchema), ...errors(404) },
    }),
    async (c) => json(c, await runtime.replay(await owned(c, s))),
  );

  route(
    app,
    createRoute({
      method: 'post',
      path: '/v1/traces/diff',
      tags: Traces,
      summary: 'Compare two traces event by event (ids, timestamps and hashes ignored)',
      request: { body: requestBody(DiffBody) },
      responses: { 200: ok('The differences', DiffSchema), ...errors(400) },
    }),
    async (c) => {
      const b = valid<{ a: TraceEvent[]; b: TraceEvent[] }>(c, 'json');
      return json(c, await runtime.diff(b.a, b.b));
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/traces/{session_id}/stream',
      tags: Traces,
      summary:
        "Live Server-Sent Events of a session: its past events, then each new one as it is recorded (`id` = sequence, `data` = the event); `event: end` after session.ended",
      request: { params: SessionIdParam, query: StreamQuery },
      responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } }, ...errors(400, 404) },
    }),
    async (c) => {
      const id = await owned(c, s);
      const q = valid<z.infer<typeof StreamQuery>>(c, 'query');
      const lastId = Number.parseInt(c.req.header('last-event-id') ?? '', 10);
      let last = Math.max(q.since_sequence ?? -1, Number.isInteger(lastId) ? lastId : -1);

      // Subscribe before reading the stored trace, so that nothing recorded in between is missed (dedup by sequence).
      const queue: TraceEvent[] = [];
      let wake: (() => void) | null = null;
      let stop = false;
      const signal = () => {
        const w = wake;
        wake = null;
        w?.();
      };
      const finish = () => {
        stop = true;
        signal();
      };
      const unsubscribe = s.events?.subscribe(
        id,
        (batch) => {
          queue.push(...batch);
          signal();
        },
        finish,
      );
      const onShutdown = () => finish();
      s.shutdown?.addEventListener('abort', onShutdown);
      const cleanup = () => {
        unsubscribe?.();
        s.shutdown?.removeEventListener('abort', onShutdown);
      };
      let past: TraceEvent[];
      try {
        past = await runtime.trace(id);
      } catch (err) {
        cleanup();
        throw err;
      }
      if (s.shutdown?.aborted) stop = true;
      queue.unshift(...past);

      return streamSSE(c, async (stream) => {
        stream.onAbort(finish);
        let ended = false;
        try {
          while (!stop && !ended) {
            if (queue.length === 0) {
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, s.events ? s.heartbeatMs : Math.min(s.heartbeatMs, s.pollMs));
                wake = () => {
                  clearTimeout(timer);
                  resolve();
                };
              });
              wake = null;
              if (!s.events && !stop) queue.push(...(await runtime.trace(id)).filter((e) => e.sequence > last));
              if (queue.length === 0 && !stop) await stream.write(': keep-alive\n\n');
              continue;
            }
            for (const e of queue.splice(0).sort((a, b) => a.sequence - b.sequence)) {
              if (e.sequence <= last) continue;
              last = e.sequence;
              await stream.writeSSE({ id: String(e.sequence), data: JSON.stringify(e) });
              if (e.event_type === 'session.ended') ended = true;
            }
          }
          if (ended) await stream.writeSSE({ event: 'end', data: JSON.stringify({ session_id: id, length: last + 1 }) });
        } finally {
          cleanup();
        }
      });
    },
  );
}

function jsonlType(accept: string | undefined): string | null {
  if (!accept) return null;
  const a = accept.toLowerCase();
  return JSONL_TYPES.find((t) => a.includes(t)) ?? null;
}
