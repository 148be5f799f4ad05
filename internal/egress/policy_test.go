package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	strict      = Policy{}
	private     = Policy{AllowPrivateNetworks: true}
	allowAll    = Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}}
	allowLL     = Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fe80::/64")}}
	allowTen    = Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	allowDocNet = Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}}
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr   string
		policy Policy
		rule   string // "" means allowed
	}{
		// Public unicast.
		{"8.8.8.8", strict, ""},
		{"1.1.1.1", strict, ""},
		{"2606:4700:4700::1111", strict, ""},
		{"::ffff:8.8.8.8", strict, ""},
		{"64:ff9b::8.8.8.8", strict, ""},
		{"2002:0808:0808::1", strict, ""},
		{"100.63.255.255", strict, ""},
		{"100.128.0.0", strict, ""},
		{"172.15.255.255", strict, ""},
		{"172.32.0.0", strict, ""},
		{"223.255.255.255", strict, ""},

		// Loopback.
		{"127.0.0.1", strict, RuleLoopback},
		{"127.255.255.254", strict, RuleLoopback},
		{"::1", strict, RuleLoopback},
		{"::ffff:127.0.0.1", strict, RuleLoopback},
		{"::ffff:7f00:1", strict, RuleLoopback},
		{"64:ff9b::127.0.0.1", strict, RuleLoopback},
		{"2002:7f00:0001::", strict, RuleLoopback},
		{"::127.0.0.1", strict, RuleLoopback},
		{"::ffff:0:127.0.0.1", strict, RuleLoopback},
		{"127.0.0.1", private, ""},
		{"::1", private, ""},
		{"::ffff:127.0.0.1", private, ""},
		{"64:ff9b::127.0.0.1", private, ""},
		{"127.0.0.1", allowAll, ""},

		// Private and ULA.
		{"10.0.0.1", strict, RulePrivate},
		{"172.16.0.1", strict, RulePrivate},
		{"172.31.255.255", strict, RulePrivate},
		{"192.168.1.1", strict, RulePrivate},
		{"fd12:3456::1", strict, RulePrivate},
		{"fc00::1", strict, RulePrivate},
		{"fec0::1", strict, RulePrivate},
		{"::ffff:10.0.0.1", strict, RulePrivate},
		{"64:ff9b::10.0.0.1", strict, RulePrivate},
		{"2002:c0a8:0101::1", strict, RulePrivate},
		{"10.0.0.1", private, ""},
		{"fd12:3456::1", private, ""},
		{"2002:c0a8:0101::1", private, ""},
		{"10.1.2.3", allowTen, ""},
		{"::ffff:10.1.2.3", allowTen, ""},
		{"10.2.0.1", allowTen, RulePrivate},
		{"10.1.2.3", Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("::ffff:10.1.0.0/112")}}, ""},
		{"10.1.2.3", Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.2.200/16")}}, ""}, // unmasked

		// CGNAT.
		{"100.64.0.1", strict, RuleCGNAT},
		{"100.127.255.255", strict, RuleCGNAT},
		{"100.64.0.1", private, ""},

		// Link-local: never by AllowPrivateNetworks or a broad CIDR, only by
		// a CIDR inside the link-local range.
		{"169.254.1.1", strict, RuleLinkLocal},
		{"fe80::1", strict, RuleLinkLocal},
		{"fe80::1%eth0", strict, RuleLinkLocal},
		{"::ffff:169.254.1.1", strict, RuleLinkLocal},
		{"169.254.1.1", private, RuleLinkLocal},
		{"fe80::1", private, RuleLinkLocal},
		{"169.254.1.1", allowAll, RuleLinkLocal},
		{"fe80::1", allowAll, RuleLinkLocal},
		{"169.254.1.1", allowLL, ""},
		{"fe80::1", allowLL, ""},
		{"fe80::1:0:0:1", allowLL, ""},
		{"fe80:0:0:1::1", allowLL, RuleLinkLocal},

		// Cloud metadata: always, whatever the policy and whatever the form.
		{"169.254.169.254", strict, RuleCloudMetadata},
		{"169.254.169.254", private, RuleCloudMetadata},
		{"169.254.169.254", allowAll, RuleCloudMetadata},
		{"169.254.169.254", allowLL, RuleCloudMetadata},
		{"169.254.170.2", allowLL, RuleCloudMetadata},
		{"169.254.169.253", allowLL, RuleCloudMetadata},
		{"169.254.169.123", allowLL, RuleCloudMetadata},
		{"169.254.170.23", allowLL, RuleCloudMetadata},
		{"169.254.0.23", allowLL, RuleCloudMetadata},
		{"100.100.100.200", strict, RuleCloudMetadata},
		{"100.100.100.200", private, RuleCloudMetadata},
		{"100.100.100.200", allowAll, RuleCloudMetadata},
		{"168.63.129.16", strict, RuleCloudMetadata},
		{"168.63.129.16", allowAll, RuleCloudMetadata},
		{"fd00:ec2::254", strict, RuleCloudMetadata},
		{"fd00:ec2::254", private, RuleCloudMetadata},
		{"fd00:ec2::254", allowAll, RuleCloudMetadata},
		{"fd00:ec2::23", private, RuleCloudMetadata},
		{"::ffff:169.254.169.254", allowAll, RuleCloudMetadata},
		{"::ffff:a9fe:a9fe", strict, RuleCloudMetadata},
		{"64:ff9b::169.254.169.254", allowAll, RuleCloudMetadata},
		{"64:ff9b::a9fe:a9fe", private, RuleCloudMetadata},
		{"2002:a9fe:a9fe::1", allowAll, RuleCloudMetadata},
		{"::169.254.169.254", allowAll, RuleCloudMetadata},
		{"::ffff:0:169.254.169.254", allowAll, RuleCloudMetadata},
		{"64:ff9b::100.100.100.200", private, RuleCloudMetadata},

		// Unspecified, broadcast, multicast: never.
		{"0.0.0.0", strict, RuleUnspecified},
		{"0.1.2.3", strict, RuleUnspecified},
		{"::", strict, RuleUnspecified},
		{"::ffff:0.0.0.0", strict, RuleUnspecified},
		{"0.0.0.0", private, RuleUnspecified},
		{"0.0.0.0", allowAll, RuleUnspecified},
		{"::", allowAll, RuleUnspecified},
		{"255.255.255.255", allowAll, RuleBroadcast},
		{"224.0.0.1", strict, RuleMulticast},
		{"239.255.255.250", allowAll, RuleMulticast},
		{"ff02::1", strict, RuleMulticast},
		{"ff05::1:3", allowAll, RuleMulticast},

		// Documentation and benchmarking.
		{"192.0.2.1", strict, RuleDocumentation},
		{"198.51.100.7", strict, RuleDocumentation},
		{"203.0.113.200", strict, RuleDocumentation},
		{"2001:db8::1", strict, RuleDocumentation},
		{"3fff::1", strict, RuleDocumentation},
		{"192.0.2.1", private, RuleDocumentation},
		{"192.0.2.1", allowDocNet, ""},
		{"2001:db8::1", allowDocNet, ""},
		{"198.18.0.1", strict, RuleBenchmarking},
		{"198.19.255.255", strict, RuleBenchmarking},
		{"2001:2::1", strict, RuleBenchmarking},

		// Reserved.
		{"240.0.0.1", strict, RuleReserved},
		{"254.255.255.255", strict, RuleReserved},
		{"192.0.0.170", strict, RuleReserved},
		{"192.88.99.1", strict, RuleReserved},
		{"::8.8.8.8", strict, RuleReserved},
		{"::ffff:0:8.8.8.8", strict, RuleReserved},
		{"64:ff9b:1::1", strict, RuleReserved},
		{"100::1", strict, RuleReserved},
		{"2001::1", strict, RuleReserved},
		{"2001:10::1", strict, RuleReserved},
		{"4000::1", strict, RuleReserved},
		{"5f00::1", strict, RuleReserved},
		{"e000::1", strict, RuleReserved},
		{"240.0.0.1", allowAll, ""},
		{"4000::1", allowAll, ""},

		// A metadata address embedded in an allowed 6to4/NAT64 prefix is
		// still refused; a private one follows the policy.
		{"64:ff9b::10.0.0.1", Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96")}}, RulePrivate},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%03d_%s", i, tc.addr), func(t *testing.T) {
			t.Parallel()
			ip := netip.MustParseAddr(tc.addr)
			err := tc.policy.Check(ip)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want allowed", tc.addr, err)
				}
				return
			}
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("Check(%s) = %v, want *BlockedError %q", tc.addr, err, tc.rule)
			}
			if be.Rule != tc.rule {
				t.Fatalf("Check(%s) rule = %q, want %q", tc.addr, be.Rule, tc.rule)
			}
			if be.IP != ip {
				t.Fatalf("BlockedError.IP = %s, want %s", be.IP, ip)
			}
			if !errors.Is(err, ErrBlocked) {
				t.Fatalf("errors.Is(%v, ErrBlocked) = false", err)
			}
		})
	}
}

