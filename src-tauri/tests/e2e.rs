//! Desktop end-to-end: the real app under Xvfb, driven through tauri-driver and WebKitWebDriver,
//! checked with the real ssh-keygen.
//!
//! Needs a display, a D-Bus session, tauri-driver and WebKitWebDriver: `cargo xtask test` provides
//! all of them (xvfb-run + dbus-run-session) and points LATCHKEY_E2E_APP at the built app.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

const WAIT: Duration = Duration::from_secs(30);

/// tauri-driver on a free port, stopped with SIGTERM on drop (SIGKILL would leave WebKitWebDriver
/// holding our output pipe).
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(env: &[(&str, &Path)]) -> Self {
        for port in 4444..4544u16 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() || TcpStream::connect(("127.0.0.1", port + 1000)).is_ok()
            {
                continue;
            }
            let mut cmd = Command::new("tauri-driver");
            cmd.args(["--port", &port.to_string(), "--native-port", &(port + 1000).to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            for (k, v) in env {
                cmd.env(k, v);
            }
            let mut child = cmd.spawn().expect("tauri-driver (cargo xtask test installs it)");
            for _ in 0..100 {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Driver { child, port };
                }
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("tauri-driver exited early: {status}");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            panic!("tauri-driver did not listen on port {port} within 10 s");
        }
        panic!("no free port for tauri-driver in 4444..4544");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Also the app WebKitWebDriver started: a test that fails before closing its session
        // would otherwise leave it running, and the next test's app would only focus it (single
        // instance) and wait forever.
        let started = descendants(self.child.id());
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        for pid in started.iter().rev() {
            let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        }
        let _ = self.child.wait();
    }
}

/// The processes below `root` (children before grandchildren), from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() && found.len() < 64 {
        let parent = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    found.remove(0);
    found
}

/// A Secret Service for the app inside the session xtask made (dbus-run-session).
fn start_keyring(home: &Path) -> Child {
    let mut child = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets", "--foreground"])
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon");
    use std::io::Write;
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(b"e2e-keyring-pw");
    drop(stdin);
    child
}

fn ssh_keygen(args: &[&str]) -> std::process::Output {
    Command::new("ssh-keygen").args(args).output().expect("ssh-keygen")
}

async fn css(client: &Client, selector: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("no element {selector}: {e}"))
}

async fn type_into(client: &Client, selector: &str, text: &str) {
    let field = css(client, selector).await;
    field.clear().await.ok();
    field.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {selector}: {e}"));
}

async fn click(client: &Client, selector: &str) {
    css(client, selector).await.click().await.unwrap_or_else(|e| panic!("clicking {selector}: {e}"));
}

