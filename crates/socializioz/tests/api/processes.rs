//! Processes of the binary (and of servers it talks to) that a test starts: each is killed
//! when dropped, so none outlives a failed test, and keeps the last lines it wrote for the
//! test's failure messages.

use crate::helpers::until;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The longest a process is waited for to announce its address.
const PATIENCE: Duration = Duration::from_secs(240);

/// Lines kept of what a process writes.
const KEPT_LINES: usize = 200;

/// A process the test started: killed when dropped, so it never outlives a failed test; the
/// last lines it wrote (standard output and error) are kept for failure messages.
pub struct Process {
    pub name: String,
    child: Mutex<Child>,
    lines: Arc<Mutex<VecDeque<String>>>,
    /// What `announce` found in its output (an address it listens on).
    announced: Arc<OnceLock<String>>,
}

impl Process {
    /// Starts `cmd`; `announce` picks the address it listens on from a line of its output.
    pub fn start(name: &str, mut cmd: Command, announce: fn(&str) -> Option<String>) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let announced = Arc::new(OnceLock::new());
        let outputs: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for output in outputs {
            let lines = lines.clone();
            let announced = announced.clone();
            // Reads until the process ends (its pipes close when it is killed).
            std::thread::spawn(move || {
                for line in BufReader::new(output).lines() {
                    let Ok(line) = line else { break };
                    if let Some(found) = announce(&line) {
                        let _ = announced.set(found);
                    }
                    let mut lines = lines.lock().unwrap();
                    if lines.len() == KEPT_LINES {
                        lines.pop_front();
                    }
                    lines.push_back(line);
                }
            });
        }
        Self {
            name: name.to_owned(),
            child: Mutex::new(child),
            lines,
            announced,
        }
    }

    /// Waits for the address the process announces once it listens.
    pub async fn announced(&self) -> String {
        until(
            &format!("{} announces its address", self.name),
            PATIENCE,
            || async {
                self.assert_running();
                self.announced.get().is_some()
            },
        )
        .await;
        self.announced.get().cloned().unwrap_or_default()
    }

    /// The process's id.
    pub fn id(&self) -> u32 {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).id()
    }

    /// SIGKILL, then reaps it (so that its id is free and it is seen as stopped).
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        child.kill().expect("kill -KILL a process the test started");
        child.wait().expect("reap a killed process");
    }

    /// Fails, with what it wrote, when the process has stopped.
    pub fn assert_running(&self) {
        let status = self.child.lock().unwrap().try_wait().unwrap();
        if let Some(status) = status {
            panic!("{} stopped ({status}):\n{}", self.name, self.log());
        }
    }

    pub fn log(&self) -> String {
        let lines = self.lines.lock().unwrap();
        let mut log = format!("--- {} ---\n", self.name);
        for line in lines.iter() {
            log.push_str(line);
            log.push('\n');
        }
        log
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}
