// Package egress builds keyway's outbound HTTP machinery: the address policy
// that decides which IP addresses keyway may connect to, the dial-time guard
// that enforces it, and the transports and clients every outbound call uses
// (targets, OAuth2 and custom token endpoints, JWKS, async callbacks).
//
// The guard runs in the dialer's Control hook, on the IP address the socket
// is about to connect to, after name resolution. A hostname that resolves (or
// later re-resolves, as in DNS rebinding) to a forbidden address is therefore
// refused no matter what the URL looked like when it was saved. [Policy.CheckURL]
// is only an early, friendlier check for URLs whose host is a literal IP.
//
// Every transport built here sets Proxy to nil, so HTTP_PROXY and friends can
// never route traffic around the guard, and [NewClient] never follows
// redirects, so a 3xx cannot carry a request (or a credential) to another
// host.
//
// # Address rules
//
// Blocked by default, with the rule name reported in [BlockedError]:
//
//	loopback        127.0.0.0/8, ::1
//	private         10/8, 172.16/12, 192.168/16, fc00::/7 (ULA), fec0::/10 (site-local)
//	cgnat           100.64.0.0/10
//	link-local      169.254.0.0/16, fe80::/10
//	cloud-metadata  see below
//	unspecified     0.0.0.0/8, ::
//	broadcast       255.255.255.255
//	multicast       224.0.0.0/4, ff00::/8
//	documentation   192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
//	benchmarking    198.18.0.0/15, 2001:2::/48
//	reserved        240.0.0.0/4, 192.0.0.0/24, 192.88.99.0/24, 64:ff9b:1::/48,
//	                100::/64, 2001::/23, ::/96 (IPv4-compatible), ::ffff:0:0:0/96
//	                (IPv4-translated), and all IPv6 outside 2000::/3
//
// IPv4-mapped addresses (::ffff:a.b.c.d) are unmapped first. Addresses that
// embed an IPv4 address — NAT64 64:ff9b::/96, 6to4 2002::/16, IPv4-compatible
// ::/96 and IPv4-translated ::ffff:0:0:0/96 — are blocked when the embedded
// address is.
//
// AllowPrivateNetworks lets loopback, private (including ULA) and cgnat
// through. AllowCIDRs lets any address inside one of the prefixes through,
// with three exceptions:
//
//   - cloud-metadata addresses are never allowed;
//   - unspecified, broadcast and multicast addresses are never allowed: none
//     is a unicast destination, and connecting to 0.0.0.0 reaches the local
//     host;
//   - link-local addresses are only allowed by a prefix that lies inside the
//     link-local range itself (say 169.254.10.0/24), so a broad 0.0.0.0/0
//     does not open 169.254.0.0/16 by accident.
//
// # Cloud metadata
//
// These addresses are always blocked: 169.254.169.254 (AWS, GCP, Azure IMDS,
// OpenStack, DigitalOcean, Oracle, …), 169.254.169.253 and 169.254.169.123
// (AWS DNS and time), 169.254.170.2 and 169.254.170.23 (ECS task and EKS pod
// identity credentials), 169.254.0.23 (Tencent), 100.100.100.200 (Alibaba),
// 168.63.129.16 (Azure WireServer), and fd00:ec2::254, fd00:ec2::253,
// fd00:ec2::123, fd00:ec2::23 (the AWS IPv6 equivalents).
//
// 168.63.129.16 is a public Microsoft address, not a link-local one, but on
// an Azure VM it answers as the platform's WireServer (which hands out VM
// configuration and extension secrets) and it is useless anywhere else, so
// keyway treats it as metadata.
package egress
