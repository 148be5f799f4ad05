package service_test

import (
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/service"
)

// TestCallbackOriginsPassTheEgressCheck: a callback origin whose host is a
// literal IP address in a blocked range is refused when saved, with a 400
// naming the field and the egress rule (SPEC §2); CORS origins are never
// called and are not checked.
func TestCallbackOriginsPassTheEgressCheck(t *testing.T) {
	t.Parallel()
	f, _ := flowFixtureWith(t, egress.Policy{AllowPrivateNetworks: true})
	px := f.mkProxy(t).proxy
	for origin, rule := range map[string]string{
		"http://169.254.169.254":    "cloud-metadata",
		"https://[fd00:ec2::254]":   "cloud-metadata",
		"http://169.254.1.1:8080":   "link-local",
		"http://0.0.0.0":            "unspecified",
		"https://hooks.example.com": "",
		"http://127.0.0.1:9000":     "", // private networks are allowed here
	} {
		_, err := f.svc.ProxyUpdate(t.Context(), f.admin, "default", px, service.ProxyParams{
			AsyncCallbackOrigins: service.Some([]string{"https://ok.example.com", origin}),
			CorsOrigins:          service.Some([]string{origin})})
		if rule == "" {
			if err != nil {
				t.Errorf("%s refused: %v", origin, err)
			}
			continue
		}
		wantField(t, err, "proxyAsyncCallbackOrigins[1]")
		if se := err.(*service.Error); len(se.Fields) != 1 || !strings.Contains(se.Fields[0].Message, `"`+rule+`"`) {
			t.Errorf("%s: %+v does not name the rule %s", origin, se.Fields, rule)
		}
	}
	strict, _ := flowFixtureWith(t, egress.Policy{})
	_, err := strict.svc.ProxyUpdate(t.Context(), strict.admin, "default", strict.mkProxy(t).proxy, service.ProxyParams{
		AsyncCallbackOrigins: service.Some([]string{"http://127.0.0.1:9000"})})
	wantField(t, err, "proxyAsyncCallbackOrigins[0]")
}
