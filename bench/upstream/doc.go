// Command upstream is the benchmark's origin server: it answers GET /bench
// with a fixed ~1 KB JSON document, but only when the request carries the
// target key in X-API-Key and no trace of the caller's proxy key. Anything
// else is answered with 4xx, so a proxy that forgets the key swap shows up as
// non-2xx responses in wrk and fails the run.
package main
