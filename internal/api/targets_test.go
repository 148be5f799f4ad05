package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func testCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ca := testCA(t)
	r := e.must(201, "POST", targetPath, map[string]any{"targetName": "Stripe", "targetBaseURL": "HTTPS://api.stripe.com/v1/",
		"targetRegion": "local", "targetHeaders": map[string]any{"x-tenant": "acme"},
		"targetTLS": map[string]any{"caPEM": ca, "serverName": "api.stripe.com"}})
	tg := r.obj("target")
	if tg["targetBaseURL"] != "https://api.stripe.com/v1" || tg["targetTestPath"] != "/" || tg["targetTimeoutSeconds"] != 30.0 ||
		tg["targetIdleTimeoutSeconds"] != 60.0 || tg["targetMaxResponseBytes"] != 6291456.0 || tg["targetDefaultRuleEffect"] != "allow" ||
		tg["targetHeaders"].(map[string]any)["X-Tenant"] != "acme" || tg["targetTLS"].(map[string]any)["serverName"] != "api.stripe.com" {
		t.Fatalf("create: %s", r.raw)
	}
	id := tg["targetId"].(string)

	bad := []struct {
		name  string
		body  map[string]any
		field string
		msg   string
	}{
		{"missing", map[string]any{"targetRegion": "local"}, "targetName", "required"},
		{"missing url", map[string]any{"targetName": "x", "targetRegion": "local"}, "targetBaseURL", "required"},
		{"relative", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "/v1"}, "targetBaseURL", "absolute"},
		{"ftp", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "ftp://h/"}, "targetBaseURL", "http"},
		{"userinfo", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://u:p@h/"}, "targetBaseURL", "user information"},
		{"query", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h/?a=1"}, "targetBaseURL", "query"},
		{"fragment", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h/#x"}, "targetBaseURL", "fragment"},
		{"metadata ip", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "http://169.254.169.254/latest"}, "targetBaseURL", "cloud-metadata"},
		{"loopback", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "http://127.0.0.1:9000"}, "targetBaseURL", "loopback"},
		{"test path", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetTestPath": "health"}, "targetTestPath", "must start with"},
		{"timeout", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetTimeoutSeconds": 0}, "targetTimeoutSeconds", "between 1 and 600"},
		{"idle", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetIdleTimeoutSeconds": 3601}, "targetIdleTimeoutSeconds", "between"},
		{"max bytes", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetMaxResponseBytes": -1}, "targetMaxResponseBytes", "between"},
		{"float", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetTimeoutSeconds": 1.5}, "targetTimeoutSeconds", "integer"},
		{"host header", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetHeaders": map[string]any{"Host": "evil"}}, "targetHeaders.Host", "cannot be set"},
		{"hop header", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetHeaders": map[string]any{"connection": "close"}}, "targetHeaders.connection", "cannot be set"},
		{"header value", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetHeaders": map[string]any{"X-A": "a\nb"}}, "targetHeaders.X-A", "control"},
		{"bad pem", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetTLS": map[string]any{"caPEM": "nope"}}, "targetTLS.caPEM", "PEM"},
		{"tls unknown", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetTLS": map[string]any{"insecure": true}}, "targetTLS.insecure", "not a known field"},
		{"region", map[string]any{"targetName": "x", "targetRegion": "mars", "targetBaseURL": "https://h"}, "targetRegion", "unknown region"},
		{"effect", map[string]any{"targetName": "x", "targetRegion": "local", "targetBaseURL": "https://h", "targetDefaultRuleEffect": "block"}, "targetDefaultRuleEffect", "allow"},
	}
	for _, b := range bad {
		r := e.do("POST", targetPath, adminToken, b.body)
		if r.status != 400 || !r.hasField(b.field) || !strings.Contains(r.raw, b.msg) {
			t.Errorf("%s: %d %s", b.name, r.status, r.raw)
		}
	}

	u := e.must(200, "PUT", targetPath+"/"+id, map[string]any{"targetTestPath": "/health", "targetMaxResponseBytes": 0,
		"targetHeaders": nil, "targetTLS": nil, "targetRegion": "local"})
	ut := u.obj("target")
	if ut["targetTestPath"] != "/health" || ut["targetMaxResponseBytes"] != 0.0 || len(ut["targetHeaders"].(map[string]any)) != 0 ||
		ut["targetName"] != "Stripe" || ut["targetBaseURL"] != "https://api.stripe.com/v1" {
		t.Errorf("update: %s", u.raw)
	}
	if r := e.do("PUT", targetPath+"/"+id, adminToken, map[string]any{"targetRegion": "eu"}); r.status != 400 || !r.hasField("targetRegion") {
		t.Errorf("immutable region: %s", r.raw)
	}
	if r := e.do("PUT", targetPath+"/"+id, adminToken, map[string]any{"targetName": nil}); r.status != 400 || !r.hasField("targetName") {
		t.Errorf("null name: %s", r.raw)
	}
	if l := e.must(200, "GET", targetPath, nil); len(l.items("targets")) != 1 {
		t.Errorf("list: %s", l.raw)
	}
	e.must(200, "DELETE", targetPath+"/"+id, nil)
	e.must(404, "GET", targetPath+"/"+id, nil)
}

func TestTargetTest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	pc, tc, tg := e.fixture("local", "a")
	_, tcEU, _ := e.fixture("eu", "b")
	r := e.must(200, "POST", targetPath+"/"+tg+"/test", map[string]any{"credentialId": tc})
	tr := r.obj("test")
	if tr["status"] != 200.0 || tr["latencyMs"] != 12.5 || tr["code"] != "proxy-access-granted" || tr["message"] != "OK" {
		t.Errorf("test: %s", r.raw)
	}
	if len(e.tester.calls) != 1 || e.tester.calls[0] != tg+"/"+tc {
		t.Errorf("tester calls: %v", e.tester.calls)
	}
	for name, body := range map[string]map[string]any{
		"proxy credential": {"credentialId": pc},
		"other region":     {"credentialId": tcEU},
		"missing":          {},
		"unknown":          {"credentialId": "cred_nope"},
	} {
		if r := e.do("POST", targetPath+"/"+tg+"/test", adminToken, body); r.status != 400 || !r.hasField("credentialId") {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	e.must(404, "POST", targetPath+"/tgt_nope/test", map[string]any{"credentialId": tc})

	noTester := newEnv(t, false)
	_, tc2, tg2 := noTester.fixture("local", "a")
	if r := noTester.do("POST", targetPath+"/"+tg2+"/test", adminToken, map[string]any{"credentialId": tc2}); r.status != 503 {
		t.Errorf("no tester: %d %s", r.status, r.raw)
	}
}
