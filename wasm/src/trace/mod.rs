//! TRACE/1.0: the hash-chained event log — events and their hash, appending, verification, diff and JSONL.

pub mod chain;
pub mod diff;
pub mod event;
pub mod jsonl;
pub mod read;
pub mod verify;

pub use chain::{ChainHead, Emitter};
pub use event::{Event, EVENT_TYPES, GENESIS_HASH};
pub use read::{read_trace, Item, ReadEvent};
pub use verify::{contains_head, contains_head_at, verify, verify_item_slice, verify_items, Checked, Head, Verdict};
