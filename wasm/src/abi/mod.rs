//! The C ABI of the WebAssembly module (contract: `wasm/abi.json`, explained in `wasm/ABI.md`). This is the only
//! `unsafe` code of the crate (the crate root denies it everywhere else): it turns host pointers into slices, runs
//! the safe [`Runtime`], and hands results back in core-owned buffers. Every export named in the contract is a
//! `fn` here (`tests/abi_contract.rs` checks it).

use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

use crate::error::ErrorCode;
use crate::host::Host;
use crate::runtime::Runtime;

#[link(wasm_import_module = "env")]
extern "C" {
    fn cra_host_ids(out_ptr: *mut u8, count: usize);
    fn cra_host_tz_offset(name_ptr: *const u8, name_len: usize, epoch_secs: f64) -> i32;
}

/// The host behind the imports.
struct WasmHost;

impl Host for WasmHost {
    fn new_id(&mut self) -> String {
        self.new_ids(1).pop().unwrap_or_default()
    }

    fn new_ids(&mut self, n: usize) -> Vec<String> {
        let mut buf = vec![0u8; 36 * n];
        // SAFETY: the host writes exactly 36 bytes per id at `out_ptr` (ABI.md); the buffer holds `n` of them.
        unsafe { cra_host_ids(buf.as_mut_ptr(), n) };
        // Anything that is not UTF-8 becomes an empty id, which `fresh_ids` refuses (fail closed).
        buf.chunks(36).map(|c| String::from_utf8(c.to_vec()).unwrap_or_default()).collect()
    }

    fn tz_offset_minutes(&mut self, zone: &str, epoch_secs: i64) -> Option<i32> {
        // SAFETY: the host only reads `name_len` bytes at `name_ptr`.
        let m = unsafe { cra_host_tz_offset(zone.as_ptr(), zone.len(), epoch_secs as f64) };
        if m == i32::MIN || !(-24 * 60..=24 * 60).contains(&m) {
            None
        } else {
            Some(m)
        }
    }
}

thread_local! {
    static RUNTIME: RefCell<Runtime> = RefCell::new(Runtime::new());
}

fn layout(len: usize) -> Option<Layout> {
    Layout::from_size_align(len.max(1), 1).ok()
}

/// Allocates `len` bytes for the host to write into; 0 when out of memory.
#[no_mangle]
pub extern "C" fn cra_alloc(len: usize) -> *mut u8 {
    match layout(len) {
        // SAFETY: the layout has a non-zero size.
        Some(l) => unsafe { alloc(l) },
        None => std::ptr::null_mut(),
    }
}

/// Frees a buffer from `cra_alloc` (with its length) or a result buffer (with 4 + its payload length).
///
/// # Safety
/// `ptr` is null, or a buffer this module handed out (`cra_alloc(len)`, or a result of `len` = 4 + payload
/// length) that is not used again.
#[no_mangle]
pub unsafe extern "C" fn cra_free(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    if let Some(l) = layout(len) {
        // SAFETY: `ptr` came from `cra_alloc(len)` or from `result` with the same length (ABI contract).
        unsafe { dealloc(ptr, l) };
    }
}

/// Copies an envelope into a new `[len: u32 LE][bytes]` buffer.
fn result(envelope: String) -> *mut u8 {
    let bytes = envelope.as_bytes();
    let ptr = cra_alloc(bytes.len() + 4);
    if ptr.is_null() {
        return ptr;
    }
    let len = (bytes.len() as u32).to_le_bytes();
    // SAFETY: `ptr` points to `bytes.len() + 4` writable bytes just allocated.
    unsafe {
        std::ptr::copy_nonoverlapping(len.as_ptr(), ptr, 4);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.add(4), bytes.len());
    }
    ptr
}

/// The `len` bytes at `ptr`; `None` for a null pointer with a non-zero length.
///
/// # Safety
/// A non-null `ptr` must point to `len` initialised bytes that stay valid and unchanged for `'a`.
unsafe fn slice<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        Some(&[])
    } else if ptr.is_null() {
        None
    } else {
        // SAFETY: non-null, and the caller guarantees `len` valid bytes for `'a`.
        Some(unsafe { std::slice::from_raw_parts(ptr, len) })
    }
}

/// Runs one operation (see ABI.md). The host keeps ownership of the op and input buffers.
///
/// # Safety
/// `op_ptr` / `in_ptr` are null or point to `op_len` / `in_len` initialised bytes (buffers the host got from
/// `cra_alloc` and wrote) that stay valid and unchanged during the call.
#[no_mangle]
pub unsafe extern "C" fn cra_call(op_ptr: *const u8, op_len: usize, in_ptr: *const u8, in_len: usize, now_us: f64) -> *mut u8 {
    // SAFETY: the host passes buffers it allocated with `cra_alloc` and wrote; they stay valid during the call.
    let (op, input) = unsafe { (slice(op_ptr, op_len), slice(in_ptr, in_len)) };
    let op = op.and_then(|b| std::str::from_utf8(b).ok());
    let envelope = match (op, input) {
        (Some(op), Some(input)) => RUNTIME.with(|rt| match rt.try_borrow_mut() {
            Ok(mut rt) => rt.call(op, input, now_us, &mut WasmHost),
            Err(_) => error_envelope(ErrorCode::Internal, "the core was re-entered"),
        }),
        (None, _) => error_envelope(ErrorCode::UnknownOperation, "the operation name is not UTF-8"),
        (_, None) => error_envelope(ErrorCode::InvalidJson, "the input buffer is null"),
    };
    result(envelope)
}

/// The hot path: may this session run this action now? Codes in ABI.md.
#[no_mangle]
pub extern "C" fn cra_check(session_handle: u32, action_handle: u32, now_us: f64) -> i32 {
    RUNTIME.with(|rt| match rt.try_borrow() {
        Ok(rt) => rt.check(session_handle, action_handle, now_us, &mut WasmHost),
        Err(_) => 0,
    })
}

/// The ABI version this module implements (`abi_version` of `wasm/abi.json`); a host refuses a module of another.
#[no_mangle]
pub extern "C" fn cra_abi_version() -> u32 {
    crate::ABI_VERSION
}

fn error_envelope(code: ErrorCode, message: &str) -> String {
    let mut out = crate::json::JsonOut::new();
    out.begin_object().key("error").begin_object();
    out.key("code").str(code.as_str()).key("message").str(message).key("path").null();
    out.end_object().end_object();
    out.into_string()
}
