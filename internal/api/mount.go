package api

// Prefixes are the path prefixes the Core API answers on the admin
// listener: /api/ and the un-prefixed aliases. Everything else there is
// the dashboard's; the composition root mounts the API on each of these.
func Prefixes() []string {
	return append([]string{"/api/"}, aliasPrefixes...)
}
