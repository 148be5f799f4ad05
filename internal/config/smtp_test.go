package config

import (
	"strings"
	"testing"
)

func TestSMTP(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, env{})
	if c.SMTP.Enabled() || c.SMTP.Port != DefaultSMTPPort {
		t.Fatalf("default smtp: %+v", c.SMTP)
	}
	c = mustLoad(t, nil, env{"KEYWAY_SMTP_HOST": "smtp.example.com", "KEYWAY_SMTP_FROM": "keyway <keyway@example.com>",
		"KEYWAY_SMTP_USERNAME": "kw", "KEYWAY_SMTP_PASSWORD": "smtp-secret", "KEYWAY_SMTP_PORT": "2525"})
	if !c.SMTP.Enabled() || c.SMTP.Port != 2525 || c.SMTP.Password.Reveal() != "smtp-secret" {
		t.Fatalf("smtp: %+v", c.SMTP)
	}
	if strings.Contains(string(c.RedactedYAML()), "smtp-secret") {
		t.Fatal("the SMTP password is shown by config check")
	}
	for _, tc := range []struct {
		env  env
		want string
	}{
		{env{"KEYWAY_SMTP_FROM": "a@example.com"}, "smtp.host: is required"},
		{env{"KEYWAY_SMTP_HOST": "smtp.example.com"}, "smtp.from"},
		{env{"KEYWAY_SMTP_HOST": "smtp.example.com", "KEYWAY_SMTP_FROM": "not an address"}, "smtp.from"},
		{env{"KEYWAY_SMTP_HOST": "bad host", "KEYWAY_SMTP_FROM": "a@example.com"}, "smtp.host"},
		{env{"KEYWAY_SMTP_HOST": "smtp.example.com", "KEYWAY_SMTP_FROM": "a@example.com", "KEYWAY_SMTP_PORT": "0"}, "smtp.port"},
		{env{"KEYWAY_SMTP_HOST": "smtp.example.com", "KEYWAY_SMTP_FROM": "a@example.com", "KEYWAY_SMTP_PASSWORD": "p"}, "needs smtp.username"},
	} {
		_, err := load(t, nil, tc.env)
		ps := problemsOf(t, err)
		if len(ps) != 1 || !strings.Contains(ps[0], tc.want) {
			t.Errorf("%v: problems %q, want one naming %q", tc.env, ps, tc.want)
		}
	}
	path := writeFile(t, "smtp.yaml", "smtp:\n  host: smtp.example.com\n  from: a@example.com\n  password: nope\n")
	_, err := load(t, []string{"--config", path}, env{})
	if ps := problemsOf(t, err); len(ps) != 1 || !strings.Contains(ps[0], "KEYWAY_SMTP_PASSWORD") {
		t.Errorf("password in the file: %q", ps)
	}
}
