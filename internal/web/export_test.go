package web

import (
	"net/http"
	"strings"
)

// UnsafeRoutes lists the paths (parameters filled with "x") of every
// unsafe dashboard route and whether it is public, so tests can prove
// each one checks a CSRF token.
func (d *Dashboard) UnsafeRoutes() map[string]bool {
	out := map[string]bool{}
	for _, rt := range d.table() {
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok || !unsafeMethod(method) || method != http.MethodPost {
			continue
		}
		var b strings.Builder
		for seg := range strings.SplitSeq(path, "/") {
			if seg == "" {
				continue
			}
			if strings.HasPrefix(seg, "{") {
				seg = "x"
			}
			b.WriteString("/" + seg)
		}
		out[b.String()] = rt.public
	}
	return out
}

// RoutePaths lists the path of every dashboard route.
func (d *Dashboard) RoutePaths() []string {
	var out []string
	for _, rt := range d.table() {
		_, path, _ := strings.Cut(rt.pattern, " ")
		out = append(out, path)
	}
	return out
}
