//! Managed runtimes on the host's interpreters: `python3.X` / `nodejsNN.x` run on that
//! version or are refused at CreateFunction / UpdateFunctionConfiguration
//! (`nimbus runtimes` lists what was found), and what the Python runtime writes to the
//! function's log stream (one event per error, `/var/task` paths) — see docs/lambda.md.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use nimbus_tests::lambda::{self, expect_err, ROLE};
use nimbus_tests::{unique_name, Nimbus, StartOptions};
use serde_json::{json, Value};
use std::path::Path;

/// A function whose code is the directory `dir` (nimbus's hot-reload convention).
async fn create_in(c: &aws_sdk_lambda::Client, name: &str, runtime: Runtime, handler: &str, dir: &Path) -> Result<(), String> {
    c.create_function()
        .function_name(name)
        .runtime(runtime)
        .handler(handler)
        .role(ROLE)
        .code(FunctionCode::builder().s3_bucket("hot-reload").s3_key(dir.to_str().expect("utf-8 path")).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

fn available(prefix: &str) -> Vec<Value> {
    lambda::host_runtimes().iter().filter(|r| r["available"] == true && r["runtime"].as_str().unwrap_or("").starts_with(prefix)).cloned().collect()
}

#[test]
fn runtimes_subcommand_lists_every_supported_runtime() {
    let list = lambda::host_runtimes();
    let names: Vec<&str> = list.iter().filter_map(|r| r["runtime"].as_str()).collect();
    let expected: Vec<String> = (8..=14).map(|m| format!("python3.{m}")).chain([18, 20, 22, 24].map(|m| format!("nodejs{m}.x"))).collect();
    assert_eq!(names, expected);
    for r in list {
        if r["available"] == true {
            let path = r["path"].as_str().expect("path");
            assert!(Path::new(path).exists(), "{r}");
            assert!(r["version"].as_str().is_some() && r["source"].as_str().is_some(), "{r}");
        } else {
            assert!(r["problem"].as_str().unwrap_or("").contains("not available on this nimbus host"), "{r}");
        }
    }
    // The runtimes the suite uses were found the same way.
    for rt in [lambda::python_runtime(), lambda::node_runtime()] {
        assert!(list.iter().any(|r| r["runtime"] == rt.as_str() && r["available"] == true), "{rt:?}");
    }
    // The table names each runtime with its interpreter or what to do.
    let out = std::process::Command::new(Nimbus::binary()).arg("runtimes").output().expect("nimbus runtimes");
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    for n in &expected {
        assert!(table.lines().any(|l| l.starts_with(&format!("{n} "))), "{n} missing from:\n{table}");
    }
    // An explicit interpreter of the wrong version is reported, not replaced.
    let py = available("python3.")[0].clone();
    let other = if py["runtime"] == "python3.14" { "python3.13" } else { "python3.14" };
    let out = std::process::Command::new(Nimbus::binary())
        .args(["runtimes", "--json", "--runtime", &format!("{other}={}", py["path"].as_str().unwrap())])
        .output()
        .expect("nimbus runtimes --runtime");
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    let row = list.iter().find(|r| r["runtime"] == other).expect("row");
    assert_eq!(row["available"], false, "{row}");
    assert!(row["problem"].as_str().unwrap().contains(&format!("which is version {}", py["version"].as_str().unwrap())), "{row}");
    // A runtime nimbus does not run on an interpreter is a usage error.
    let out = std::process::Command::new(Nimbus::binary()).args(["runtimes", "--runtime", "java21=/usr/bin/java"]).output().expect("run");
    assert!(!out.status.success());

    // The runtimes file (`--runtimes-file`): one `runtime = path` per line.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runtimes.conf");
    std::fs::write(&file, format!("# interpreters for nimbus\n{other} = {}\n", py["path"].as_str().unwrap())).unwrap();
    let out = std::process::Command::new(Nimbus::binary()).args(["runtimes", "--json", "--runtimes-file"]).arg(&file).output().expect("run");
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    let row = list.iter().find(|r| r["runtime"] == other).expect("row");
    assert!(row["problem"].as_str().unwrap().contains(&format!("runtimes file {}, line 2 names", file.display())), "{row}");
    std::fs::write(&file, "python3.12 /usr/bin/python3\n").unwrap();
    let out = std::process::Command::new(Nimbus::binary()).args(["runtimes", "--runtimes-file"]).arg(&file).output().expect("run");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("line 1"), "{out:?}");
}

/// Every Python and Node.js runtime found here runs its function on that version (not on
/// whatever `python3` / `node` is first on PATH).
#[tokio::test]
async fn each_runtime_runs_on_its_own_interpreter_version() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v.py"), "import sys\n\ndef handler(event, context):\n    return {'version': '%d.%d.%d' % sys.version_info[:3], 'executable': sys.executable}\n").unwrap();
    std::fs::write(dir.path().join("v.js"), "exports.handler = async () => ({ version: process.versions.node, executable: process.execPath });\n").unwrap();
    let mut ran = 0;
    for (prefix, handler) in [("python3.", "v.handler"), ("nodejs", "v.handler")] {
        for rt in available(prefix) {
            let runtime = rt["runtime"].as_str().unwrap();
            let name = unique_name("ver");
            create_in(&c, &name, Runtime::from(runtime), handler, dir.path()).await.unwrap_or_else(|e| panic!("create {runtime}: {e}"));
            let r = lambda::invoke(&c, &name, &json!({})).await;
            assert_eq!(r.function_error, None, "{runtime}: {}", r.payload);
            assert_eq!(r.payload["version"], rt["version"], "{runtime} ran on {}", r.payload);
            let version = r.payload["version"].as_str().unwrap();
            let wanted = runtime.trim_start_matches("python").trim_start_matches("nodejs").trim_end_matches(".x");
            assert!(version == wanted || version.starts_with(&format!("{wanted}.")), "{runtime} ran on {version}");
            ran += 1;
        }
    }
    assert!(ran >= 2, "at least one Python and one Node.js runtime");
}

