/**
 * The HTTP baseline: a bare Hono app served by `@hono/node-server` as the CRA server is (same Node, a process of its
 * own, loopback, a free port), with a GET route answering a small JSON object and a POST route echoing its JSON
 * body. What any Hono service costs before it does anything. Prints one JSON line `{url}` once listening; stops when
 * its stdin closes or on SIGTERM.
 */

import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';

const app = new Hono();
app.get('/hello', (c) => c.json({ status: 'ok' }));
app.post('/echo', async (c) => c.json(await c.req.json()));

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${info.port}` })}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
