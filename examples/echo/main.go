// Command echo is a tiny upstream for trying keyway locally: it answers
// every request with the method, path, query and headers it received, so
// you can see which credential keyway injected.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{
			"method":  r.Method,
			"path":    r.URL.EscapedPath(),
			"query":   r.URL.RawQuery,
			"headers": r.Header,
		})
	})
	log.Printf("echo listening on http://%s", *addr)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
