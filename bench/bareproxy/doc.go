// Command bareproxy is the benchmark's floor for a Go proxy: a plain
// httputil.ReverseProxy (Rewrite, one shared pooled transport) that maps
// /api/{anything}/{rest} to the upstream's /{rest}, drops Authorization and sets
// the target's X-API-Key. It does no caller authentication, no logging and no
// bookkeeping, so keyway ÷ bare is the price of everything keyway adds.
package main
