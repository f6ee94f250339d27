//! `tend roster`: solve one roster problem, or run the roster benchmark over a directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tend_scheduling::{check, curtois, solve, Problem, Solution, SolveOptions};

/// Roster commands.
#[derive(Debug, clap::Subcommand)]
pub enum RosterCommand {
    /// Solve one problem and print a summary line.
    Solve {
        /// The problem file.
        file: PathBuf,
        /// Input format: the Curtois & Qu benchmark format or Tend's problem JSON.
        #[arg(long, value_enum, default_value_t = Format::Curtois)]
        format: Format,
        #[command(flatten)]
        search: SearchArgs,
        /// Write the roster as {"objective", "assignments": [{"employee","day","shift"}]}.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the solve's full report as JSON: status, objective, bound, gap, the penalty by
        /// kind and by staff member, the uncovered demand with its reasons, and the time spent
        /// in each phase.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Solve every Curtois instance in a directory and print a table.
    Bench {
        /// Directory of `InstanceN.txt` files (and optionally `best_known.csv`).
        dir: PathBuf,
        #[command(flatten)]
        search: SearchArgs,
        /// Only these instances, comma separated (e.g. Instance1,Instance8).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Write each solution as `<instance>.json` in this directory.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

/// Problem file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Curtois,
    Json,
}

/// Limits shared by `solve` and `bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// Seconds per problem.
    #[arg(long, default_value_t = 60.0)]
    time_limit: f64,
    /// HiGHS threads.
    #[arg(long, default_value_t = 1)]
    threads: u32,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop after this many neighbourhood solves (reproducible regardless of machine speed).
    #[arg(long)]
    iterations: Option<u64>,
    /// Stop at this relative gap to the proven bound.
    #[arg(long, default_value_t = 0.0)]
    gap: f64,
}

impl SearchArgs {
    fn options(&self) -> anyhow::Result<SolveOptions> {
        anyhow::ensure!(
            self.time_limit.is_finite() && self.time_limit > 0.0,
            "--time-limit must be a positive number of seconds"
        );
        Ok(SolveOptions {
            time_limit: Duration::from_secs_f64(self.time_limit),
            relative_gap: self.gap,
            threads: self.threads,
            seed: self.seed,
            iteration_limit: self.iterations,
            ..SolveOptions::default()
        })
    }
}

/// Runs a roster command.
pub fn run(command: RosterCommand) -> anyhow::Result<ExitCode> {
    match command {
        RosterCommand::Solve {
            file,
            format,
            search,
            out,
            report,
        } => solve_one(&file, format, &search, out.as_deref(), report.as_deref()),
        RosterCommand::Bench {
            dir,
            search,
            only,
            out_dir,
        } => bench(&dir, &search, &only, out_dir.as_deref()),
    }
}

fn read_problem(file: &Path, format: Format) -> anyhow::Result<Problem> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let problem = match format {
        Format::Curtois => curtois::parse(&text).with_context(|| format!("{}", file.display()))?,
        Format::Json => {
            serde_json::from_str(&text).with_context(|| format!("{}", file.display()))?
        }
    };
    tend_scheduling::validate(&problem).with_context(|| format!("{}", file.display()))?;
    Ok(problem)
}

fn solution_json(solution: &Solution) -> serde_json::Value {
    let assignments: Vec<serde_json::Value> = solution
        .plan
        .assignments
        .iter()
        .map(|a| serde_json::json!({"employee": a.staff, "day": a.day, "shift": a.shift_type}))
        .collect();
    serde_json::json!({"objective": solution.report.objective, "assignments": assignments})
}

