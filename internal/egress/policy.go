package egress

import (
	"errors"
	"fmt"
	"net/netip"
)

// Rule names reported in [BlockedError.Rule]. They are part of the API: the
// Core API puts them in 4xx messages and operators grep logs for them.
const (
	RuleLoopback      = "loopback"
	RulePrivate       = "private"
	RuleCGNAT         = "cgnat"
	RuleLinkLocal     = "link-local"
	RuleCloudMetadata = "cloud-metadata"
	RuleUnspecified   = "unspecified"
	RuleBroadcast     = "broadcast"
	RuleMulticast     = "multicast"
	RuleDocumentation = "documentation"
	RuleBenchmarking  = "benchmarking"
	RuleReserved      = "reserved"
	RuleInvalid       = "invalid"
)

// ErrBlocked matches every [BlockedError] with errors.Is, for callers that do
// not need the details.
var ErrBlocked = errors.New("egress blocked")

// BlockedError reports an address the policy refuses to connect to.
type BlockedError struct {
	// IP is the address as it was checked (before unmapping).
	IP netip.Addr
	// Rule names the egress rule that blocked it, one of the Rule constants.
	Rule string
}

// Error names the address and the rule, never anything about the request.
func (e *BlockedError) Error() string {
	if !e.IP.IsValid() {
		return fmt.Sprintf("egress blocked: not an IP address (egress rule %q)", e.Rule)
	}
	return fmt.Sprintf("egress blocked: %s (egress rule %q)", e.IP, e.Rule)
}

// Is makes errors.Is(err, ErrBlocked) true for every BlockedError.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// Policy decides which addresses outbound connections may reach. The zero
// value is the strict default: public unicast addresses only.
type Policy struct {
	// AllowPrivateNetworks lets loopback, RFC 1918, ULA and CGNAT addresses
	// through (for targets on the operator's own network). Metadata and
	// link-local addresses stay blocked.
	AllowPrivateNetworks bool
	// AllowCIDRs lets addresses inside these prefixes through, except
	// metadata, unspecified, broadcast and multicast addresses; link-local
	// addresses only pass a prefix inside the link-local range.
	AllowCIDRs []netip.Prefix
}

type rangeRule struct {
	prefix netip.Prefix
	rule   string
	// embedded means the range carries an IPv4 address in its low 32 bits
	// (or, for 6to4, in bits 16–47) that must itself pass the policy.
	embedded embedding
}

type embedding uint8

const (
	embedNone embedding = iota
	embedLow32
	embed6to4
)

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// v4Rules is searched in order; more specific ranges come first.
var v4Rules = []rangeRule{
	{prefix: mustPrefix("255.255.255.255/32"), rule: RuleBroadcast},
	{prefix: mustPrefix("0.0.0.0/8"), rule: RuleUnspecified},
	{prefix: mustPrefix("127.0.0.0/8"), rule: RuleLoopback},
	{prefix: mustPrefix("10.0.0.0/8"), rule: RulePrivate},
	{prefix: mustPrefix("172.16.0.0/12"), rule: RulePrivate},
	{prefix: mustPrefix("192.168.0.0/16"), rule: RulePrivate},
	{prefix: mustPrefix("100.64.0.0/10"), rule: RuleCGNAT},
	{prefix: mustPrefix("169.254.0.0/16"), rule: RuleLinkLocal},
	{prefix: mustPrefix("192.0.0.0/24"), rule: RuleReserved},
	{prefix: mustPrefix("192.0.2.0/24"), rule: RuleDocumentation},
	{prefix: mustPrefix("198.51.100.0/24"), rule: RuleDocumentation},
	{prefix: mustPrefix("203.0.113.0/24"), rule: RuleDocumentation},
	{prefix: mustPrefix("198.18.0.0/15"), rule: RuleBenchmarking},
	{prefix: mustPrefix("192.88.99.0/24"), rule: RuleReserved},
	{prefix: mustPrefix("224.0.0.0/4"), rule: RuleMulticast},
	{prefix: mustPrefix("240.0.0.0/4"), rule: RuleReserved},
}

// v6Rules is searched in order; more specific ranges come first. Addresses
// matching none of them are allowed only inside 2000::/3.
var v6Rules = []rangeRule{
	{prefix: mustPrefix("::/128"), rule: RuleUnspecified},
	{prefix: mustPrefix("::1/128"), rule: RuleLoopback},
	{prefix: mustPrefix("::/96"), rule: RuleReserved, embedded: embedLow32},           // IPv4-compatible (deprecated)
	{prefix: mustPrefix("::ffff:0:0:0/96"), rule: RuleReserved, embedded: embedLow32}, // IPv4-translated (SIIT)
	{prefix: mustPrefix("64:ff9b::/96"), embedded: embedLow32},                        // NAT64 well-known prefix
	{prefix: mustPrefix("64:ff9b:1::/48"), rule: RuleReserved},                        // local-use NAT64, layout unknown
	{prefix: mustPrefix("100::/64"), rule: RuleReserved},                              // discard-only
	{prefix: mustPrefix("2001:2::/48"), rule: RuleBenchmarking},                       // before 2001::/23
	{prefix: mustPrefix("2001:db8::/32"), rule: RuleDocumentation},
	{prefix: mustPrefix("2001::/23"), rule: RuleReserved},  // Teredo, ORCHID, …
	{prefix: mustPrefix("2002::/16"), embedded: embed6to4}, // 6to4
	{prefix: mustPrefix("3fff::/20"), rule: RuleDocumentation},
	{prefix: mustPrefix("fc00::/7"), rule: RulePrivate},  // ULA
	{prefix: mustPrefix("fec0::/10"), rule: RulePrivate}, // site-local (deprecated)
	{prefix: mustPrefix("fe80::/10"), rule: RuleLinkLocal},
	{prefix: mustPrefix("ff00::/8"), rule: RuleMulticast},
}

