package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks the document lists exactly the routes the
// router serves, that every operation has a response schema and that
// every $ref resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	s := New(nil, nil).(*server)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	if rec.Code != 200 {
		t.Fatalf("openapi.json: %d %s", rec.Code, rec.Body)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("version %v", doc["openapi"])
	}

	// Registered: every route of the table must be what the mux picks.
	var registered []string
	for _, rt := range s.routes {
		for _, p := range rt.patterns() {
			req := httptest.NewRequest(rt.method, strings.NewReplacer("{", "x", "}", "").Replace(p), nil)
			if _, pat := s.mux.Handler(req); pat != rt.method+" "+p {
				t.Errorf("%s %s routes to %q", rt.method, p, pat)
			}
		}
		registered = append(registered, rt.method+" /api"+rt.path)
	}

	var documented []string
	paths := doc["paths"].(map[string]any)
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			documented = append(documented, strings.ToUpper(m)+" "+p)
			resp := op.(map[string]any)["responses"].(map[string]any)
			ok := false
			for code, r := range resp {
				content, _ := r.(map[string]any)["content"].(map[string]any)
				js, _ := content["application/json"].(map[string]any)
				if code != "default" && js["schema"] != nil {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s %s has no success response schema", m, p)
			}
			for _, name := range pathParams(p) {
				found := false
				for _, prm := range op.(map[string]any)["parameters"].([]any) {
					if prm.(map[string]any)["name"] == name {
						found = true
					}
				}
				if !found {
					t.Errorf("%s %s does not document path parameter %s", m, p, name)
				}
			}
		}
	}
	slices.Sort(registered)
	slices.Sort(documented)
	if !slices.Equal(registered, documented) {
		t.Errorf("routes and document differ:\nrouter:   %v\ndocument: %v", registered, documented)
	}

	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(v any)
	refs := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				refs++
				name, found := strings.CutPrefix(r, "#/components/schemas/")
				if !found || schemas[name] == nil {
					t.Errorf("unresolved $ref %q", r)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	if refs < 50 {
		t.Errorf("only %d refs; document looks empty", refs)
	}
}

// TestOpenAPIPublic checks the document needs no token and carries the
// common headers.
func TestOpenAPIPublic(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	New(nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
}
