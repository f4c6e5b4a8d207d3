//! Benchmarks against the OpenSSH tool doing the same job, in the same run, alternating, as
//! whole processes. Medians and the ratio Latchkey / OpenSSH go to docs/BENCHMARKS.md between
//! markers, so each benchmark rewrites only its own section.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::util::{Cmd, root, step};

pub fn run(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        Some("keygen") => keygen(),
        Some("agent") => crate::bench_agent::run(),
        Some(other) => Err(format!("unknown benchmark {other:?}: choose keygen or agent")),
        None => Err("which benchmark? cargo xtask bench keygen | agent".into()),
    }
}

pub fn release_cli() -> Result<PathBuf> {
    step("Building the release CLI (cargo build --release --bin latchkey)");
    Cmd::new("cargo").args(["build", "--release", "-p", "latchkey", "--bin", "latchkey"]).run()?;
    Ok(root().join("target/release/latchkey"))
}

/// One tool invocation: program and arguments; `{dir}` is replaced by a fresh scratch directory.
struct Invocation {
    program: PathBuf,
    args: Vec<String>,
}

impl Invocation {
    fn time(&self, dir: &Path) -> Result<Duration> {
        let args: Vec<String> = self.args.iter().map(|a| a.replace("{dir}", &dir.display().to_string())).collect();
        let start = Instant::now();
        let out = Command::new(&self.program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        let elapsed = start.elapsed();
        if !out.status.success() {
            return Err(format!(
                "{} {} failed: {}",
                self.program.display(),
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(elapsed)
    }
}

struct Case {
    name: &'static str,
    runs: usize,
    /// Prepares the scratch directory before each timed run (e.g. a key to decrypt).
    prepare: fn(&Path) -> Result,
    ours: Vec<&'static str>,
    theirs: Vec<&'static str>,
    target: f64,
}

struct Outcome {
    name: &'static str,
    runs: usize,
    ours: Duration,
    theirs: Duration,
    target: f64,
}

fn no_prepare(_: &Path) -> Result {
    Ok(())
}

/// An ed25519 key encrypted by ssh-keygen with 16 rounds, for the decrypt cases.
fn encrypted_key(dir: &Path) -> Result {
    let key = dir.join("enc");
    if key.exists() {
        return Ok(());
    }
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-a", "16", "-N", "bench-pass", "-C", "bench", "-f"])
        .arg(&key)
        .status()
        .map_err(|e| format!("ssh-keygen: {e}"))?;
    if status.success() { Ok(()) } else { Err("ssh-keygen could not make the decrypt fixture".into()) }
}

fn cases() -> Vec<Case> {
    let gen_case = |name, runs, t: &'static str, b: &'static str, target| Case {
        name,
        runs,
        prepare: no_prepare,
        ours: vec!["keygen", "-q", "-t", t, "-b", b, "-N", "", "-f", "{dir}/k"],
        theirs: vec!["-q", "-t", t, "-b", b, "-N", "", "-f", "{dir}/k"],
        target,
    };
    vec![
        gen_case("generate ed25519", 40, "ed25519", "256", 1.0),
        gen_case("generate ecdsa-256", 40, "ecdsa", "256", 1.0),
        gen_case("generate ecdsa-384", 30, "ecdsa", "384", 1.0),
        gen_case("generate ecdsa-521", 30, "ecdsa", "521", 1.0),
        gen_case("generate rsa-2048", 15, "rsa", "2048", 1.0),
        gen_case("generate rsa-3072", 11, "rsa", "3072", 1.0),
        gen_case("generate rsa-4096", 7, "rsa", "4096", 1.0),
        Case {
            name: "encrypt (ed25519, 16 rounds)",
            runs: 21,
            prepare: no_prepare,
            ours: vec!["keygen", "-q", "-t", "ed25519", "-a", "16", "-N", "bench-pass", "-f", "{dir}/k"],
            theirs: vec!["-q", "-t", "ed25519", "-a", "16", "-N", "bench-pass", "-f", "{dir}/k"],
            target: 1.0,
        },
        Case {
            name: "decrypt (ed25519, 16 rounds: -y -P)",
            runs: 21,
            prepare: encrypted_key,
            ours: vec!["keygen", "-y", "-P", "bench-pass", "-f", "{dir}/enc"],
            theirs: vec!["-y", "-P", "bench-pass", "-f", "{dir}/enc"],
            target: 1.0,
        },
    ]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn keygen() -> Result {
    let ours_bin = release_cli()?;
    let theirs_bin = PathBuf::from("/usr/bin/ssh-keygen");
    let scratch = std::env::temp_dir().join(format!("latchkey-bench-{}", std::process::id()));
    let mut outcomes = Vec::new();
    for case in cases() {
        step(&format!("{}: {} runs each, alternating", case.name, case.runs));
        let ours = Invocation { program: ours_bin.clone(), args: case.ours.iter().map(|s| s.to_string()).collect() };
        let theirs =
            Invocation { program: theirs_bin.clone(), args: case.theirs.iter().map(|s| s.to_string()).collect() };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..case.runs {
            // Alternate who goes first, so drift on a shared machine hits both alike.
            let order: [(&Invocation, bool); 2] =
                if i % 2 == 0 { [(&ours, true), (&theirs, false)] } else { [(&theirs, false), (&ours, true)] };
            for (inv, is_ours) in order {
                let dir = scratch.join(format!("{i}-{is_ours}"));
                std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
                (case.prepare)(&dir)?;
                let t = inv.time(&dir)?;
                if is_ours {
                    a.push(t)
                } else {
                    b.push(t)
                }
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        let outcome =
            Outcome { name: case.name, runs: case.runs, ours: median(a), theirs: median(b), target: case.target };
        println!(
            "    latchkey {:>9.2} ms   ssh-keygen {:>9.2} ms   ratio {:.2}x",
            ms(outcome.ours),
            ms(outcome.theirs),
            ratio(&outcome)
        );
        outcomes.push(outcome);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    write_section("keygen", &render_keygen(&outcomes))?;
    let missed: Vec<&str> = outcomes.iter().filter(|o| ratio(o) > o.target).map(|o| o.name).collect();
    if missed.is_empty() {
        println!("\nAll keygen targets met; results in docs/BENCHMARKS.md");
    } else {
        println!("\nTargets missed (ratio above target): {}; results in docs/BENCHMARKS.md", missed.join(", "));
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(o: &Outcome) -> f64 {
    o.ours.as_secs_f64() / o.theirs.as_secs_f64().max(1e-9)
}

pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let openssh = Command::new("ssh")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned())
        .unwrap_or_default();
    let date = Cmd::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]).output().unwrap_or_default();
    format!("{} ({cores} cores), {openssh}, {}", cpu, date.trim())
}

fn render_keygen(outcomes: &[Outcome]) -> String {
    let mut s = String::from("## Key generation and passphrase work: `cargo xtask bench keygen`\n\n");
    s.push_str(&format!("Measured on {}. Whole processes (`latchkey keygen` against `ssh-keygen` with the same flags), alternating, median of N runs; ratio = Latchkey time / ssh-keygen time (below 1.0 is faster).\n\n", machine()));
    s.push_str("| case | runs | latchkey (ms) | ssh-keygen (ms) | ratio | target | met |\n|---|---:|---:|---:|---:|---:|:-:|\n");
    for o in outcomes {
        let r = ratio(o);
        s.push_str(&format!(
            "| {} | {} | {:.2} | {:.2} | {:.2}x | ≤ {:.1}x | {} |\n",
            o.name,
            o.runs,
            ms(o.ours),
            ms(o.theirs),
            r,
            o.target,
            if r <= o.target { "yes" } else { "**no**" }
        ));
    }
    s
}

/// Replace the text between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`.
pub fn write_section(name: &str, body: &str) -> Result {
    let path = root().join("docs/BENCHMARKS.md");
    let start = format!("<!-- bench:{name}:start -->");
    let end = format!("<!-- bench:{name}:end -->");
    let current = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let section = format!("{start}\n{body}{end}");
    let updated = match (current.find(&start), current.find(&end)) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &current[..a], section, &current[b + end.len()..]),
        _ => format!("{}\n{}\n", current.trim_end(), section),
    };
    std::fs::write(&path, updated).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