/// AWS refuses a runtime it cannot run at CreateFunction with InvalidParameterValueException
/// ("The runtime parameter of python3.7 is no longer supported for creating or updating AWS
/// Lambda functions", API_CreateFunction / runtime deprecation policy); nimbus does the same,
/// naming the missing interpreter, instead of running another version.
#[tokio::test]
async fn create_and_update_refuse_a_runtime_without_its_interpreter() {
    let py = available("python3.")[0].clone();
    let wrong = if py["runtime"] == "python3.13" { "python3.12" } else { "python3.13" };
    let n = Nimbus::start_with(StartOptions {
        in_memory: true,
        extra_args: vec![
            "--runtime".into(),
            "python3.14=/nonexistent/bin/python3.14".into(),
            "--runtime".into(),
            format!("{wrong}={}", py["path"].as_str().unwrap()),
        ],
        ..Default::default()
    });
    let c = n.lambda_client();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v.py"), "def handler(event, context):\n    return 1\n").unwrap();

    let m = expect_err(
        c.create_function()
            .function_name(unique_name("nope"))
            .runtime(Runtime::from("python3.14"))
            .handler("v.handler")
            .role(ROLE)
            .code(FunctionCode::builder().zip_file(Blob::new(lambda::zip_dir(dir.path()))).build())
            .send()
            .await,
        "InvalidParameterValueException",
        Some(400),
    );
    assert!(m.contains("python3.14") && m.contains("/nonexistent/bin/python3.14") && m.contains("does not exist"), "{m}");

    let name = unique_name("wrongver");
    let err = create_in(&c, &name, Runtime::from(wrong), "v.handler", dir.path()).await.unwrap_err();
    assert!(err.contains("InvalidParameterValueException") && err.contains(&format!("which is version {}", py["version"].as_str().unwrap())), "{err}");

    // A runtime nothing on this machine provides, if there is one.
    if let Some(missing) = lambda::host_runtimes().iter().find(|r| r["available"] == false && r["runtime"] != "python3.14" && r["runtime"] != wrong) {
        let runtime = missing["runtime"].as_str().unwrap();
        let err = create_in(&c, &unique_name("missing"), Runtime::from(runtime), "v.handler", dir.path()).await.unwrap_err();
        let interp = if runtime.starts_with("python") { format!("no Python {} interpreter was found", &runtime[6..]) } else { format!("no Node.js {} interpreter was found", runtime.trim_start_matches("nodejs").trim_end_matches(".x")) };
        assert!(err.contains(&interp) && err.contains("NIMBUS_RUNTIME_"), "{runtime}: {err}");
    }

    // UpdateFunctionConfiguration switching to a runtime without interpreter: refused, the
    // function keeps running on its own.
    let ok = unique_name("ok");
    create_in(&c, &ok, Runtime::from(py["runtime"].as_str().unwrap()), "v.handler", dir.path()).await.expect("create");
    let m = expect_err(
        c.update_function_configuration().function_name(&ok).runtime(Runtime::from("python3.14")).send().await,
        "InvalidParameterValueException",
        Some(400),
    );
    assert!(m.contains("python3.14"), "{m}");
    let cfg = c.get_function_configuration().function_name(&ok).send().await.expect("get");
    assert_eq!(cfg.runtime().map(|r| r.as_str()), py["runtime"].as_str());
    assert_eq!(lambda::invoke(&c, &ok, &json!({})).await.payload, json!(1));
}

