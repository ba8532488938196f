# Sourced by the check scripts: sets `keyrotor` to a keyrotor binary. KEYROTOR_BIN names one
# already built (CI passes the one `cargo test` built, which spares compiling the workspace's
# dependencies a second time without the tests' features); otherwise it is built here.
keyrotor=${KEYROTOR_BIN:-}
if [ -z "$keyrotor" ]; then
  cargo build --quiet --locked --bin keyrotor
  keyrotor=target/debug/keyrotor
fi
