//! `cargo xtask bench agent`: Latchkey's agent against OpenSSH's ssh-agent in the same run.
//!
//! Both agents hold the same keys (added with ssh-add). A client of our own opens 1, 8 or 32
//! connections and sends SSH2_AGENTC_SIGN_REQUESTs back to back for a fixed time per round,
//! measuring each round trip; rounds alternate between the agents. Also `ssh-add -l` with 1 and
//! 100 keys, as whole processes. Results and ratios go to docs/BENCHMARKS.md.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::bench::{machine, release_cli, write_section};
use crate::util::step;

const ROUND: Duration = Duration::from_secs(2);
/// Rounds per row, alternating which agent goes first; the median round is reported.
const ROUNDS: usize = 5;
const CONNECTIONS: [usize; 3] = [1, 8, 32];

struct Agent {
    name: &'static str,
    child: Child,
    socket: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn wait_for(socket: &Path) -> Result {
    for _ in 0..200 {
        if UnixStream::connect(socket).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(format!("no agent listening on {} after 5 s", socket.display()))
}

fn start(name: &'static str, mut cmd: Command, socket: PathBuf) -> Result<Agent> {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let agent = Agent { name, child, socket };
    wait_for(&agent.socket)?;
    Ok(agent)
}

fn ok(cmd: &mut Command, what: &str) -> Result {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// A framed sign request for `blob` over a userauth-sized message.
fn sign_request(blob: &[u8], flags: u32) -> Vec<u8> {
    let mut body = vec![13u8];
    put_string(&mut body, blob);
    put_string(&mut body, &[0x5a; 160]);
    body.extend_from_slice(&flags.to_be_bytes());
    let mut framed = (body.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(&body);
    framed
}

struct Load {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

/// `connections` clients signing for `ROUND`; the total rate and the latency distribution.
fn load(socket: &Path, request: &[u8], connections: usize) -> Result<Load> {
    let deadline = Instant::now() + ROUND;
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (socket, request) = (socket.to_path_buf(), request.to_vec());
            std::thread::spawn(move || -> std::result::Result<Vec<u32>, String> {
                let mut stream = UnixStream::connect(&socket).map_err(|e| e.to_string())?;
                stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
                let mut latencies = Vec::with_capacity(4096);
                let mut reply = vec![0u8; 8192];
                while Instant::now() < deadline {
                    let start = Instant::now();
                    stream.write_all(&request).map_err(|e| e.to_string())?;
                    // One read usually brings the whole reply; loop until it has.
                    let mut got = 0;
                    loop {
                        let n = stream.read(&mut reply[got..]).map_err(|e| e.to_string())?;
                        if n == 0 {
                            return Err("the agent closed the connection".into());
                        }
                        got += n;
                        if got >= 4 {
                            let len = u32::from_be_bytes([reply[0], reply[1], reply[2], reply[3]]) as usize;
                            if len + 4 > reply.len() {
                                return Err(format!("reply of {len} bytes"));
                            }
                            if got >= len + 4 {
                                break;
                            }
                        }
                    }
                    if reply[4] != 14 {
                        return Err(format!("the agent answered message type {} instead of a signature", reply[4]));
                    }
                    latencies.push(start.elapsed().as_micros() as u32);
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.join().map_err(|_| "a load thread panicked".to_string())??);
    }
    if all.is_empty() {
        return Err("no signature completed".into());
    }
    all.sort_unstable();
    let pct = |p: f64| Duration::from_micros(u64::from(all[((all.len() as f64 * p) as usize).min(all.len() - 1)]));
    Ok(Load { rate: all.len() as f64 / ROUND.as_secs_f64(), p50: pct(0.50), p99: pct(0.99) })
}

/// One whole `ssh-add -l` process against `socket`.
fn ssh_add_list(socket: &Path) -> Result<Duration> {
    let start = Instant::now();
    let status = Command::new("ssh-add")
        .arg("-l")
        .env("SSH_AUTH_SOCK", socket)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("ssh-add: {e}"))?;
    let took = start.elapsed();
    if !status.success() {
        return Err("ssh-add -l failed".into());
    }
    Ok(took)
}

/// `ssh-add -l` runs, one against each agent in turn (the order flipping every time, so neither
/// always goes first), at most this many per agent.
const LIST_RUNS: usize = 1001;

pub fn run() -> Result {
    let latchkey = release_cli()?;
    let dir = std::env::temp_dir().join(format!("latchkey-bench-agent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).map_err(|e| e.to_string())?;
    let result = run_in(&latchkey, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn start_pair(latchkey: &Path, dir: &Path, tag: &str, memlock: bool) -> Result<(Agent, Agent)> {
    let ssh_socket = dir.join(format!("ssh-agent-{tag}.sock"));
    let mut ssh_agent = Command::new("ssh-agent");
    ssh_agent.args(["-D", "-a"]).arg(&ssh_socket);
    let ours_socket = dir.join(format!("latchkey-{tag}.sock"));
    let mut ours = if memlock {
        // Root may raise its own memlock limit: lets the agent mlockall (keys never swapped).
        let mut c = Command::new("prlimit");
        c.args(["--memlock=unlimited:unlimited", "--"]).arg(latchkey);
        c
    } else {
        Command::new(latchkey)
    };
    ours.args(["agent", "-D", "-a"]).arg(&ours_socket).env("LATCHKEY_HOME", dir.join(format!("home-{tag}")));
    Ok((start("ssh-agent", ssh_agent, ssh_socket)?, start("latchkey", ours, ours_socket)?))
}

fn add_keys(agents: &[&Agent], files: &[PathBuf]) -> Result {
    for agent in agents {
        for chunk in files.chunks(50) {
            ok(Command::new("ssh-add").args(chunk).env("SSH_AUTH_SOCK", &agent.socket), "ssh-add")?;
        }
    }
    Ok(())
}

fn run_in(latchkey: &Path, dir: &Path) -> Result {
    step("Generating the benchmark keys with ssh-keygen");
    let kinds: [(&str, &str, &str, u32); 3] =
        [("Ed25519", "ed25519", "256", 0), ("ECDSA P-256", "ecdsa", "256", 0), ("RSA-3072", "rsa", "3072", 2)];
    let mut key_files = Vec::new();
    for (_, t, b, _) in &kinds {
        let f = dir.join(format!("key-{t}"));
        ok(Command::new("ssh-keygen").args(["-q", "-t", t, "-b", b, "-N", "", "-f"]).arg(&f), "ssh-keygen")?;
        key_files.push(f);
    }
    let (ssh_agent, ours) = start_pair(latchkey, dir, "main", false)?;
    add_keys(&[&ssh_agent, &ours], &key_files)?;
    // mlockall needs a memlock limit above the agent's size; only a privileged user may raise
    // it. Where that is not possible the column says so.
    let can_lock = Command::new("prlimit")
        .args(["--memlock=unlimited:unlimited", "--", "true"])
        .status()
        .is_ok_and(|s| s.success());
    let locked_pair = if can_lock {
        let pair = start_pair(latchkey, dir, "mlock", true)?;
        add_keys(&[&pair.1], &key_files)?;
        Some(pair)
    } else {
        println!("    (cannot raise the memlock limit here: no mlockall comparison)");
        None
    };
    let mut rows = Vec::new();
    for ((label, _, _, flags), file) in kinds.iter().zip(&key_files) {
        let pub_line = std::fs::read_to_string(format!("{}.pub", file.display())).map_err(|e| e.to_string())?;
        let blob = pub_line.split_whitespace().nth(1).and_then(decode_base64).ok_or("bad .pub line")?;
        let request = sign_request(&blob, *flags);
        for conns in CONNECTIONS {
            step(&format!(
                "{label}, {conns} connection(s): {ROUNDS} rounds of {} s per agent, alternating",
                ROUND.as_secs()
            ));
            let (mut ours_rounds, mut theirs_rounds) = (Vec::new(), Vec::new());
            for round in 0..ROUNDS {
                let order: [&Agent; 2] = if round % 2 == 0 { [&ours, &ssh_agent] } else { [&ssh_agent, &ours] };
                for agent in order {
                    let l = load(&agent.socket, &request, conns)?;
                    println!(
                        "    {:10} {:>9.0} sig/s   p50 {:>7.0} us   p99 {:>7.0} us",
                        agent.name,
                        l.rate,
                        us(l.p50),
                        us(l.p99)
                    );
                    if std::ptr::eq(agent, &ours) { ours_rounds.push(l) } else { theirs_rounds.push(l) }
                }
            }
            let locked = if let (Some((_, ours_locked)), true) = (&locked_pair, conns != 32) {
                let l = load(&ours_locked.socket, &request, conns)?;
                println!(
                    "    {:10} {:>9.0} sig/s   p50 {:>7.0} us   p99 {:>7.0} us",
                    "latchkey+mlock",
                    l.rate,
                    us(l.p50),
                    us(l.p99)
                );
                Some(l)
            } else {
                None
            };
            rows.push(Row {
                kind: label,
                conns,
                ours: median_round(ours_rounds),
                theirs: median_round(theirs_rounds),
                locked,
            });
        }
    }

    step(&format!("ssh-add -l with 1 and 100 keys (whole processes, {LIST_RUNS} per agent, alternating; medians)"));
    let mut list_rows = Vec::new();
    for count in [1usize, 100] {
        let (a, b) = start_pair(latchkey, dir, &format!("list{count}"), false)?;
        let mut files = Vec::new();
        for i in 0..count {
            let f = dir.join(format!("list-{count}-{i}"));
            ok(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&f), "ssh-keygen")?;
            files.push(f);
        }
        add_keys(&[&a, &b], &files)?;
        let (mut t_ours, mut t_theirs) = (Vec::with_capacity(LIST_RUNS), Vec::with_capacity(LIST_RUNS));
        for i in 0..LIST_RUNS {
            if i % 2 == 0 {
                t_ours.push(ssh_add_list(&b.socket)?);
                t_theirs.push(ssh_add_list(&a.socket)?);
            } else {
                t_theirs.push(ssh_add_list(&a.socket)?);
                t_ours.push(ssh_add_list(&b.socket)?);
            }
        }
        let noise = median_difference_noise(&t_ours, &t_theirs);
        let ours = median(t_ours);
        let theirs = median(t_theirs);
        println!(
            "    {count:>3} keys: latchkey {:.3} ms, ssh-agent {:.3} ms (noise of the difference ±{:.3} ms)",
            ms(ours),
            ms(theirs),
            ms(noise)
        );
        list_rows.push(ListRow { count, ours, theirs, noise });
    }
    let text = render(&rows, &list_rows);
    write_section("agent", &text)?;
    println!("\nResults in docs/BENCHMARKS.md");
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The round with the median rate.
fn median_round(mut rounds: Vec<Load>) -> Load {
    rounds.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    let middle = rounds.len() / 2;
    rounds.swap_remove(middle)
}

struct Row {
    kind: &'static str,
    conns: usize,
    ours: Load,
    theirs: Load,
    locked: Option<Load>,
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn render(rows: &[Row], list: &[ListRow]) -> String {
    let locked = rows.iter().any(|r| r.locked.is_some());
    let mut s = String::from("## The agent: `cargo xtask bench agent`\n\n");
    s.push_str(&format!(
        "Measured on {}. Signatures over a 160-byte message (RSA: rsa-sha2-256), back to back on N connections, {ROUNDS} rounds of {} s per agent and row with the agents alternating, the median round shown; ratio = Latchkey rate / ssh-agent rate (above 1.0 is faster). Both agents hold the same keys, added with ssh-add. {}\n\n",
        machine(),
        ROUND.as_secs(),
        if locked {
            "`+mlock` is Latchkey with `mlockall` in effect (memlock limit raised with prlimit): what keeping keys out of swap costs."
        } else {
            "The memlock limit could not be raised on this machine, so Latchkey ran without `mlockall` (it says so at start-up); no locked-memory figures."
        }
    ));
    s.push_str(
        "| key | conns | latchkey sig/s | p50 / p99 (µs) | ssh-agent sig/s | p50 / p99 (µs) | ratio | latchkey vs its 1 conn | target | met |",
    );
    s.push_str(if locked {
        " latchkey+mlock sig/s |\n|---|---:|---:|---:|---:|---:|---:|---:|---|:-:|---:|\n"
    } else {
        "\n|---|---:|---:|---:|---:|---:|---:|---:|---|:-:|\n"
    });
    for r in rows {
        let ratio = r.ours.rate / r.theirs.rate.max(1e-9);
        let single = rows.iter().find(|o| o.kind == r.kind && o.conns == 1).map_or(r.ours.rate, |o| o.ours.rate);
        let scaling = r.ours.rate / single.max(1e-9);
        let (target, met) = target(r.kind, r.conns, ratio, scaling);
        s.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} / {:.0} | {:.0} | {:.0} / {:.0} | {ratio:.2}x | {scaling:.2}x | {target} | {} |",
            r.kind,
            r.conns,
            r.ours.rate,
            us(r.ours.p50),
            us(r.ours.p99),
            r.theirs.rate,
            us(r.theirs.p50),
            us(r.theirs.p99),
            if met { "yes" } else { "**no**" },
        ));
        if locked {
            s.push_str(&format!(
                " {} |",
                r.locked.as_ref().map(|l| format!("{:.0}", l.rate)).unwrap_or_else(|| "–".into())
            ));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "\n`ssh-add -l`: whole processes, {LIST_RUNS} against each agent in turn, the median time; ± is the noise (bootstrap standard error) of the ratio, and no slower means faster or slower by less than twice that.\n\n| `ssh-add -l` | latchkey (ms) | ssh-agent (ms) | ratio (time) | target | met |\n|---|---:|---:|---:|---|:-:|\n",
    ));
    for ListRow { count, ours, theirs, noise } in list {
        let ratio = ours.as_secs_f64() / theirs.as_secs_f64().max(1e-9);
        // No slower: faster, or slower by less than twice the noise of the difference.
        let met = *ours <= *theirs + *noise * 2;
        s.push_str(&format!(
            "| {count} key{} | {:.3} | {:.3} | {ratio:.3}x (±{:.3}) | ≤ 1.0x | {} |\n",
            if *count == 1 { "" } else { "s" },
            ms(*ours),
            ms(*theirs),
            noise.as_secs_f64() / theirs.as_secs_f64().max(1e-9),
            if met { "yes" } else { "**no**" },
        ));
    }
    s
}

struct ListRow {
    count: usize,
    ours: Duration,
    theirs: Duration,
    /// The standard error of `ours - theirs` (medians), by bootstrap.
    noise: Duration,
}

/// The standard error of the difference of two medians: 200 bootstrap resamples of each side
/// (a fixed xorshift seed, so a run is reproducible from its samples).
fn median_difference_noise(ours: &[Duration], theirs: &[Duration]) -> Duration {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let resample = |v: &[Duration], next: &mut dyn FnMut(usize) -> usize| {
        let mut r: Vec<f64> = (0..v.len()).map(|_| v[next(v.len())].as_secs_f64()).collect();
        r.sort_by(f64::total_cmp);
        r.get(r.len() / 2).copied().unwrap_or_default()
    };
    let diffs: Vec<f64> = (0..200).map(|_| resample(ours, &mut next) - resample(theirs, &mut next)).collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let variance = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (diffs.len() - 1) as f64;
    Duration::from_secs_f64(variance.sqrt())
}

/// The targets: Ed25519 and ECDSA at least 5x ssh-agent on one connection and scaling
/// with more (ssh-agent is single-threaded: 1.5x its own one-connection rate on 2 or more
/// cores, and still at least 5x ssh-agent); RSA-3072 at least 1.0x.
fn target(kind: &str, conns: usize, ratio: f64, scaling: f64) -> (&'static str, bool) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match (kind.starts_with("RSA"), conns) {
        (true, _) => ("≥ 1.0x", ratio >= 1.0),
        (false, 1) => ("≥ 5x", ratio >= 5.0),
        (false, _) if cores >= 2 => ("≥ 5x, ≥ 1.5x its 1 conn", ratio >= 5.0 && scaling >= 1.5),
        (false, _) => ("≥ 5x", ratio >= 5.0),
    }
}
