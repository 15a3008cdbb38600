use super::*;

#[test]
fn chunks_cover_every_row_once() {
    for threads in [1, 2, 3] {
        let mut out = vec![0usize; 10_007];
        run_chunks(&mut out, 100, threads, &AtomicBool::new(false), |r, o| {
            for (k, v) in r.zip(o.iter_mut()) {
                *v += k + 1;
            }
        })
        .unwrap();
        assert!(out.iter().enumerate().all(|(k, v)| *v == k + 1));
    }
}

#[test]
fn cancel_stops() {
    let mut out = vec![0u8; 1000];
    let r = run_chunks(&mut out, 10, 2, &AtomicBool::new(true), |_, _| {});
    assert_eq!(r, Err(Error::Interrupted));
}

#[test]
fn pools_are_cached() {
    assert!(Arc::ptr_eq(&pool(2).unwrap(), &pool(2).unwrap()));
}
