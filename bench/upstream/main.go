package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	targetKey := flag.String("target-key", "", "value X-API-Key must carry")
	proxyKey := flag.String("proxy-key", "", "caller key that must never arrive")
	flag.Parse()
	if *targetKey == "" || *proxyKey == "" {
		log.Fatal("upstream: -target-key and -proxy-key are required")
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           newHandler(*targetKey, *proxyKey),
		ReadHeaderTimeout: 10 * time.Second,
	}
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
}

// handler holds the precomputed answer so the hot path only compares headers
// and writes bytes: the upstream shares a CPU with wrk and must stay cheap.
type handler struct {
	targetKey string
	proxyKey  string
	body      []byte
	length    string
}

func newHandler(targetKey, proxyKey string) *handler {
	body := responseBody()
	return &handler{targetKey: targetKey, proxyKey: proxyKey, body: body, length: strconv.Itoa(len(body))}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/bench" {
		http.Error(w, "unexpected path "+r.URL.Path, http.StatusNotFound)
		return
	}
	if h.leaksProxyKey(r.Header) {
		http.Error(w, "proxy credential reached the upstream", http.StatusBadRequest)
		return
	}
	if r.Header.Get("X-API-Key") != h.targetKey {
		http.Error(w, "missing or wrong X-API-Key", http.StatusUnauthorized)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = []string{"application/json"}
	hdr["Content-Length"] = []string{h.length}
	_, _ = w.Write(h.body)
}

// leaksProxyKey reports whether the caller's credential was forwarded, either
// as Authorization or under any other header name.
func (h *handler) leaksProxyKey(hdr http.Header) bool {
	if _, ok := hdr["Authorization"]; ok {
		return true
	}
	for _, vs := range hdr {
		for _, v := range vs {
			if v == h.proxyKey {
				return true
			}
		}
	}
	return false
}

type item struct {
	ID       int      `json:"id"`
	Name     string   `json:"name"`
	Price    float64  `json:"price"`
	InStock  bool     `json:"inStock"`
	Tags     []string `json:"tags"`
	Currency string   `json:"currency"`
}

// responseBody builds a deterministic JSON document of roughly 1 KB, the size
// of a typical small API answer.
func responseBody() []byte {
	items := make([]item, 0, 9)
	for i := 1; i <= 9; i++ {
		items = append(items, item{
			ID:       i,
			Name:     fmt.Sprintf("benchmark item %03d", i),
			Price:    float64(i)*3.25 + 0.99,
			InStock:  i%3 != 0,
			Tags:     []string{"alpha", "beta"},
			Currency: "EUR",
		})
	}
	b, err := json.Marshal(map[string]any{"items": items, "page": 1, "total": len(items)})
	if err != nil {
		panic(err)
	}
	return b
}
