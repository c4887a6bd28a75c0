//! The CLI from the shell's side: exit codes without a stack (an unreachable api, usage
//! errors) and the completion scripts, run by a real bash.

use super::*;

#[tokio::test]
async fn an_unreachable_api_is_named_by_its_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let run = ratify(&url, &[("RATIFY_TOKEN", "t")], &["jobs", "--advertiser", "1001"]).await;
    assert_eq!(run.code, UNFINISHED, "{run:?}");
    assert!(run.stderr.starts_with(&format!("error: could not reach the api at {url}: ")), "{run:?}");
    let run = ratify(&url, &[], &["jobs", "--advertiser", "1001"]).await;
    assert_eq!((run.code, run.stderr.as_str()), (USAGE, "error: no token: set RATIFY_TOKEN or pass --token\n"));
    // https:// is spoken (rustls), not refused as a usage error.
    let https = format!("https://127.0.0.1:{port}");
    let run = ratify(&https, &[("RATIFY_TOKEN", "t")], &["jobs", "--advertiser", "1001"]).await;
    assert_eq!(run.code, UNFINISHED, "{run:?}");
    assert!(run.stderr.starts_with(&format!("error: could not reach the api at {https}: ")), "{run:?}");
}

#[tokio::test]
async fn usage_errors_are_clap_s_exit_code_2_and_send_nothing() {
    let url = "http://127.0.0.1:9";
    let env = [("RATIFY_TOKEN", "t")];
    for args in [
        &["jobs"][..],
        &["jobs", "--advertiser", "x"],
        &["jobs", "--advertiser", "1", "--limit", "501"],
        &["job", "j", "--advertiser", "1", "--csv", "--json"],
        &["submit"],
        &["submit", "f.csv", "--advertiser", "1", "--max-items", "0"],
        &["frobnicate"],
        &["completions", "powershell-7"],
    ] {
        let run = ratify(url, &env, args).await;
        assert_eq!(run.code, USAGE, "{args:?}: {run:?}");
        assert!(run.stderr.starts_with("error: "), "{args:?}: {run:?}");
    }
    let run = ratify("ftp://example", &env, &["jobs", "--advertiser", "1"]).await;
    assert_eq!(run.code, USAGE, "{run:?}");
}

#[tokio::test]
async fn the_advertiser_comes_from_ratify_advertiser() {
    // No api listens on the port: the advertiser was taken, or clap would say it is missing.
    let run = ratify("http://127.0.0.1:9", &[("RATIFY_TOKEN", "t"), ("RATIFY_ADVERTISER", "1001")], &["jobs"]).await;
    assert_eq!(run.code, UNFINISHED, "{run:?}");
    let run = ratify("http://127.0.0.1:9", &[("RATIFY_TOKEN", "t"), ("RATIFY_ADVERTISER", "x")], &["jobs"]).await;
    assert_eq!(run.code, USAGE, "{run:?}");
}

#[tokio::test]
async fn completion_scripts_complete_the_subcommands() {
    for (shell, marker) in [("bash", "complete -F _ratify"), ("zsh", "#compdef ratify"), ("fish", "complete -c ratify")]
    {
        let run = ratify("http://127.0.0.1:9", &[], &["completions", shell]).await;
        assert_eq!(run.code, APPLIED, "{run:?}");
        assert!(run.stdout.contains(marker), "{shell}: no {marker:?} in {}", run.stdout);
    }
    // Bash itself loads the script and completes `ratify su` and `ratify submit --ma`.
    let script = ratify("http://127.0.0.1:9", &[], &["completions", "bash"]).await.stdout;
    let dir = std::env::temp_dir().join(format!("ratify-completion-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let path = dir.join("ratify.bash");
    std::fs::write(&path, script).expect("writing the script");
    let complete = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        // Bash calls the function with the command, the word being completed and the one
        // before it.
        let (current, previous) = (words[words.len() - 1], words[words.len() - 2]);
        let program = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT={}; \
             _ratify ratify {current} {previous}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display(),
            words.join(" "),
            words.len() - 1,
            line.len(),
        );
        let output = std::process::Command::new("bash").arg("-c").arg(program).output().expect("running bash");
        assert!(output.status.success(), "{line}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8")
    };
    assert_eq!(complete("ratify su").split_whitespace().collect::<Vec<_>>(), ["submit"]);
    let flags = complete("ratify submit --ma");
    assert!(flags.contains("--max-items") && flags.contains("--max-bytes"), "{flags}");
    let _ = std::fs::remove_dir_all(dir);
}