/// Python errors as the Lambda console and `aws logs` show them on AWS: the `[ERROR]` line,
/// a multi-line message and the traceback are ONE log event ("Using the Lambda runtime's
/// logging", AWS Lambda Developer Guide, python-logging), and the traceback names the
/// package's files under /var/task (python-exceptions: `File "/var/task/lambda_function.py"`).
#[tokio::test]
async fn a_python_error_is_one_log_event_with_var_task_paths() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let logs = n.logs_client();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.py"),
        "def inner(event):\n    raise ValueError('first line\\nsecond line\\nthird line')\n\n\ndef handler(event, context):\n    print('before the error')\n    inner(event)\n",
    )
    .unwrap();
    let name = unique_name("pyerr");
    create_in(&c, &name, lambda::python_runtime(), "app.handler", dir.path()).await.expect("create");
    let r = lambda::invoke(&c, &name, &json!({})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "ValueError");
    assert_eq!(r.payload["errorMessage"], "first line\nsecond line\nthird line");
    let stack: Vec<&str> = r.payload["stackTrace"].as_array().expect("stackTrace").iter().filter_map(Value::as_str).collect();
    assert!(stack.iter().any(|f| f.starts_with("  File \"/var/task/app.py\", line 7, in handler")), "{stack:?}");
    assert!(stack.iter().all(|f| !f.contains(dir.path().to_str().unwrap())), "host paths leak: {stack:?}");

    let events = logs.filter_log_events().log_group_name(format!("/aws/lambda/{name}")).send().await.expect("filter_log_events");
    let messages: Vec<&str> = events.events().iter().filter_map(|e| e.message()).collect();
    let errors: Vec<&&str> = messages.iter().filter(|m| m.contains("ValueError")).collect();
    assert_eq!(errors.len(), 1, "one event for the error: {messages:#?}");
    let e = errors[0];
    assert!(e.starts_with("[ERROR] ValueError: first line\nsecond line\nthird line\nTraceback (most recent call last):\n"), "{e:?}");
    assert!(e.contains("File \"/var/task/app.py\", line 2, in inner"), "{e:?}");
    assert!(!e.contains('\r'), "{e:?}");
    for part in ["second line", "third line", "Traceback (most recent call last):"] {
        assert!(!messages.iter().any(|m| m.trim_end() == part), "{part:?} logged as its own event: {messages:#?}");
    }
    assert!(messages.iter().any(|m| m.trim_end() == "before the error"), "{messages:#?}");
}

/// Node.js errors name the package's files under /var/task too (AWS's `trace`:
/// "at Runtime.handler (file:///var/task/index.mjs:3:9)"), and a multi-line
/// `console.log` is one log event, as Lambda's Node.js runtime logs it.
#[tokio::test]
async fn node_traces_use_var_task_and_multi_line_console_log_is_one_event() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let logs = n.logs_client();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.js"), "exports.handler = async () => {\n  console.log('one\\ntwo\\nthree');\n  throw new Error('node broke');\n};\n").unwrap();
    let name = unique_name("nodeerr");
    create_in(&c, &name, lambda::node_runtime(), "index.handler", dir.path()).await.expect("create");
    let r = lambda::invoke(&c, &name, &json!({})).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    let trace: Vec<&str> = r.payload["trace"].as_array().expect("trace").iter().filter_map(Value::as_str).collect();
    assert!(trace.iter().any(|l| l.contains("/var/task/index.js:3")), "{trace:?}");
    assert!(trace.iter().all(|l| !l.contains(dir.path().to_str().unwrap())), "host paths leak: {trace:?}");

    let events = logs.filter_log_events().log_group_name(format!("/aws/lambda/{name}")).send().await.expect("filter_log_events");
    let messages: Vec<&str> = events.events().iter().filter_map(|e| e.message()).collect();
    let logged: Vec<&&str> = messages.iter().filter(|m| m.contains("one")).collect();
    assert_eq!(logged.len(), 1, "{messages:#?}");
    assert!(logged[0].contains("\tINFO\tone\ntwo\nthree"), "{:?}", logged[0]);
    assert!(!messages.iter().any(|m| m.trim_end() == "two"), "{messages:#?}");
}