func TestCheckInvalid(t *testing.T) {
	t.Parallel()
	var be *BlockedError
	if err := (Policy{}).Check(netip.Addr{}); !errors.As(err, &be) || be.Rule != RuleInvalid {
		t.Fatalf("Check(zero Addr) = %v, want rule %q", err, RuleInvalid)
	}
	if err := allowAll.checkDial("unix", "/run/x.sock"); !errors.As(err, &be) || be.Rule != RuleInvalid {
		t.Fatalf("checkDial(unix) = %v, want rule %q", err, RuleInvalid)
	}
}

// TestMetadataNeverAllowed makes sure no combination of settings can open a
// metadata address, in any of its embedded forms.
func TestMetadataNeverAllowed(t *testing.T) {
	t.Parallel()
	open := Policy{AllowPrivateNetworks: true, AllowCIDRs: []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"),
		netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("169.254.169.254/32"),
		netip.MustParsePrefix("fd00:ec2::/32"), netip.MustParsePrefix("100.100.100.200/32"),
		netip.MustParsePrefix("168.63.129.16/32"), netip.MustParsePrefix("fe80::/10"),
	}}
	for ip := range metadataAddrs {
		forms := []netip.Addr{ip}
		if ip.Is4() {
			b := ip.As4()
			forms = append(forms,
				netip.AddrFrom16(ip.As16()), // ::ffff:a.b.c.d
				netip.AddrFrom16([16]byte{0x00, 0x64, 0xff, 0x9b, 12: b[0], 13: b[1], 14: b[2], 15: b[3]}),
				netip.AddrFrom16([16]byte{0x20, 0x02, b[0], b[1], b[2], b[3], 15: 1}),
				netip.AddrFrom16([16]byte{12: b[0], 13: b[1], 14: b[2], 15: b[3]}),
			)
		}
		for _, f := range forms {
			var be *BlockedError
			if err := open.Check(f); !errors.As(err, &be) || be.Rule != RuleCloudMetadata {
				t.Errorf("Check(%s) = %v, want cloud-metadata", f, err)
			}
		}
	}
}

func TestBlockedErrorMessage(t *testing.T) {
	t.Parallel()
	err := Policy{}.Check(netip.MustParseAddr("169.254.169.254"))
	want := `egress blocked: 169.254.169.254 (egress rule "cloud-metadata")`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}
