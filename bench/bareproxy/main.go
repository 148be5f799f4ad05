package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	upstream := flag.String("upstream", "", "upstream base URL, e.g. http://127.0.0.1:9000")
	targetKey := flag.String("target-key", "", "X-API-Key value sent upstream")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil || target.Host == "" || *targetKey == "" {
		log.Fatal("bareproxy: -upstream (absolute URL) and -target-key are required")
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           newProxy(target, *targetKey),
		ReadHeaderTimeout: 10 * time.Second,
	}
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "bareproxy:", err)
		os.Exit(1)
	}
}

func newProxy(target *url.URL, targetKey string) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path = stripProxyPrefix(pr.In.URL.Path)
			pr.Out.URL.RawPath = ""
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Set("X-API-Key", targetKey)
		},
		Transport: newTransport(),
	}
}

// newTransport is one pooled transport shared by all requests, sized so that
// every wrk connection can keep an idle upstream connection (the default of
// two idle connections per host would make the floor pay for reconnects).
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
}

// stripProxyPrefix turns /api/{id}/rest into /rest; other paths pass unchanged.
func stripProxyPrefix(p string) string {
	rest, ok := strings.CutPrefix(p, "/api/")
	if !ok {
		return p
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}
