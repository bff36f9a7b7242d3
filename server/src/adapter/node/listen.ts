/**
 * Node's listener for any app (`@hono/node-server`), with a graceful close: stop accepting, end idle connections at
 * once and busy ones as their last response ends, and cut what is left after a grace period.
 *
 * @module
 */

import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { App } from '../../context.ts';

export interface Listening {
  server: Server;
  url: string;
  port: number;
  /** Stops accepting, ends live streams, waits up to `graceMs` for requests under way, then closes connections. */
  close(graceMs?: number): Promise<void>;
}

/** Serves `app` with `@hono/node-server`; answers once listening. */
export async function listen(app: { fetch: App['fetch'] }, options: { port?: number; host?: string; onClose?: () => void } = {}): Promise<Listening> {
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((ok, fail) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => ok(s as Server)) as Server;
    s.once('error', fail);
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
