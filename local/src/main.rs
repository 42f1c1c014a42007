//! `cargo run --release -p local-stack [-- --port N]`: every function on one localhost port.

use local_stack::stack::{DEFAULT_PORT, LocalStack};

fn port_from_args() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = DEFAULT_PORT;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" | "-p" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port {value:?} is not a port number"))?;
            }
            "--help" | "-h" => {
                println!(
                    "usage: local-stack [--port N]   (default {DEFAULT_PORT}; see docs/configuration.md for the environment)"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(port)
}

#[tokio::main]
async fn main() {
    unipile_connect::telemetry::init_local();
    let outcome = async {
        let port = port_from_args()?;
        let env = unipile_connect::config::with_secrets(std::env::vars().collect())
            .await
            .map_err(|e| e.to_string())?;
        let stack = LocalStack::start(port, env).await?;
        let base = &stack.base_url;
        let unipile = if stack.simulator.is_some() { "built-in simulator" } else { "UNIPILE_DSN" };
        println!("unipile-connect local stack on {base}");
        println!("  store: {}, Unipile: {unipile}", stack.store_description);
        if let local_stack::backend::Backend::Real(why) = &stack.backend {
            println!("  a real backend is configured: {}", why.join("; "));
            println!("  so /_local/token, /_local/clock/advance and the simulator are off: API calls");
            println!("  take tokens signed (HS256) with LOCAL_JWT_SECRET");
            stack.wait().await;
            return Ok::<(), String>(());
        }
        let token = stack.demo_token()?;
        println!("  landing page: {base}/   (\"Sign in as the demo user\": {})", local_stack::stack::DEMO_EMAIL);
        println!("  emails sent:  {base}/_local/mail");
        println!("  demo user token (sub={}, 30 days):", local_stack::stack::DEMO_USER);
        println!("  {token}");
        println!("  try: curl -s -X POST {base}/accounts/link -H \"Authorization: Bearer $TOKEN\" \\");
        println!("         -H 'content-type: application/json' -d '{{\"type\":\"create\",\"providers\":\"*\"}}'");
        stack.wait().await;
        Ok::<(), String>(())
    }
    .await;
    if let Err(error) = outcome {
        eprintln!("local-stack: {error}");
        std::process::exit(1);
    }
}