/// A scratch HOME, LATCHKEY_HOME and agent socket for one run of the app.
struct Scratch {
    dir: tempfile::TempDir,
    home: PathBuf,
    latchkey_home: PathBuf,
    socket: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join("data")).unwrap();
        Self { latchkey_home: dir.path().join("latchkey"), socket: dir.path().join("agent.sock"), home, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The app running under WebDriver, with a Secret Service of its own.
struct Session {
    client: Client,
    driver: Driver,
    keyring: Child,
}

async fn launch(scratch: &Scratch) -> Session {
    let app = PathBuf::from(std::env::var("LATCHKEY_E2E_APP").expect("LATCHKEY_E2E_APP: the built desktop app"));
    let keyring = start_keyring(&scratch.home);
    let driver = Driver::start(&[
        ("HOME", &scratch.home),
        ("LATCHKEY_HOME", &scratch.latchkey_home),
        ("LATCHKEY_AGENT_SOCKET", &scratch.socket),
    ]);
    let capabilities = serde_json::json!({ "tauri:options": { "application": app } });
    let client = ClientBuilder::rustls()
        .expect("tls")
        .capabilities(capabilities.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("WebDriver session with the app");
    Session { client, driver, keyring }
}

impl Session {
    async fn screenshot(&self, name: &str) {
        if let Ok(dir) = std::env::var("LATCHKEY_SCREENSHOT_DIR") {
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(Path::new(&dir).join(name), png).unwrap();
        }
    }

    async fn close(mut self) {
        self.client.close().await.ok();
        drop(self.driver);
        let _ = Command::new("kill").args(["-TERM", &self.keyring.id().to_string()]).status();
        let _ = self.keyring.wait();
    }
}

#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and WebKitWebDriver: run by `cargo xtask test`"]
async fn generate_and_import_keys_through_the_window() {
    let scratch = Scratch::new();
    let latchkey_home = &scratch.latchkey_home;
    let session = launch(&scratch).await;
    let client = &session.client;

    // 1. Generate an Ed25519 key with a passphrase through the dialog.
    css(client, "[data-testid=empty-state]").await;
    click(client, "[data-testid=open-generate]").await;
    css(client, "[data-testid=generate-dialog]").await;
    type_into(client, "#gen-name", "e2e-ed25519").await;
    css(client, "#gen-type").await.select_by_value("ed25519").await.unwrap();
    type_into(client, "#gen-comment", "e2e@latchkey").await;
    type_into(client, "#gen-passphrase", "e2e window passphrase").await;
    type_into(client, "#gen-passphrase2", "e2e window passphrase").await;
    click(client, "[data-testid=generate-submit]").await;
    css(client, "[data-testid=key-row][data-name='e2e-ed25519']").await;

    let generated = latchkey_home.join("keys/e2e-ed25519");
    let opened = ssh_keygen(&["-y", "-P", "e2e window passphrase", "-f", generated.to_str().unwrap()]);
    assert!(
        opened.status.success(),
        "ssh-keygen could not open the generated key: {}",
        String::from_utf8_lossy(&opened.stderr)
    );
    assert!(String::from_utf8_lossy(&opened.stdout).starts_with("ssh-ed25519 "));
    assert!(String::from_utf8_lossy(&opened.stdout).trim_end().ends_with("e2e@latchkey"));
    let wrong = ssh_keygen(&["-y", "-P", "not it", "-f", generated.to_str().unwrap()]);
    assert!(!wrong.status.success());

    // 2. Import an encrypted key made by ssh-keygen, keeping its passphrase.
    let source = scratch.path("from-ssh-keygen");
    let made =
        ssh_keygen(&["-q", "-t", "ecdsa", "-N", "import pass", "-C", "imported", "-f", source.to_str().unwrap()]);
    assert!(made.status.success());
    let original = std::fs::read(&source).unwrap();
    click(client, "[data-testid=open-import]").await;
    css(client, "[data-testid=import-dialog]").await;
    type_into(client, "#import-path", source.to_str().unwrap()).await;
    click(client, "[data-testid=import-path-load]").await;
    type_into(client, "#import-passphrase", "import pass").await;
    type_into(client, "#import-name", "e2e-imported").await;
    click(client, "[data-testid=import-submit]").await;
    css(client, "[data-testid=key-row][data-name='e2e-imported']").await;
    let stored = latchkey_home.join("keys/e2e-imported");
    let opened = ssh_keygen(&["-y", "-P", "import pass", "-f", stored.to_str().unwrap()]);
    assert!(opened.status.success(), "{}", String::from_utf8_lossy(&opened.stderr));
    assert_eq!(std::fs::read(&source).unwrap(), original, "the imported file is never modified");

    // 3. The detail pane shows ssh-keygen's fingerprint; keep a screenshot of the Keys view.
    click(client, "[data-testid=key-row][data-name='e2e-ed25519'] button").await;
    css(client, "[data-testid=key-details][data-name='e2e-ed25519'][data-loaded='true']").await;
    let shown = css(client, "[data-testid=fingerprint-sha256]").await.text().await.unwrap();
    let listed = ssh_keygen(&["-l", "-f", generated.to_str().unwrap()]);
    let expected = String::from_utf8_lossy(&listed.stdout).split_whitespace().nth(1).unwrap_or_default().to_owned();
    assert_eq!(shown.trim(), expected);
    session.screenshot("keys.png").await;
    session.close().await;
}

fn latchkey_cli(home: &Path, latchkey_home: &Path, args: &[&str]) {
    let cli = std::env::var("LATCHKEY_E2E_CLI").expect("LATCHKEY_E2E_CLI: the latchkey command line");
    let out = Command::new(cli)
        .args(args)
        .env("HOME", home)
        .env("LATCHKEY_HOME", latchkey_home)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .expect("latchkey");
    assert!(out.status.success(), "latchkey {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `ssh-keygen -Y sign` through the app's agent, in the background (it waits for the prompt).
fn sign_in_background(socket: &Path, public_key: &Path, message: &Path) -> std::process::Child {
    Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "file", "-f"])
        .arg(public_key)
        .arg(message)
        .env("SSH_AUTH_SOCK", socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh-keygen -Y sign")
}

fn wait_child(mut child: std::process::Child) -> std::process::ExitStatus {
    for _ in 0..600 {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("ssh-keygen did not finish within 60 s");
}

#[tokio::test]
#[ignore = "needs Xvfb, D-Bus, tauri-driver and WebKitWebDriver: run by `cargo xtask test`"]
async fn approve_and_deny_a_signature_through_the_prompt() {
    let scratch = Scratch::new();
    let (home, latchkey_home, socket) = (&scratch.home, &scratch.latchkey_home, &scratch.socket);
    // A store key that asks before each use, made with the CLI before the app starts.
    latchkey_cli(home, latchkey_home, &["key", "new", "e2e-confirm", "--no-passphrase", "-C", "e2e-confirm"]);
    latchkey_cli(home, latchkey_home, &["key", "policy", "e2e-confirm", "--confirm"]);
    let public_key = latchkey_home.join("keys/e2e-confirm.pub");
    let message = scratch.path("message.txt");
    std::fs::write(&message, "approve me\n").unwrap();

    let session = launch(&scratch).await;
    let client = &session.client;
    css(client, "[data-testid=key-row][data-name='e2e-confirm']").await;
    for _ in 0..100 {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Allow once: the prompt names the key and the process, and the signature verifies.
    let signer = sign_in_background(socket, &public_key, &message);
    css(client, "[data-testid=prompt-dialog][data-kind='approval']").await;
    let key = css(client, "[data-testid=prompt-key]").await.text().await.unwrap();
    assert!(key.contains("e2e-confirm"), "{key}");
    let process = css(client, "[data-testid=prompt-process]").await.text().await.unwrap();
    assert!(process.contains("ssh-keygen"), "the prompt shows who asked: {process}");
    click(client, "[data-testid=prompt-allow-once]").await;
    let status = tokio::task::spawn_blocking(move || wait_child(signer)).await.unwrap();
    assert!(status.success(), "allowed signing must succeed");
    let allowed = scratch.path("allowed_signers");
    let line = std::fs::read_to_string(&public_key).unwrap();
    std::fs::write(&allowed, format!("e2e {}\n", line.split_whitespace().take(2).collect::<Vec<_>>().join(" ")))
        .unwrap();
    let verify = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-n", "file", "-I", "e2e", "-f"])
        .arg(&allowed)
        .arg("-s")
        .arg(scratch.path("message.txt.sig"))
        .stdin(std::fs::File::open(&message).unwrap())
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));

    // Deny: ssh-keygen fails.
    std::fs::remove_file(scratch.path("message.txt.sig")).unwrap();
    let signer = sign_in_background(socket, &public_key, &message);
    css(client, "[data-testid=prompt-dialog][data-kind='approval']").await;
    click(client, "[data-testid=prompt-deny]").await;
    let status = tokio::task::spawn_blocking(move || wait_child(signer)).await.unwrap();
    assert!(!status.success(), "a denied signature must fail");
    assert!(!scratch.path("message.txt.sig").exists());

    // Both show in the activity log.
    click(client, "[data-testid=nav-agent]").await;
    css(client, "[data-testid=activity-row][data-outcome='signed'][data-key='e2e-confirm']").await;
    css(client, "[data-testid=activity-row][data-outcome='denied'][data-key='e2e-confirm']").await;
    session.screenshot("agent.png").await;
    session.close().await;
}

/// The app as the user's agent without a WebDriver: started hidden (as at login), it serves on its
/// socket, and logging out (SIGTERM) or ^C (SIGINT) ends it cleanly with the socket removed, so
/// clients do not find a dead one.
#[test]
#[ignore = "needs Xvfb and D-Bus: run by `cargo xtask test`"]
fn the_app_serves_hidden_and_removes_its_socket_on_sigterm_and_sigint() {
    let app = PathBuf::from(std::env::var("LATCHKEY_E2E_APP").expect("LATCHKEY_E2E_APP: the built desktop app"));
    for signal in ["TERM", "INT"] {
        let scratch = Scratch::new();
        let mut child = Command::new(&app)
            .arg("--hidden")
            .env("HOME", &scratch.home)
            .env("LATCHKEY_HOME", &scratch.latchkey_home)
            .env("LATCHKEY_AGENT_SOCKET", &scratch.socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        for _ in 0..300 {
            if std::os::unix::net::UnixStream::connect(&scratch.socket).is_ok() {
                break;
            }
            assert!(child.try_wait().unwrap().is_none(), "the app exited before serving");
            std::thread::sleep(Duration::from_millis(100));
        }
        let listed = Command::new("ssh-add").arg("-l").env("SSH_AUTH_SOCK", &scratch.socket).output().unwrap();
        // 1: "The agent has no identities." (2 would be: cannot connect).
        assert_eq!(listed.status.code(), Some(1), "{}", String::from_utf8_lossy(&listed.stderr));
        Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        let mut status = None;
        for _ in 0..300 {
            status = child.try_wait().unwrap();
            if status.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let Some(status) = status else {
            let _ = child.kill();
            panic!("SIG{signal}: the app did not exit within 30 s");
        };
        assert!(status.success(), "SIG{signal}: {status}");
        assert!(!scratch.socket.exists(), "SIG{signal}: the socket was left behind");
    }
}
