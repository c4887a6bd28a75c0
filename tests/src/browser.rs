//! A real headless Chromium, driven over WebDriver, for tests of what a person sees: pages
//! that JavaScript renders (the Swagger UI at `/docs/`, the console), which a plain HTTP
//! client can fetch but never run. A test opens a page with [`Browser::goto`], waits for
//! what the scripts should have drawn with [`Browser::wait_for`], reads or clicks it through
//! [`Browser::client`] (a [`fantoccini::Client`]) and may keep a picture of it with
//! [`Browser::screenshot`].
//!
//! Each [`Browser`] has its own `chromedriver` process on a free loopback port and its own
//! Chromium profile in a fresh temporary directory, so browser tests run in parallel and
//! share nothing, not even cookies. Dropping it kills that chromedriver (by the pid of the
//! child it started, never by name) and removes the directory; end a test with
//! [`Browser::close`] to end the WebDriver session, and with it Chromium, cleanly first.
//!
//! Environment: `RATIFY_CHROMEDRIVER` (default: `chromedriver` on PATH) and
//! `RATIFY_CHROMIUM` (default: `chromium` on PATH), both set by `deploy/local.sh test`,
//! which installs Debian's `chromium` and `chromium-driver` (`deploy/lib/chromium.sh`);
//! nothing here downloads a browser. `RATIFY_SCREENSHOT_DIR`: where screenshots go
//! (default `target/screenshots`; a relative path is taken from the workspace root).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use rand::Rng;
use serde_json::json;

/// How long [`Browser::wait_for`] waits for an element.
const WAIT_FOR: Duration = Duration::from_secs(10);

/// How long chromedriver may take to answer on its port. It is up in well under a second
/// on an idle machine; the slack is for a box that is compiling at the same time.
const DRIVER_START: Duration = Duration::from_secs(20);

/// What Chromium runs with. `--no-sandbox`: the tests run as root, where Chromium's sandbox
/// refuses to start. The rest keep it quiet and alike on every machine: no GPU, no first-run
/// dialogs, and no traffic of its own (updates, sync, safe-browsing lists): the only
/// network a test's browser uses is the loopback stack under test.
const CHROMIUM_ARGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

/// One headless Chromium with its own chromedriver and profile; see the module docs.
pub struct Browser {
    client: Client,
    /// Declared after `client`, so it is dropped (chromedriver killed) after the client.
    driver: Driver,
}

/// The chromedriver child; its `Drop` kills it, then `dir` goes. Built as soon as the child
/// runs, so a start that fails half-way cleans up as well.
struct Driver {
    child: Child,
    /// Fields drop after `Drop::drop`, so the directory goes only once the child is dead.
    dir: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Chromium and its helpers are chromedriver's descendants, and they live on (adopted
        // by init) when chromedriver alone dies, as it does here when a test panicked before
        // `close`. So: their pids first, while chromedriver still ties them to us, then
        // chromedriver through its child handle (its pid cannot be recycled before the
        // `wait` below), then them, by those pids, not by name.
        let descendants = descendants(self.child.id());
        let _ = self.child.kill();
        if !descendants.is_empty() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(descendants.iter().map(u32::to_string))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.wait();
    }
}

/// The pids of `root`'s children, their children and so on, from `/proc`.
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        i += 1;
    }
    found.split_off(1)
}

impl Driver {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("chromedriver.log")).unwrap_or_default()
    }
}

