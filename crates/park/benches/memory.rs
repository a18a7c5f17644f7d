//! Heap used by parked calls: `cargo bench -p callpark-park --bench memory`.
//! Parks 100,000 calls across 1,000 policies and reports the switchboard's heap per
//! parked call, counted by a wrapping global allocator.

#![allow(clippy::unwrap_used)] // benchmark code: a panic is the failure report

mod fixture;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use fixture::Fixture;

struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// Counting live heap bytes needs a global allocator; it only forwards to System.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const POLICIES: usize = 1_000;
const CALLS: usize = 100_000;

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: keep that quick.
    let full = std::env::args().any(|arg| arg == "--bench");
    let (policies, calls) = if full { (POLICIES, CALLS) } else { (10, 1_000) };
    let base = LIVE_BYTES.load(Ordering::Relaxed);
    let mut fixture = Fixture::new(policies, 209, calls);
    let with_users = LIVE_BYTES.load(Ordering::Relaxed);
    let started = Instant::now();
    for index in 0..calls {
        fixture.park_caller(index, index % policies);
    }
    let elapsed = started.elapsed();
    let parked = LIVE_BYTES.load(Ordering::Relaxed);
    assert_eq!(fixture.sb.parked_count(), calls);
    let per_call_total = (parked - base) as f64 / calls as f64;
    let per_call_parking = (parked - with_users) as f64 / calls as f64;
    println!("parked calls: {calls} across {policies} policies");
    println!(
        "heap per parked call, everything (users, devices, policies, calls): {per_call_total:.0} B"
    );
    println!("heap per parked call, added by dial + answer + park alone: {per_call_parking:.0} B");
    println!(
        "dial + answer + park + drain: {:.2} µs per call (mean of {calls})",
        elapsed.as_secs_f64() * 1e6 / calls as f64
    );
}
