/**
 * CRA — the authority layer between AI agents and their tools. This entry is isomorphic (Node, Deno, edge
 * workers, browsers): it imports nothing platform-specific. Node extras (JSONL storage and sinks, reading atlas
 * folders) are in the `node` entry.
 *
 * ```ts
 * const runtime = await createRuntime();
 * await runtime.loadAtlas({ manifest, files });
 * const session = await runtime.createSession({ agentId: 'support-bot', goal: 'Answer ticket 42' });
 * const resolution = await session.resolve();
 * const execution = await session.requestAction({ actionId: 'ticket.lookup', parameters: { ticket_id: '42' } });
 * if (execution.status === 'approved') await session.complete(execution, { result: { ok: true } });
 * await session.end();
 * const verdict = await verifyTrace(await session.trace());
 * ```
 *
 * @module
 */

export { createRuntime, EmbeddedRuntime, type EmbeddedStats, type RuntimeOptions, type SessionResidency } from './runtime/runtime.ts';
export { EmbeddedSession } from './runtime/session.ts';
export type {
  ActionRequest,
  ApproveOptions,
  CarpResult,
  CompleteOptions,
  CraRuntime,
  CraSession,
  CreateSessionOptions,
  EmbeddedListOptions,
  EmbeddedSessionOptions,
  ListSessionsOptions,
  DenyOptions,
  FailOptions,
  LoadAtlasOptions,
  ResolveOptions,
} from './interface.ts';
export { compileCore, defaultCoreUrl, type CoreSource } from './runtime/load.ts';
export type { AbortSignalLike, FetchInit, HostAbortSignal, HostFetch, HostResponse, HostUrl, MemoryLike, ResponseLike, UrlLike, WasmMemory, WasmModule } from './runtime/host-types.ts';
export { tzOffsetMinutes, UNKNOWN_ZONE } from './runtime/core.ts';
export { ABI_VERSION, CHECK_CODES, CHECK_RESULTS, type CheckResult, type KnownEventType, type KnownRefusalCode } from './abi.ts';
export { validateParameters } from './runtime/params.ts';
export {
  canonicalHash,
  diffTraces,
  fromJsonl,
  replayTrace,
  toJsonl,
  verifyTrace,
  type ReplayOptions,
  type ToolOptions,
} from './runtime/tools.ts';
export { generateSigningKey } from './proof/signer.ts';
export { verifyCheckpoint, verifyProof, verifyReceipt, type SignedCheckpoint, type VerifierKeys, type VerifyProofOptions } from './proof/verify.ts';
export { buildReceipt, proveTrace, signTrace, traceTree, type TraceInput, type TraceTree } from './proof/tools.ts';
export type {
  Checkpoint,
  CheckpointAccepted,
  CheckpointRefused,
  CheckpointVerdict,
  ConsistencyProof,
  ConsistencyQuery,
  InclusionProof,
  InclusionQuery,
  Proof,
  ProofAccepted,
  ProofRefusal,
  ProofVerdict,
  ProveQuery,
  Receipt,
  ReceiptAccepted,
  ReceiptEntry,
  ReceiptVerdict,
  SigningKeyPair,
} from './proof/types.ts';
export type { SyncResult, SyncState, SyncUpload } from './proof/sync.ts';
export type { SigningOptions } from './runtime/options.ts';
export { CraError, ERROR_STATUS, isCraError, type CoreErrorCode, type CraErrorCode, type SdkErrorCode } from './errors.ts';
export { isoFromMicros, isUuid, microsFromIso, systemClock, systemIds, uuidv7, type Clock, type IdSource } from './host.ts';
export { MemoryStore, memoryStore } from './storage/memory.ts';
export type { StoredSession, StoredTrace, StoreIssue, StoreOpenResult, TraceStore } from './storage/store.ts';
export { summarize as summarizeTrace } from './storage/summary.ts';
export { BufferedCollector, createCollector, type CollectorOptions, type TraceSink } from './collector/collector.ts';
export { callbackSink, memorySink, type MemorySink } from './collector/sinks.ts';
export { METRIC_NAMES, SPAN_NAMES, ATTR as TELEMETRY_ATTRIBUTES } from './telemetry/names.ts';
export type { TelemetryOptions, TelemetrySetting } from './telemetry/telemetry.ts';
export type * from './types.ts';
export { createClient, HttpRuntime, type ClientOptions } from './client/client.ts';
export { guard, Guard, refusalOf, type ApprovalDecision, type ApprovalRequest, type CallOptions, type GuardOptions, type GuardResult, type HandlerContext, type Refusal, type ToolCatalog, type ToolHandler } from './guard/guard.ts';
export { defaultToolName, TOOL_PLATFORMS, ToolNames, type ToolPlatform } from './tools/names.ts';
export {
  toAnthropicTools,
  toMcpTools,
  toOpenAITools,
  toolSpecs,
  type AnthropicTool,
  type McpTool,
  type OpenAIChatTool,
  type OpenAIResponsesTool,
  type ToolInputSchema,
  type ToolSource,
  type ToolSpec,
} from './tools/formats.ts';
export {
  handleAnthropicToolUse,
  handleOpenAIToolCalls,
  toolResultText,
  type AnthropicContentBlock,
  type AnthropicToolResult,
  type OpenAIAssistantMessage,
  type OpenAIFunctionCallOutput,
  type OpenAIResponseItem,
  type OpenAIToolMessage,
} from './tools/runners.ts';
