// Package telemetry watches what the data plane does, off its hot path:
//
//   - Recorder takes one Event per finished request. It adds the request to
//     in-memory rollups (per proxy and client, per minute) and Prometheus
//     metrics right away, and queues a request log entry for a background
//     writer that redacts secrets and stores entries in batched group
//     commits. When the bounded queue is full the entry is dropped and
//     counted, never waited for.
//   - Rollups are flushed every second into minute, hour and day buckets
//     with mergeable log-linear latency histograms, so percentiles over any
//     range are exact to the bucket precision without scanning the log.
//   - Query answers the telemetry API from those buckets.
//   - Retention deletes old log entries, rollups and notifications in
//     small batches.
//   - Metrics is the Prometheus registry served on /metrics, with per-proxy
//     labels bounded by the snapshot and a cap.
//   - Tracing sets up OpenTelemetry (OTLP over HTTP) when configured.
package telemetry
