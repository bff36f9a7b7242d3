//! Seeded property testing. Every run of a property draws its inputs from one 64-bit seed: `CRA_QC_SEED` when set
//! (decimal, or hex with `0x`), else a fresh random one. A failing case prints the property, the case, its input,
//! the seed and the command that runs exactly the same cases again, so that a failure seen once (in CI, say) can
//! be reproduced and debugged.
//!
//! quickcheck 1.0's `Gen` cannot be seeded (it draws from the OS), so inputs are generated here, from SplitMix64,
//! with quickcheck 1.0's distributions: integers are one of their problem values (0 / 1 / MAX) one time in ten and
//! uniform otherwise, vectors and strings have a length below the generator size, and characters mix ASCII,
//! programming punctuation, the BMP, tricky code points and arbitrary ones in quickcheck's proportions. There is no
//! shrinking: a failure is reported with the input it failed on.

use std::collections::hash_map::RandomState;
use std::fmt::Debug;
use std::hash::{BuildHasher, Hasher};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// The environment variable that fixes the seed of every property of a run.
pub const SEED_VAR: &str = "CRA_QC_SEED";

/// A seeded source of test inputs.
pub struct Gen {
    state: u64,
    size: usize,
}

impl Gen {
    pub fn new(seed: u64, size: usize) -> Gen {
        Gen { state: seed, size: size.max(1) }
    }

    /// The generator size: lengths of vectors and strings stay below it.
    pub fn size(&self) -> usize {
        self.size
    }

    /// SplitMix64 (Steele, Lea and Flood): fast, and every seed gives a full-period, well-mixed sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A length in `0..size`.
    pub fn len(&mut self) -> usize {
        self.below(self.size as u64) as usize
    }

    /// One of `items` (not empty).
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn gen<T: Arbitrary>(&mut self) -> T {
        T::arbitrary(self)
    }
}

/// A type whose values can be generated.
pub trait Arbitrary: Sized {
    fn arbitrary(g: &mut Gen) -> Self;
}

impl Arbitrary for bool {
    fn arbitrary(g: &mut Gen) -> bool {
        g.next_u64() >> 63 == 1
    }
}

macro_rules! unsigned {
    ($($t:ty)*) => {$(
        impl Arbitrary for $t {
            fn arbitrary(g: &mut Gen) -> $t {
                if g.below(10) == 0 {
                    *g.choose(&[<$t>::MIN, 1, <$t>::MAX])
                } else {
                    g.next_u64() as $t
                }
            }
        }
    )*};
}
unsigned!(u8 u16 u32 u64 usize);

impl Arbitrary for char {
    fn arbitrary(g: &mut Gen) -> char {
        let any = |g: &mut Gen, lo: u32, hi: u32| loop {
            if let Some(c) = char::from_u32(lo + g.below(u64::from(hi - lo)) as u32) {
                return c;
            }
        };
        match g.below(100) {
            // ASCII and some control characters
            0..=49 => char::from(g.below(0xb0) as u8),
            // the BMP (surrogates skipped)
            50..=59 => any(g, 0, 0x1_0000),
            // characters common in programming languages
            60..=84 => *g.choose(&[
                ' ', ' ', ' ', '\t', '\n', '~', '`', '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '-', '=',
                '+', '[', ']', '{', '}', ':', ';', '\'', '"', '\\', '|', ',', '<', '>', '.', '/', '?', '0', '1', '2',
                '3', '4', '5', '6', '7', '8', '9',
            ]),
            // tricky code points: deprecated, format, tags, private use, noncharacters, odd spaces
            85..=89 => *g.choose(&[
                '\u{0149}', '\u{fff0}', '\u{fff1}', '\u{fff2}', '\u{fff3}', '\u{fff4}', '\u{fff5}', '\u{fff6}',
                '\u{fff7}', '\u{fff8}', '\u{fff9}', '\u{fffa}', '\u{fffb}', '\u{fffc}', '\u{fffd}', '\u{fffe}',
                '\u{ffff}', '\u{0600}', '\u{0601}', '\u{0602}', '\u{0603}', '\u{0604}', '\u{0605}', '\u{061c}',
                '\u{06dd}', '\u{070f}', '\u{180e}', '\u{110bd}', '\u{1d173}', '\u{e0001}', '\u{e0020}', '\u{e000}',
                '\u{e001}', '\u{ef8ff}', '\u{f0000}', '\u{ffffd}', '\u{ffffe}', '\u{fffff}', '\u{100000}',
                '\u{10fffd}', '\u{10fffe}', '\u{10ffff}', '\u{3000}', '\u{1680}',
            ]),
            // general punctuation, spaces and joiners
            90..=94 => any(g, 0x2000, 0x2070),
            // anything
            _ => any(g, 0, 0x11_0000),
        }
    }
}

