//! Timings through the switchboard: `cargo bench -p callpark-park --bench switchboard`.

#![allow(clippy::unwrap_used)] // benchmark code: a panic is the failure report

mod fixture;

use criterion::{Criterion, criterion_group, criterion_main};
use fixture::{Fixture, NOW, parker, retriever};
use std::hint::black_box;

/// One parked call moving back and forth: the holder parks, the other side picks up.
fn park_retrieve_round_trip(c: &mut Criterion) {
    let mut fixture = Fixture::new(1, 99, 1);
    let receipt = fixture.park_caller(0, 0);
    let (_, parker_device) = parker(0);
    let (_, retriever_device) = retriever(0);
    fixture.sb.handle_retrieve(NOW, retriever_device, receipt.code).unwrap();
    fixture.drain();
    let call = receipt.call;
    let mut holder = retriever_device;
    let mut other = parker_device;
    c.bench_function("park_retrieve_round_trip", |b| {
        b.iter(|| {
            let parked = fixture.sb.handle_park(NOW, holder, black_box(call)).unwrap();
            fixture.sb.handle_retrieve(NOW, other, black_box(parked.code)).unwrap();
            black_box(fixture.drain());
            std::mem::swap(&mut holder, &mut other);
        })
    });
}

/// A range of 9,990 codes with all but one held: the next park must scan the whole
/// range (it starts just after the code that was last freed) to find the free one.
fn park_retrieve_with_one_free_code_of_9990(c: &mut Criterion) {
    let mut fixture = Fixture::new(1, 9999, 9990);
    for index in 0..9990 {
        fixture.park_caller(index, 0);
    }
    let (_, parker_device) = parker(0);
    let (_, retriever_device) = retriever(0);
    // Free one code by picking its call up; the retriever then holds that call.
    fixture.sb.handle_retrieve(NOW, retriever_device, 5000).unwrap();
    fixture.drain();
    let call = fixture.sb.device_call(retriever_device).unwrap();
    let mut holder = retriever_device;
    let mut other = parker_device;
    c.bench_function("park_retrieve_one_free_code_of_9990", |b| {
        b.iter(|| {
            let parked = fixture.sb.handle_park(NOW, holder, black_box(call)).unwrap();
            assert_eq!(fixture.sb.parked_count(), 9990);
            fixture.sb.handle_retrieve(NOW, other, black_box(parked.code)).unwrap();
            black_box(fixture.drain());
            std::mem::swap(&mut holder, &mut other);
        })
    });
}

criterion_group!(benches, park_retrieve_round_trip, park_retrieve_with_one_free_code_of_9990);
criterion_main!(benches);
