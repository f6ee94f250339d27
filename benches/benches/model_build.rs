//! Time to build the roster engine's full MILP for benchmark instances (reading and validating
//! excluded). The target: under one second for Instance 22 (364 days, 50 staff, 10 shift types).
//!
//! `cargo bench -p benches --bench model_build` (instances from `TEND_CURTOIS_DIR`, default
//! `/work/shared/bench/curtois`; missing instances are skipped).

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};

fn instances_dir() -> PathBuf {
    std::env::var_os("TEND_CURTOIS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/bench/curtois"))
}

fn model_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("model_build");
    group.sample_size(10);
    for name in [
        "Instance1",
        "Instance8",
        "Instance12",
        "Instance20",
        "Instance22",
    ] {
        let path = instances_dir().join(format!("{name}.txt"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipping {name}: {} not readable", path.display());
            continue;
        };
        let problem = match tend_scheduling::curtois::parse(&text) {
            Ok(problem) => problem,
            Err(error) => {
                eprintln!("skipping {name}: {error}");
                continue;
            }
        };
        let Ok(size) = tend_scheduling::build_full_model(&problem) else {
            eprintln!("skipping {name}: the problem does not validate");
            continue;
        };
        eprintln!("{name}: {} columns, {} rows", size.columns, size.rows);
        group.bench_function(name, |b| {
            b.iter(|| tend_scheduling::build_full_model(&problem))
        });
    }
    group.finish();
}

criterion_group!(benches, model_build);
criterion_main!(benches);
