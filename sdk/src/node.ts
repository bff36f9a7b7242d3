/**
 * Node extras: JSONL trace storage and sinks, and reading atlas folders from disk. Everything of the root entry is
 * re-exported, so Node code can import from here alone.
 *
 * @module
 */

export * from './index.ts';
export { JsonlStore, jsonlStore, parseTrace, type JsonlDurability, type JsonlStoreOptions } from './storage/jsonl.ts';
export { jsonlSink, type JsonlSinkOptions } from './collector/jsonl-sink.ts';
export { loadAtlasDir } from './atlas/dir.ts';
