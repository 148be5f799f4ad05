package api

import "strings"

// Prefixes are the patterns the Core API answers on the admin listener:
// /api/ and the un-prefixed aliases. Everything else there is the
// dashboard's; the composition root mounts the API on each of these.
//
// An alias subtree ("/clients/") is also mounted at its bare root
// ("/clients"): http.ServeMux would otherwise answer GET or POST /clients
// with a redirect to /clients/, which is no route.
func Prefixes() []string {
	out := []string{"/api/"}
	for _, p := range aliasPrefixes {
		out = append(out, p)
		if root := strings.TrimSuffix(p, "/"); root != p {
			out = append(out, root)
		}
	}
	return out
}
