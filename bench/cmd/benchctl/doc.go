// Command benchctl runs the keyway load benchmark: it starts the upstream and
// the proxies under test pinned to their CPUs, configures keyway through its
// Core API, drives each target with wrk, reads each proxy's CPU time from
// /proc, and reports medians over several passes as a table and as JSON.
// bench/run.sh installs the tools, builds the binaries and calls it; see
// docs/benchmarks.md for the method.
package main