/// A directory of this process's own under the system's temp dir, removed on drop: the
/// Chromium profile and chromedriver's log.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        let suffix: u64 = rand::thread_rng().gen();
        let path = std::env::temp_dir().join(format!("ratify-browser-{}-{suffix:016x}", std::process::id()));
        // create_dir, not create_dir_all: the directory must be new, never another one's.
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    /// Starts chromedriver and a Chromium session; panics with the reason if it cannot.
    /// Chromium may not come up in time on a loaded machine (chromedriver then reports
    /// "chrome not reachable"): a fresh driver and profile are tried up to three times.
    pub async fn start() -> Browser {
        let mut failures = Vec::new();
        for attempt in 1..=3 {
            match Browser::try_start().await {
                Ok(browser) => return browser,
                Err(e) => {
                    eprintln!("starting a headless Chromium, attempt {attempt} of 3: {e:#}");
                    failures.push(e);
                }
            }
        }
        panic!("could not start a headless Chromium: {:?}", failures.pop());
    }

    /// [`Browser::start`] that hands back the error instead of panicking.
    pub async fn try_start() -> anyhow::Result<Browser> {
        let chromium = chromium_binary()?;
        let dir = TempDir::new()?;
        let log = File::create(dir.0.join("chromedriver.log")).context("creating the chromedriver log")?;
        let port = free_port()?;
        let driver_bin = std::env::var_os("RATIFY_CHROMEDRIVER").unwrap_or_else(|| "chromedriver".into());
        let child = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("duplicating the chromedriver log handle")?)
            .stderr(log)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (is chromium-driver installed? deploy/local.sh test installs it; \
                     or set RATIFY_CHROMEDRIVER)",
                    Path::new(&driver_bin).display()
                )
            })?;
        let mut driver = Driver { child, dir };
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&mut driver, &url).await?;

        let profile = driver.dir.0.join("profile");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), json!({ "binary": chromium, "args": args }));
        // Plain HTTP: chromedriver listens on loopback only, so no TLS stack is linked in.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .with_context(|| {
                format!("opening a session of {} through chromedriver; its log:\n{}", chromium.display(), driver.log())
            })?;
        Ok(Browser { client, driver })
    }

    /// The WebDriver client, for everything beyond the helpers here (clicks, forms, scripts).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Navigates to `url` and waits for the page's load event.
    pub async fn goto(&self, url: &str) {
        if let Err(e) = self.client.goto(url).await {
            panic!("the browser could not open {url}: {e}");
        }
    }

    /// The first element matching the CSS selector `css`, waiting up to 10 s for one to
    /// appear (a page's scripts may draw it well after the load event); panics after that.
    pub async fn wait_for(&self, css: &str) -> Element {
        match self.client.wait().at_most(WAIT_FOR).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => {
                let url = self.client.current_url().await.map_or_else(|e| format!("unknown ({e})"), |u| u.to_string());
                let title = self.client.title().await.unwrap_or_default();
                panic!("no element matches {css:?} after {WAIT_FOR:?} on {url} (title {title:?}): {e}");
            }
        }
    }

    /// Saves a PNG of the viewport as `<name>.png` in `RATIFY_SCREENSHOT_DIR` (created if
    /// need be), else in `target/screenshots/`, and returns its path. Parallel tests must
    /// pick different names.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        assert!(
            !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != "..",
            "a screenshot name is a file name without .png, not {name:?}"
        );
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("taking screenshot {name}: {e}"));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// Ends the WebDriver session (chromedriver then stops Chromium), then drops the rest:
    /// chromedriver is killed and the profile removed.
    pub async fn close(self) {
        // fantoccini's close takes the client by value; the clone shares its one session.
        if let Err(e) = self.client.clone().close().await {
            panic!("ending the WebDriver session: {e}; chromedriver's log:\n{}", self.driver.log());
        }
    }
}

/// Chromium's absolute path: chromedriver runs `binary` as given, without a PATH search.
fn chromium_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("RATIFY_CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
        .context("chromium is not on PATH: deploy/local.sh test installs Debian's chromium, or set RATIFY_CHROMIUM")
}

/// A loopback port that was free a moment ago: bound to port 0, read, released. Another
/// process could take it before chromedriver does; chromedriver then exits, and
/// [`wait_until_ready`] says so.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
    Ok(listener.local_addr().context("reading the bound port")?.port())
}

/// Polls chromedriver's `/status` until it reports ready, failing early if it exits.
async fn wait_until_ready(driver: &mut Driver, url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().context("an HTTP client")?;
    let started = Instant::now();
    loop {
        if let Some(status) = driver.child.try_wait().context("checking on chromedriver")? {
            bail!("chromedriver exited with {status} before answering on {url}; its log:\n{}", driver.log());
        }
        if let Ok(response) = http.get(format!("{url}/status")).send().await {
            if let Ok(body) = response.json::<serde_json::Value>().await {
                if body["value"]["ready"] == true {
                    return Ok(());
                }
            }
        }
        if started.elapsed() > DRIVER_START {
            bail!("chromedriver did not answer ready on {url} within {DRIVER_START:?}; its log:\n{}", driver.log());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn screenshot_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::env::var_os("RATIFY_SCREENSHOT_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target/screenshots"),
    }
}