var globalUnicast6 = mustPrefix("2000::/3")

var linkLocalRanges = []netip.Prefix{mustPrefix("169.254.0.0/16"), mustPrefix("fe80::/10")}

var metadataAddrs = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle IMDS
	netip.MustParseAddr("169.254.169.253"): true, // AWS VPC DNS
	netip.MustParseAddr("169.254.169.123"): true, // AWS time sync
	netip.MustParseAddr("169.254.170.2"):   true, // ECS task credentials
	netip.MustParseAddr("169.254.170.23"):  true, // EKS pod identity agent
	netip.MustParseAddr("169.254.0.23"):    true, // Tencent Cloud metadata
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud metadata
	netip.MustParseAddr("168.63.129.16"):   true, // Azure WireServer
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS IMDS over IPv6
	netip.MustParseAddr("fd00:ec2::253"):   true, // AWS VPC DNS over IPv6
	netip.MustParseAddr("fd00:ec2::123"):   true, // AWS time sync over IPv6
	netip.MustParseAddr("fd00:ec2::23"):    true, // EKS pod identity agent over IPv6
}

// Check reports whether ip may be connected to: nil, or a *BlockedError
// naming the rule that refuses it.
func (p Policy) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return &BlockedError{IP: ip, Rule: RuleInvalid}
	}
	if rule := p.blockedBy(ip.WithZone("").Unmap()); rule != "" {
		return &BlockedError{IP: ip, Rule: rule}
	}
	return nil
}

// blockedBy returns the rule that blocks ip, or "" when it may be dialled.
// ip is unmapped and has no zone.
func (p Policy) blockedBy(ip netip.Addr) string {
	if metadataAddrs[ip] {
		return RuleCloudMetadata
	}
	r, ok := classify(ip)
	if !ok {
		return ""
	}
	if v4, has := embeddedV4(ip, r.embedded); has {
		if rule := p.blockedBy(v4); rule != "" {
			return rule
		}
	}
	if r.rule == "" || p.allows(ip, r.rule) {
		return ""
	}
	return r.rule
}

// classify finds the special range ip falls in; ok is false for ordinary
// global unicast addresses.
func classify(ip netip.Addr) (rangeRule, bool) {
	rules := v4Rules
	if ip.Is6() {
		rules = v6Rules
	}
	for _, r := range rules {
		if r.prefix.Contains(ip) {
			return r, true
		}
	}
	if ip.Is6() && !globalUnicast6.Contains(ip) {
		return rangeRule{rule: RuleReserved}, true
	}
	return rangeRule{}, false
}

func embeddedV4(ip netip.Addr, e embedding) (netip.Addr, bool) {
	b := ip.As16()
	switch e {
	case embedLow32:
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case embed6to4:
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// allows reports whether the operator's settings open a range that is
// blocked by default.
func (p Policy) allows(ip netip.Addr, rule string) bool {
	switch rule {
	case RuleCloudMetadata, RuleUnspecified, RuleBroadcast, RuleMulticast, RuleInvalid:
		return false
	case RuleLinkLocal:
		return p.cidrAllowsLinkLocal(ip)
	case RuleLoopback, RulePrivate, RuleCGNAT:
		if p.AllowPrivateNetworks {
			return true
		}
	}
	return p.cidrAllows(ip)
}

func (p Policy) cidrAllows(ip netip.Addr) bool {
	for _, c := range p.AllowCIDRs {
		if c, ok := normPrefix(c); ok && c.Contains(ip) {
			return true
		}
	}
	return false
}

// normPrefix masks c and turns an IPv4-mapped prefix (::ffff:10.0.0.0/104)
// into its IPv4 form, since addresses are unmapped before matching.
func normPrefix(c netip.Prefix) (netip.Prefix, bool) {
	if !c.IsValid() {
		return c, false
	}
	if a := c.Addr(); a.Is4In6() && c.Bits() >= 96 {
		c = netip.PrefixFrom(a.Unmap(), c.Bits()-96)
	}
	return c.Masked(), true
}

// cidrAllowsLinkLocal only counts prefixes that lie inside a link-local
// range, so that a broad allowance such as 0.0.0.0/0 does not open it.
func (p Policy) cidrAllowsLinkLocal(ip netip.Addr) bool {
	for _, c := range p.AllowCIDRs {
		c, ok := normPrefix(c)
		if !ok || !c.Contains(ip) {
			continue
		}
		for _, ll := range linkLocalRanges {
			if c.Bits() >= ll.Bits() && ll.Contains(c.Addr()) {
				return true
			}
		}
	}
	return false
}
