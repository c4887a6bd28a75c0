//! The console's page shell, its sign-in and message pages, and its assets (one style
//! sheet, one script, both compiled in).

use axum::http::header;
use axum::response::IntoResponse;
use maud::{html, Markup, DOCTYPE};

/// A whole page: the header with the navigation (and sign-out when signed in), then `body`.
pub fn page(title: &str, signed_in: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Ratify console" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    span.brand { "Ratify" }
                    @if signed_in {
                        nav aria-label="Console" {
                            a href="/console/jobs" { "Jobs" }
                            a href="/console/health" { "Health" }
                            a href="/docs/" { "API docs" }
                        }
                        form.signout method="post" action="/console/sign-out" {
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The sign-in page, with what went wrong last time.
pub fn sign_in(problem: Option<&str>) -> Markup {
    page(
        "Sign in",
        false,
        html! {
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            form.signin method="post" action="/console/sign-in" {
                label for="token" { "Token" }
                input id="token" name="token" type="password" autocomplete="off" required;
                p.hint { "An advertiser token shows its advertisers' jobs; the admin token shows every advertiser's." }
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// A page that only says something (not found, unavailable).
pub fn message(title: &str, text: &str) -> Markup {
    page(title, true, html! { p { (text) } p { a href="/console/jobs" { "Back to the jobs" } } })
}

/// `GET /console/assets/console.css`.
pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], STYLE)
}

/// `GET /console/assets/console.js`.
pub async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], SCRIPT)
}

/// Dark text on light ground (contrast above 7:1 for body text), visible focus rings.
const STYLE: &str = r#"
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; background: #fafafa; }
a { color: #0b57a4; }
a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f0a000; outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #14304d; color: #fff; }
header a { color: #fff; margin-right: 16px; } .brand { font-weight: 700; font-size: 18px; }
.signout { margin-left: auto; } button { font: inherit; padding: 5px 12px; border: 1px solid #14304d; background: #fff; color: #14304d; border-radius: 4px; cursor: pointer; }
main { padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 22px; margin: 8px 0 16px; } h2 { font-size: 18px; margin: 24px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #d6d6d6; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
progress { width: 140px; height: 14px; } .big progress { width: 100%; height: 22px; }
.status { font-weight: 600; padding: 1px 6px; border-radius: 3px; }
.status-DONE { background: #dcefdc; color: #14501a; } .status-PROCESSING { background: #fff1c9; color: #5c4500; } .status-QUEUED { background: #e6e9ee; color: #2b3440; }
.codes span { display: inline-block; margin-right: 8px; white-space: nowrap; }
.code-error { color: #9b1c1c; } form.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; margin-bottom: 16px; }
form.filters label, form.signin label { display: block; font-weight: 600; }
input, select { font: inherit; padding: 4px 6px; border: 1px solid #767676; border-radius: 3px; background: #fff; color: #1a1a1a; }
form.signin { max-width: 420px; } form.signin input { width: 100%; margin: 4px 0 8px; }
.hint { color: #4a4a4a; font-size: 13px; } .problem { color: #9b1c1c; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; } dl.facts dt { font-weight: 600; }
.pager { margin: 12px 0; display: flex; gap: 16px; } .downloads a { margin-right: 16px; }
pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
"#;

/// Live progress for a job page: polls the job's summary (the api's own route; the session
/// cookie authenticates reads) every second while it is not DONE and updates the figures
/// in place. Without JavaScript the page is complete, only not live.
const SCRIPT: &str = r#"
document.addEventListener("DOMContentLoaded", function () {
  var live = document.querySelector("[data-live]");
  if (!live) return;
  var url = live.getAttribute("data-live");
  function set(name, value) {
    document.querySelectorAll("[data-field='" + name + "']").forEach(function (el) { el.textContent = value; });
  }
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { setTimeout(tick, 2000); return; }
        var bar = document.getElementById("progress");
        if (bar) { bar.max = job.transactionCount; bar.value = job.processedCount; }
        set("status", job.status);
        set("processed", job.processedCount.toLocaleString("en"));
        set("errors", job.errorCount.toLocaleString("en"));
        set("completed", job.completionDate || "—");
        var badge = document.querySelector("[data-field='status']");
        if (badge) badge.className = "status status-" + job.status;
        if (job.status === "DONE") {
          var done = document.getElementById("finished");
          if (done) done.hidden = false;
        } else {
          setTimeout(tick, 1000);
        }
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  tick();
});
"#;
