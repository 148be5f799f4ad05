package service

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/store"
)

// proxySecretField is the input field holding the secret of each proxy
// auth type: what is hashed, so it cannot be merged from stored settings.
var proxySecretField = map[string]string{
	credential.APIKey:    "key",
	credential.Bearer:    "token",
	credential.JWT:       "token",
	credential.BasicAuth: "password",
	credential.JWTVerify: "sharedSecret",
}

// derivedConfig are config keys computed by Parse, never given as input.
var derivedConfig = []string{"headerNames", "queryNames"}

// mergeInput joins credentialSecret and credentialConfig into one input;
// a key given in both with different values is an error. It returns nil
// when neither was given.
func mergeInput(fe *FieldErrors, secret, config credential.Input) credential.Input {
	if secret == nil && config == nil {
		return nil
	}
	out := credential.Input{}
	maps.Copy(out, secret)
	for k, v := range config {
		if prev, ok := out[k]; ok && !jsonEqual(prev, v) {
			fe.Add("credentialConfig."+k, "conflicts with credentialSecret."+k)
			continue
		}
		out[k] = v
	}
	return out
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return reflect.DeepEqual(x, y)
}

// overlay returns base with the fields of in written over it. Giving "in"
// (apiKey placement) drops the stored header and parameter names, which
// were derived from the old placement, unless they are given too.
func overlay(base, in credential.Input) credential.Input {
	out := credential.Input{}
	maps.Copy(out, base)
	if _, ok := in["in"]; ok {
		delete(out, "headerName")
		delete(out, "paramName")
	}
	maps.Copy(out, in)
	return out
}

// currentInput rebuilds a credential's input from its stored config and,
// when it has one, its sealed secret.
func (s *Service) currentInput(c store.Credential) (credential.Input, error) {
	in := credential.Input{}
	if len(c.Config) > 0 {
		if err := json.Unmarshal(c.Config, &in); err != nil {
			return nil, fmt.Errorf("decoding stored credential config: %w", err)
		}
	}
	for _, k := range derivedConfig {
		delete(in, k)
	}
	if len(c.SecretSealed) == 0 {
		return in, nil
	}
	plain, err := s.keys.Open(c.SecretSealed, credentialAAD(c.ID))
	if err != nil {
		return nil, fmt.Errorf("opening credential secret: %w", err)
	}
	var sec credential.Input
	if err := json.Unmarshal(plain, &sec); err != nil {
		return nil, fmt.Errorf("decoding credential secret: %w", err)
	}
	delete(sec, "previousSharedSecret") // kept by rotation only, never input
	maps.Copy(in, sec)
	return in, nil
}

// reparse applies an update's credentialSecret/credentialConfig to c.
func (s *Service) reparse(c *store.Credential, in credential.Input) error {
	base, err := s.currentInput(*c)
	if err != nil {
		return err
	}
	if c.Type == store.CredentialTarget || c.AuthType == credential.JWTVerify {
		// the secret is sealed, so the whole input can be parsed again; a
		// jwtVerify update ends any rotation grace period
		parsed, perrs := credential.Parse(c.Type, c.AuthType, overlay(base, in), generateKey)
		if len(perrs) > 0 {
			return Invalid(perrs...)
		}
		if c.AuthType == credential.JWTVerify {
			c.PrevSecretHash, c.PrevSecretUntil = nil, nil
		}
		return s.applySecret(c, parsed)
	}
	field := proxySecretField[c.AuthType]
	if raw, ok := in[field]; ok && string(raw) != "null" {
		// A new proxy secret replaces the old hash (and any grace period).
		parsed, perrs := credential.Parse(c.Type, c.AuthType, overlay(base, in), generateKey)
		if len(perrs) > 0 {
			return Invalid(perrs...)
		}
		c.PrevSecretHash, c.PrevSecretUntil = nil, nil
		return s.applySecret(c, parsed)
	}
	if c.AuthType == credential.BasicAuth {
		if raw, ok := in["username"]; ok && !jsonEqual(raw, base["username"]) {
			return Invalid(credential.FieldError{Field: "credentialSecret.password",
				Message: "is required to change the username of a proxy credential"})
		}
	}
	// Only readable settings change: validate them with a stand-in secret
	// and keep the stored hash.
	probe := overlay(base, in)
	if field != "" {
		probe[field] = json.RawMessage(`"stand-in-secret-value"`)
	}
	parsed, perrs := credential.Parse(c.Type, c.AuthType, probe, generateKey)
	if len(perrs) > 0 {
		return Invalid(perrs...)
	}
	if err := s.checkURLs(parsed.Config); err != nil {
		return err
	}
	cfg, err := json.Marshal(parsed.Config)
	if err != nil {
		return fmt.Errorf("encoding credential config: %w", err)
	}
	c.Config = cfg
	return nil
}