fn write_solution(path: &Path, solution: &Solution) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(&solution_json(solution))?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Peak resident memory of this process in MiB (VmHWM), when the platform reports it.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn solve_one(
    file: &Path,
    format: Format,
    search: &SearchArgs,
    out: Option<&Path>,
    report_file: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let problem = read_problem(file, format)?;
    let solution = solve(&problem, &search.options()?)?;
    let violations = check(&problem, &solution.plan);
    if let Some(out) = out {
        write_solution(out, &solution)?;
    }
    if let Some(path) = report_file {
        let text = serde_json::to_string_pretty(&solution.report)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let report = &solution.report;
    println!(
        "objective={} bound={} gap={:.2}% status={:?} seconds={:.1} peak_memory_mib={} violations={}",
        report.objective,
        report.best_bound,
        report.gap * 100.0,
        report.status,
        report.seconds,
        peak_memory_mib().map_or("unknown".to_owned(), |m| format!("{m:.0}")),
        violations.len(),
    );
    for violation in &violations {
        eprintln!("violation: {violation:?}");
    }
    Ok(if violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `Instance12.txt` sorts after `Instance2.txt`.
fn natural_key(name: &str) -> (String, u64) {
    let digits: String = name
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let prefix = name[..name.len() - digits.len()].to_owned();
    (prefix, digits.parse().unwrap_or(0))
}

fn read_best_known(dir: &Path) -> anyhow::Result<BTreeMap<String, i64>> {
    let path = dir.join("best_known.csv");
    let mut best = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(best);
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(instance), Some(value)) = (column("instance"), column("best_known")) else {
        anyhow::bail!(
            "{}: expected columns instance and best_known",
            path.display()
        );
    };
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() <= instance.max(value) {
            continue;
        }
        let known: i64 = fields[value]
            .parse()
            .with_context(|| format!("{} line {}: best_known", path.display(), i + 2))?;
        best.insert(fields[instance].to_owned(), known);
    }
    Ok(best)
}

fn bench(
    dir: &Path,
    search: &SearchArgs,
    only: &[String],
    out_dir: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let options = search.options()?;
    let best_known = read_best_known(dir)?;
    let mut instances: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "txt"))
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_owned();
            Some((name, path))
        })
        .filter(|(name, _)| only.is_empty() || only.contains(name))
        .collect();
    instances.sort_by_key(|(name, _)| natural_key(name));
    anyhow::ensure!(!instances.is_empty(), "no instances in {}", dir.display());
    if let Some(out_dir) = out_dir {
        std::fs::create_dir_all(out_dir)
            .with_context(|| format!("creating {}", out_dir.display()))?;
    }

    println!(
        "{:<11} {:>5} {:>5} {:>9} {:>9} {:>10} {:>8} {:>7} {:>8}",
        "instance",
        "staff",
        "days",
        "objective",
        "bound",
        "best_known",
        "gap_bk_%",
        "seconds",
        "feasible"
    );
    let mut all_feasible = true;
    for (name, path) in &instances {
        let problem = read_problem(path, Format::Curtois)?;
        let solution = solve(&problem, &options).with_context(|| name.clone())?;
        let feasible = check(&problem, &solution.plan).is_empty();
        all_feasible &= feasible;
        if let Some(out_dir) = out_dir {
            write_solution(&out_dir.join(format!("{name}.json")), &solution)?;
        }
        let report = &solution.report;
        let known = best_known.get(name);
        println!(
            "{:<11} {:>5} {:>5} {:>9} {:>9} {:>10} {:>8} {:>7.1} {:>8}",
            name,
            problem.staff.len(),
            problem.days,
            report.objective,
            report.best_bound,
            known.map_or("-".to_owned(), i64::to_string),
            known.map_or("-".to_owned(), |&k| {
                format!(
                    "{:.2}",
                    (report.objective - k) as f64 * 100.0 / k.max(1) as f64
                )
            }),
            report.seconds,
            if feasible { "yes" } else { "NO" },
        );
        std::io::stdout().flush()?;
    }
    if let Some(peak) = peak_memory_mib() {
        println!("peak memory: {peak:.0} MiB");
    }
    Ok(if all_feasible {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
