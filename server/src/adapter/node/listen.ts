/**
 * Node's listener for any app (`@hono/node-server`), with a graceful close: stop accepting, end idle connections at
 * once and busy ones as their last response ends, and cut what is left after a grace period.
 *
 * It also bounds what a client can hold without sending anything useful: a request's headers must arrive within
 * `headersTimeoutMs` and the whole request within `requestTimeoutMs` (Node's `headersTimeout` / `requestTimeout`;
 * the app answers a body that is too slow itself, earlier — `bodyUpTo` — so Node's limit is the backstop), answered
 * 408 `request_timeout` as JSON like every other error; and connections are capped, per remote address (a new one
 * beyond `maxConnectionsPerAddress` gets 429 `rate_limited` and is closed) and overall (`maxConnections`: Node
 * closes the excess at once).
 *
 * @module
 */

import { serve } from '@hono/node-server';
import { STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { App } from '../../context.ts';
import { errorBody } from '../../errors.ts';
import { CraError } from '../../../../sdk/src/errors.ts';

export interface ListenOptions {
  port?: number;
  host?: string;
  /** Called first on close (ends live streams). */
  onClose?: () => void;
  /** Longest wait for a request's headers, ms (default 10 000). */
  headersTimeoutMs?: number;
  /** Longest wait for a whole request, headers and body, ms (default 45 000; at least `headersTimeoutMs`). */
  requestTimeoutMs?: number;
  /** Open connections per remote address (default 64); one more → 429 and closed. */
  maxConnectionsPerAddress?: number;
  /** Open connections overall (default 1024); Node closes the excess at once. */
  maxConnections?: number;
}

export const LISTEN_DEFAULTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 45_000,
  maxConnectionsPerAddress: 64,
  maxConnections: 1024,
} as const;

/** A whole HTTP/1.1 answer with a JSON error body, for a socket no request object answers. */
function rawAnswer(status: number, code: string, message: string): string {
  const body = JSON.stringify(errorBody(code, message));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

export interface Listening {
  server: Server;
  url: string;
  port: number;
  /** Stops accepting, ends live streams, waits up to `graceMs` for requests under way, then closes connections. */
  close(graceMs?: number): Promise<void>;
}

/** Serves `app` with `@hono/node-server`; answers once listening. */
export async function listen(app: { fetch: App['fetch'] }, options: ListenOptions = {}): Promise<Listening> {
  const host = options.host ?? '127.0.0.1';
  const headersTimeout = positive(options.headersTimeoutMs ?? LISTEN_DEFAULTS.headersTimeoutMs, 'headersTimeoutMs');
  const requestTimeout = Math.max(headersTimeout, positive(options.requestTimeoutMs ?? LISTEN_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs'));
  const perAddress = positive(options.maxConnectionsPerAddress ?? LISTEN_DEFAULTS.maxConnectionsPerAddress, 'maxConnectionsPerAddress');
  const serverOptions = {
    headersTimeout,
    requestTimeout,
    // Node looks for expired requests at this interval (default 30 s): often enough for the limits to hold.
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
  const server = await new Promise<Server>((ok, fail) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host, serverOptions }, () => ok(s as Server)) as Server;
    s.once('error', fail);
  });
  server.maxConnections = positive(options.maxConnections ?? LISTEN_DEFAULTS.maxConnections, 'maxConnections');
  // Node's own answers to a bad or late request are bare text: answer them as the API's typed JSON errors.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (err.code === 'ECONNRESET' || !socket.writable || started) {
      socket.destroy();
      return;
    }
    const answer =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? rawAnswer(408, 'request_timeout', `the request did not arrive in time (its headers are allowed ${headersTimeout} ms)`)
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? rawAnswer(431, 'invalid_request', 'the request headers are too large')
          : rawAnswer(400, 'invalid_request', 'malformed HTTP request');
    socket.end(answer);
  });
  // Connections per remote address: one client cannot take every socket the server has. A refused socket never
  // reaches the HTTP parser (Node's own connection listener runs only for the accepted ones).
  const perPeer = new Map<string, number>();
  const http = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? '';
    const open = perPeer.get(peer) ?? 0;
    if (open >= perAddress) {
      socket.on('error', () => undefined);
      socket.end(rawAnswer(429, 'rate_limited', `too many open connections from this address (at most ${perAddress})`));
      socket.setTimeout(1000, () => socket.destroy());
      return;
    }
    perPeer.set(peer, open + 1);
    socket.once('close', () => {
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
    });
    for (const listener of http) listener.call(server, socket);
  });
  const { port } = server.address() as AddressInfo;
  // Requests under way per connection: at close, connections with none are ended at once (Node counts a
  // connection that has not sent a request yet as busy, and would keep it open until the grace runs out).
  const busy = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    busy.set(socket, 0);
    socket.once('close', () => busy.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once('close', () => {
      if (busy.has(socket)) busy.set(socket, Math.max(0, (busy.get(socket) ?? 1) - 1));
    });
  });
  const endIdle = () => {
    for (const [socket, n] of busy) if (n === 0) socket.destroy();
  };
  let closing: Promise<void> | null = null;
  return {
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close(graceMs = 5000) {
      closing ??= new Promise<void>((done) => {
        options.onClose?.();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        // Connections turn idle as their last response ends (streams included): end them as they do.
        const idle = setInterval(endIdle, 25);
        idle.unref();
        server.close(() => {
          clearTimeout(timer);
          clearInterval(idle);
          done();
        });
        endIdle();
      });
      return closing;
    },
  };
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new CraError('invalid_request', `${name} must be a positive integer`, { path: `/${name}` });
  return value;
}
