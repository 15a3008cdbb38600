use super::*;

fn squares(threads: usize, watch: Option<Watch>) -> Result<Vec<usize>> {
    let mut out = vec![0usize; 10_007];
    let blocks: Vec<(usize, &mut [usize])> = out.chunks_mut(100).enumerate().collect();
    run_blocks(blocks, threads, watch, |(b, rows), _| {
        for (k, v) in rows.iter_mut().enumerate() {
            *v += (b * 100 + k) * (b * 100 + k);
        }
    })?;
    Ok(out)
}

#[test]
fn every_block_runs_once_on_any_number_of_threads() {
    for threads in [1, 2, 3, 7] {
        let out = squares(threads, None).unwrap();
        assert!(out.iter().enumerate().all(|(k, v)| *v == k * k));
    }
    let mut never = || None;
    let out = squares(2, Some(Watch { every: Duration::from_millis(1), poll: &mut never })).unwrap();
    assert!(out.iter().enumerate().all(|(k, v)| *v == k * k));
}

#[test]
fn a_watch_stops_the_run_with_its_error() {
    let blocks: Vec<usize> = (0..1000).collect();
    let mut stop = || Some(Error::Interrupted);
    let r = run_blocks(blocks, 2, Some(Watch { every: Duration::from_millis(1), poll: &mut stop }), |_, cancel| {
        while !cancel.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    assert_eq!(r, Err(Error::Interrupted));
}

#[test]
fn one_pool_serves_every_thread_count() {
    let a = pool(2).unwrap();
    assert!(Arc::ptr_eq(&a, &pool(1).unwrap()));
    assert!(Arc::ptr_eq(&a, &pool(2).unwrap()));
    let b = pool(5).unwrap();
    assert!(b.current_num_threads() >= 5);
    assert!(Arc::ptr_eq(&b, &pool(3).unwrap()));
}
