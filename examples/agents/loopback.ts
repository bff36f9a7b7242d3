/**
 * The plumbing of the examples' fake model endpoints: a `node:http` server on a free loopback port that answers
 * JSON POSTs to one path. Each fake model (`openai/`, `anthropic/`) supplies only what its API says: the answer to a
 * request body, and the shape of its error bodies.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JsonEndpointOptions {
  /** The one path served (POST). */
  path: string;
  /** Called with every request body first, streamed ones included (the fakes record what they received). */
  record(body: unknown, req: IncomingMessage): void;
  /** The answer to a request body: `[status, body]` (sent as JSON). */
  answer(body: unknown, req: IncomingMessage): [number, unknown];
  /** The API's error body for `type` (`not_found`, `invalid_request`, `server_error`) and a message. */
  errorBody(type: 'not_found' | 'invalid_request' | 'server_error', message: string): unknown;
}

export interface JsonEndpoint {
  port: number;
  close(): Promise<void>;
}

/** Serves `options.path` on 127.0.0.1; streamed requests are refused (the fakes answer whole messages). */
export async function serveJson(options: JsonEndpointOptions): Promise<JsonEndpoint> {
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => send(res, 500, options.errorBody('server_error', String(err))));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== options.path) {
      return send(res, 404, options.errorBody('not_found', `the fake model serves POST ${options.path} only, not ${req.method} ${req.url}`));
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { stream?: boolean };
    options.record(body, req);
    if (body.stream) return send(res, 400, options.errorBody('invalid_request', 'the fake model does not stream'));
    const [status, answer] = options.answer(body, req);
    send(res, status, answer);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // the clients keep connections alive
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
