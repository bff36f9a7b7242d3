/**
 * What a client can hold without sending anything useful, over real sockets (`node:net`) on loopback: slow headers
 * and slow bodies get a typed 408 within the limit, one address cannot take every connection (429), and the server
 * goes on serving everyone else.
 */

import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemble, type Assembly } from '../../assemble.ts';
import { parseConfig } from '../../config.ts';
import { KEY_A } from '../../testing.ts';
import { listen, type Listening } from './listen.ts';

const HEADERS_MS = 300;
const BODY_MS = 300;
const PER_ADDRESS = 8;

interface Peer {
  socket: Socket;
  /** Everything received until the server closed the connection, and when (ms after the start). */
  closed: Promise<{ text: string; afterMs: number }>;
}

/** A raw connection from `localAddress` that sends `text` and keeps reading until the server closes it. */
function peer(port: number, text: string, localAddress = '127.0.0.1'): Promise<Peer> {
  return new Promise((ready, fail) => {
    const t0 = Date.now();
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(text);
      ready({ socket, closed });
    });
    let received = '';
    socket.setEncoding('utf8').on('data', (d: string) => (received += d));
    const closed = new Promise<{ text: string; afterMs: number }>((done) => socket.once('close', () => done({ text: received, afterMs: Date.now() - t0 })));
    socket.once('error', fail);
  });
}

/** Status and JSON body of a raw HTTP answer. */
function parse(raw: string): { status: number; body: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return { status, body: body === '' ? null : JSON.parse(body) };
}

/** A plain GET from `localAddress` (another client, as far as the server can tell). */
function get(port: number, path: string, localAddress = '127.0.0.1'): Promise<{ status: number; body: any }> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => done({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.once('error', fail);
    req.end();
  });
}

/** `attempt` until `done` says yes (the server may see a close a moment after the client), at most 2 s. */
async function eventually<T>(attempt: () => Promise<T>, done: (t: T) => boolean): Promise<T> {
  const until = Date.now() + 2000;
  for (;;) {
    const t = await attempt();
    if (done(t) || Date.now() > until) return t;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const slowBody = `POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY_A}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"agent_id"`;

describe('Node listener limits', () => {
  let server: Assembly;
  let l: Listening;
  beforeAll(async () => {
    server = await assemble(parseConfig({ CRA_API_KEYS: KEY_A }), { app: { onError: () => undefined, bodyTimeoutMs: BODY_MS } });
    l = await listen(server.app, {
      port: 0,
      headersTimeoutMs: HEADERS_MS,
      requestTimeoutMs: HEADERS_MS + BODY_MS + 1000,
      maxConnectionsPerAddress: PER_ADDRESS,
      onClose: server.endStreams,
    });
  });
  afterAll(async () => {
    await l.close(500);
    await server.close();
  });

  it('answers a body that stops arriving with 408 request_timeout (JSON) within the limit, and closes', async () => {
    const p = await peer(l.port, slowBody);
    const { text, afterMs } = await p.closed;
    expect(parse(text)).toEqual({
      status: 408,
      body: { error: { code: 'request_timeout', message: `the request body did not arrive within ${BODY_MS} ms`, path: null } },
    });
    expect(afterMs).toBeGreaterThanOrEqual(BODY_MS - 50);
    expect(afterMs).toBeLessThan(BODY_MS + 1500);
  });

  it('answers headers that stop arriving with 408 request_timeout (JSON) within the limit, and closes', async () => {
    const p = await peer(l.port, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const { text, afterMs } = await p.closed;
    const { status, body } = parse(text);
    expect([status, body.error.code, body.error.path]).toEqual([408, 'request_timeout', null]);
    expect(body.error.message).toMatch(/^the request did not arrive in time/);
    expect(afterMs).toBeLessThan(HEADERS_MS + 1500);
  });

  it('times out many slow bodies at once; the server answers afterwards', async () => {
    const peers = await Promise.all(Array.from({ length: PER_ADDRESS }, () => peer(l.port, slowBody)));
    const answers = await Promise.all(peers.map((p) => p.closed));
    expect(answers.map((a) => parse(a.text).status)).toEqual(Array(PER_ADDRESS).fill(408));
    expect(Math.max(...answers.map((a) => a.afterMs))).toBeLessThan(BODY_MS + 2000);
    expect(await get(l.port, '/health')).toMatchObject({ status: 200, body: { status: 'healthy' } });
  });

  it('refuses one connection too many from an address with 429 rate_limited, and keeps serving other addresses', async () => {
    // Connections that send a partial request line: open, not yet answered.
    const held = await Promise.all(Array.from({ length: PER_ADDRESS }, () => peer(l.port, 'GET /he')));
    const extra = await peer(l.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const refused = await extra.closed;
    expect(parse(refused.text)).toEqual({
      status: 429,
      body: { error: { code: 'rate_limited', message: `too many open connections from this address (at most ${PER_ADDRESS})`, path: null } },
    });
    // Another address is served meanwhile.
    expect(await get(l.port, '/health', '127.0.0.2')).toMatchObject({ status: 200 });
    // The held connections are timed out in turn; then the address is served again.
    await Promise.all(held.map((p) => p.closed));
    expect(await eventually(() => get(l.port, '/health'), (a) => a.status === 200)).toMatchObject({ status: 200 });
  });

  it('sets Node’s own limits and the overall connection cap; refuses bad limits', async () => {
    expect([l.server.headersTimeout, l.server.requestTimeout, l.server.maxConnections]).toEqual([HEADERS_MS, HEADERS_MS + BODY_MS + 1000, 1024]);
    await expect(listen(server.app, { maxConnectionsPerAddress: 0 })).rejects.toMatchObject({ code: 'invalid_request', path: '/maxConnectionsPerAddress' });
  });
});
