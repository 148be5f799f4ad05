// Package realip finds the address of the client behind a request: the
// peer, or the nearest untrusted X-Forwarded-For entry when the peer is a
// trusted reverse proxy. The data plane uses it to slow down failing
// callers, the dashboard to throttle logins.
package realip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// From returns the client address of r; trusted are the proxies whose
// X-Forwarded-For header is believed. The result is invalid when the peer
// address cannot be parsed.
func From(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	var ip netip.Addr
	if err == nil {
		ip = ap.Addr().Unmap()
	} else if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ip, _ = netip.ParseAddr(host)
	}
	if len(trusted) == 0 || !contains(trusted, ip) {
		return ip
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return ip
			}
			a = a.Unmap()
			if !contains(trusted, a) {
				return a
			}
			ip = a
		}
	}
	return ip
}

func contains(prefixes []netip.Prefix, ip netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
