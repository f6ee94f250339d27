//! Solves one Curtois & Qu instance and prints the report: a development aid for the solver
//! (`tend roster solve` is the user-facing command).
//!
//! `cargo run -p tend-scheduling --example solve_curtois -- FILE [SECONDS] [THREADS] [SEED]`

use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = args
        .get(1)
        .ok_or("usage: solve_curtois FILE [SECONDS] [THREADS] [SEED]")?;
    let seconds: f64 = args.get(2).map_or(Ok(10.0), |s| s.parse())?;
    let threads: u32 = args.get(3).map_or(Ok(1), |s| s.parse())?;
    let seed: u64 = args.get(4).map_or(Ok(0), |s| s.parse())?;
    let problem = tend_scheduling::curtois::parse(&std::fs::read_to_string(file)?)?;
    let options = tend_scheduling::SolveOptions {
        time_limit: Duration::from_secs_f64(seconds),
        threads,
        seed,
        ..Default::default()
    };
    let solution = tend_scheduling::solve(&problem, &options)?;
    let violations = tend_scheduling::check(&problem, &solution.plan);
    let r = &solution.report;
    println!(
        "objective={} bound={} gap={:.3} status={:?} seconds={:.1} iterations={} improvements={} violations={}",
        r.objective, r.best_bound, r.gap, r.status, r.seconds, r.iterations, r.improvements, violations.len()
    );
    for phase in &r.phases {
        println!(
            "  phase {:<22} {:>7.2}s objective {}",
            phase.name, phase.seconds, phase.objective
        );
    }
    for v in violations.iter().take(10) {
        println!("  violation {v:?}");
    }
    Ok(())
}
