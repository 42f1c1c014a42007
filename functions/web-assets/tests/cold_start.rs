//! The function's binary as Lambda starts it: its cold start is every function's
//! (`runtime::serve`), so a malformed `EXTENSION_ID` stops it with the runtime's
//! configuration-error log line naming the variable, before any invocation is asked for.

#[test]
fn a_malformed_extension_id_stops_the_cold_start_with_the_configuration_error_line() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_web-assets"))
        .env_clear()
        .env("EXTENSION_ID", "not-a-chrome-extension-id")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "the function does not start");
    let log = String::from_utf8_lossy(&output.stdout);
    let line = log
        .lines()
        .find(|line| line.contains("configuration error: the function cannot start"))
        .unwrap_or_else(|| {
            panic!(
                "no configuration error in the log: {log}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    assert!(line.contains(r#""level":"ERROR""#), "{line}");
    assert!(line.contains("EXTENSION_ID is not valid"), "{line}");
}
