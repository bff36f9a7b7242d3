/**
 * The JSON-body middleware behind the Node adapter (`@hono/node-server`, real HTTP over loopback): how a body reaches
 * it. A body of declared length is read straight from the socket, without the web `Request` and stream the adapter
 * builds when `raw.body` is asked for (the largest cost of a small JSON request); a chunked body, whose size nothing
 * declares, still goes through the stream and its limit.
 */

import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorResponse } from '../../errors.ts';
import { bodyUpTo, jsonBody, parsedBody } from './index.ts';

const LIMIT = 64;

let port = 0;
let close: () => Promise<void>;
/** Calls of `Readable.toWeb`: the adapter builds a web stream over the socket only through it. */
let streamsBuilt = 0;
const toWeb = Readable.toWeb;

beforeAll(async () => {
  Readable.toWeb = ((...args: Parameters<typeof toWeb>) => {
    streamsBuilt++;
    return toWeb(...args);
  }) as typeof toWeb;
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.use('*', bodyUpTo(LIMIT, 5000));
  app.use('*', jsonBody());
  app.post('/echo', (c) => c.json({ type: c.req.header('content-type') ?? null, body: parsedBody(c) ?? null }));
  const server = await new Promise<ReturnType<typeof serve>>((ready) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => ready(s));
  });
  port = (server.address() as AddressInfo).port;
  close = () => new Promise((done) => server.close(() => done()));
});

afterAll(async () => {
  Readable.toWeb = toWeb;
  await close?.();
});

/** POSTs `chunks` to /echo: with a Content-Length when `declared`, else chunked. */
function post(chunks: string[], declared: boolean): Promise<{ status: number; body: { type: string | null; body: unknown; error?: { code: string } } }> {
  const total = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
  return new Promise((answer, fail) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/echo',
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(declared ? { 'content-length': String(total) } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => answer({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', fail);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('JSON bodies behind the Node adapter', () => {
  it('reads a body of declared length straight from the socket: parsed as sent, no web stream built', async () => {
    streamsBuilt = 0;
    const res = await post(['{"action_id":"ticket.lookup",', '"parameters":{"ticket_id":"T-1"}}'], true);
    expect(res).toEqual({ status: 200, body: { type: 'application/json', body: { action_id: 'ticket.lookup', parameters: { ticket_id: 'T-1' } } } });
    expect(streamsBuilt).toBe(0);
  });

  it('drops an empty body of declared length 0 and its content type, as any empty body', async () => {
    expect(await post([], true)).toEqual({ status: 200, body: { type: null, body: null } });
  });

  it('refuses a declared length over the limit with 413 before reading it', async () => {
    const res = await post([`{"a":"${'x'.repeat(LIMIT)}"}`], true);
    expect([res.status, res.body.error?.code]).toEqual([413, 'payload_too_large']);
  });

  it('still reads a chunked body (no declared length) through the stream, within the limit', async () => {
    streamsBuilt = 0;
    expect(await post(['{"a":', '[1,2]}'], false)).toEqual({ status: 200, body: { type: 'application/json', body: { a: [1, 2] } } });
    expect(streamsBuilt).toBe(1);
    const over = await post(['{"a":"', 'x'.repeat(LIMIT), '"}'], false);
    expect([over.status, over.body.error?.code]).toEqual([413, 'payload_too_large']);
  });
});
