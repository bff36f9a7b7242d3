/**
 * Continues a caller's distributed trace: the W3C trace context of a request (`traceparent`, `tracestate`, or
 * whatever propagator the host registered) becomes the active OpenTelemetry context while the request is handled,
 * so the runtime's spans (`cra.resolve`, `cra.action.request`…) are children of the caller's span, the one the SDK's
 * HTTP client sends. Through `@opentelemetry/api` only: with no propagator or context manager registered (no
 * OpenTelemetry SDK in the host) it is a no-op, and a request without its headers costs a lookup
 * per header the propagator reads.
 *
 * @module
 */

import { context, propagation, type TextMapGetter } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';

const fromHeaders: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** The middleware: runs the rest of the request inside the context its headers carry. */
export function traceContext(): MiddlewareHandler {
  return (c, next) => {
    const headers = c.req.raw.headers;
    // The registered propagator's headers (none without one): a request that carries none of them has no context.
    if (!propagation.fields().some((field) => headers.has(field))) return next();
    return context.with(propagation.extract(context.active(), headers, fromHeaders), next);
  };
}
