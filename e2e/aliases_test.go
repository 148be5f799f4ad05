package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// aliasRoots are the un-prefixed aliases of the Core API (SPEC §7).
var aliasRoots = []string{"/clients", "/users", "/invites", "/notifications", "/regions"}

// TestCoreAPIAliases walks the Core API's route table (its OpenAPI
// document) through the real binary: every route under an aliased prefix
// answers without /api exactly as with it, for every method, including
// the bare roots GET/POST /clients and /users that http.ServeMux would
// redirect to a trailing slash.
func TestCoreAPIAliases(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	_, raw := n.admin(t, "GET", "/api/openapi.json", "")
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil || len(doc.Paths) == 0 {
		t.Fatalf("openapi.json: %v", err)
	}
	seen := map[string]bool{}
	walked := 0
	for _, path := range sortedKeys(doc.Paths) {
		alias := strings.TrimPrefix(path, "/api")
		root := aliasRoot(alias)
		if root == "" {
			continue
		}
		for _, method := range sortedKeys(doc.Paths[path]) {
			method = strings.ToUpper(method)
			// unsafe methods name missing resources (or send an invalid
			// body), so both calls answer alike and change nothing
			concrete, body := fillPath(alias, method), ""
			if method == "POST" || method == "PUT" {
				body = `{"zzNotAField":1}`
			}
			want, wantBody := n.admin(t, method, "/api"+concrete, body)
			got, gotBody := n.admin(t, method, concrete, body)
			if wantBody == "" || strings.Contains(wantBody, "No such route") {
				t.Errorf("%s /api%s is no route: %d %s", method, concrete, want.StatusCode, wantBody)
				continue
			}
			if got.StatusCode != want.StatusCode || !sameAnswer(wantBody, gotBody) ||
				got.Header.Get("Content-Type") != want.Header.Get("Content-Type") {
				t.Errorf("%s %s answered %d %.200s (%s); /api%s answered %d %.200s", method, concrete, got.StatusCode, gotBody,
					got.Header.Get("Location"), concrete, want.StatusCode, wantBody)
			}
			seen[root+" "+method] = true
			walked++
		}
	}
	for _, want := range []string{"/clients GET", "/clients POST", "/clients PUT", "/clients DELETE", "/users GET", "/users POST",
		"/users PUT", "/users DELETE", "/invites POST", "/notifications GET", "/regions GET"} {
		if !seen[want] {
			t.Errorf("the route table has no aliased %s route to walk (walked %d)", want, walked)
		}
	}

	// the bare roots work for real, not only for refusals
	resp, body := n.admin(t, "POST", "/clients", `{"clientName":"via alias"}`)
	if resp.StatusCode != 201 || !strings.Contains(body, `"via alias"`) {
		t.Fatalf("POST /clients: %d %s", resp.StatusCode, body)
	}
	resp, body = n.admin(t, "GET", "/clients", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"via alias"`) {
		t.Fatalf("GET /clients: %d %s", resp.StatusCode, body)
	}
	resp, body = n.admin(t, "POST", "/users", `{"userName":"alias-user","password":"alias-password-1"}`)
	if resp.StatusCode != 201 || !strings.Contains(body, `"alias-user"`) {
		t.Fatalf("POST /users: %d %s", resp.StatusCode, body)
	}
	resp, body = n.admin(t, "GET", "/users", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"alias-user"`) {
		t.Fatalf("GET /users: %d %s", resp.StatusCode, body)
	}
	// the dashboard keeps everything else
	if resp, _ := n.admin(t, "GET", "/login", ""); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /login: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// admin sends a Core API request with the bootstrap token and follows no
// redirect.
func (n *node) admin(t *testing.T, method, path, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.AdminURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func aliasRoot(path string) string {
	for _, r := range aliasRoots {
		if path == r || strings.HasPrefix(path, r+"/") {
			return r
		}
	}
	return ""
}

var wildcard = regexp.MustCompile(`\{[^}]+\}`)

// fillPath puts ids into a route pattern: the bootstrap client for reads,
// ids that name nothing for everything else.
func fillPath(pattern, method string) string {
	return wildcard.ReplaceAllStringFunc(pattern, func(w string) string {
		if w == "{clientId}" && method == "GET" {
			return "default"
		}
		return "zz_missing"
	})
}

// sameAnswer compares two JSON answers: equal, or for objects the same
// keys with equal message and code (a list may carry a fresh timestamp).
func sameAnswer(a, b string) bool {
	if a == b {
		return true
	}
	var x, y map[string]any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return slices.Equal(sortedKeys(x), sortedKeys(y)) && x["message"] == y["message"] && x["code"] == y["code"]
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
