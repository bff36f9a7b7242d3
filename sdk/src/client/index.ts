/**
 * The HTTP client alone (`cra-runtime/client`): a {@link CraRuntime} backed by a CRA server, with the protocol types
 * and errors, and no WebAssembly. For browsers and apps that only talk to a server.
 *
 * ```ts
 * import { createClient } from 'cra-runtime/client';
 * const cra = createClient({ baseUrl: 'https://cra.example.com', apiKey });
 * const session = await cra.createSession({ agentId: 'support-bot', goal: 'Handle ticket T-10042' });
 * ```
 *
 * @module
 */

export { createClient, HttpRuntime, type ClientOptions } from './client.ts';
export { HttpSession } from './session.ts';
export type { TelemetryOptions, TelemetrySetting } from '../telemetry/telemetry.ts';
export type {
  ActionRequest,
  ApproveOptions,
  CarpResult,
  CompleteOptions,
  CraRuntime,
  CraSession,
  CreateSessionOptions,
  DenyOptions,
  FailOptions,
  LoadAtlasOptions,
  ResolveOptions,
} from '../interface.ts';
export { CraError, ERROR_STATUS, isCraError, type CoreErrorCode, type CraErrorCode, type SdkErrorCode } from '../errors.ts';
export type * from '../types.ts';