impl Arbitrary for String {
    fn arbitrary(g: &mut Gen) -> String {
        let n = g.len();
        (0..n).map(|_| char::arbitrary(g)).collect()
    }
}

impl<T: Arbitrary> Arbitrary for Vec<T> {
    fn arbitrary(g: &mut Gen) -> Vec<T> {
        let n = g.len();
        (0..n).map(|_| T::arbitrary(g)).collect()
    }
}

impl<A: Arbitrary, B: Arbitrary> Arbitrary for (A, B) {
    fn arbitrary(g: &mut Gen) -> (A, B) {
        let a = A::arbitrary(g);
        (a, B::arbitrary(g))
    }
}

impl<A: Arbitrary, B: Arbitrary, C: Arbitrary> Arbitrary for (A, B, C) {
    fn arbitrary(g: &mut Gen) -> (A, B, C) {
        let a = A::arbitrary(g);
        let b = B::arbitrary(g);
        (a, b, C::arbitrary(g))
    }
}

/// The seed of this run: `CRA_QC_SEED`, else a fresh random one (from the OS, through std's hasher keys).
pub fn seed() -> u64 {
    match std::env::var(SEED_VAR) {
        Ok(text) => parse_seed(&text).unwrap_or_else(|| panic!("{}={:?} is not a seed (a u64, decimal or 0x-hex)", SEED_VAR, text)),
        Err(_) => {
            let mut h = RandomState::new().build_hasher();
            h.write_u64(std::process::id() as u64);
            h.finish()
        }
    }
}

pub fn parse_seed(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// The name of the running test binary (`fuzz` for `target/debug/deps/fuzz-0123abcd`).
fn test_binary() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe.as_ref().and_then(|p| p.file_stem()).and_then(|s| s.to_str()).unwrap_or("fuzz");
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
        _ => stem.to_string(),
    }
}

/// Runs property `name` on `tests` inputs from a generator of size `size`, seeded by [`seed`]. A panicking case
/// is reported with its input, the seed and how to run the same cases again, then fails the test.
pub fn check<A: Arbitrary + Debug + Clone>(name: &str, tests: usize, size: usize, mut prop: impl FnMut(A)) {
    let seed = seed();
    // Shown with `--nocapture`; a failure prints it again with the rest.
    eprintln!("property `{}`: {} cases, seed {}", name, tests, seed);
    let mut g = Gen::new(seed, size);
    for case in 1..=tests {
        let input = A::arbitrary(&mut g);
        let shown = input.clone();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| prop(input))) {
            eprintln!(
                "\nproperty `{name}` failed on case {case} of {tests} (generator size {size}), seed {seed}\n\
                 input: {shown:?}\n\
                 run the same cases again with:\n  \
                 {var}={seed} cargo test --test {bin} {name}\n  \
                 (from the repository root: {var}={seed} CRA_DEBIAN_RUST=1 npm run test:rust -- --test {bin} {name})\n",
                name = name,
                case = case,
                tests = tests,
                size = size,
                seed = seed,
                shown = shown,
                var = SEED_VAR,
                bin = test_binary(),
            );
            resume_unwind(panic);
        }
    }
}
