package config

import (
	"fmt"
	"net/mail"
	"net/netip"
)

// DefaultSMTPPort is the submission port (STARTTLS).
const DefaultSMTPPort = 587

// SMTP is the smtp section: where invite emails are sent from. Email is
// off while Host is empty; invites then show their link to the inviter
// only.
type SMTP struct {
	// Host is the mail server's name; empty turns email off.
	Host string `yaml:"host"`
	// Port is the submission port (default 587).
	Port int `yaml:"port"`
	// Username and Password log in with SMTP AUTH PLAIN (only after
	// STARTTLS, or to a server on loopback).
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// From is the sender address, e.g. "keyway <keyway@example.com>".
	From string `yaml:"from"`
}

// Enabled reports whether invite emails are sent.
func (s SMTP) Enabled() bool { return s.Host != "" }

// smtpSettings are the smtp section's keys and environment variables.
var smtpSettings = []setting{
	{key: "smtp.host", env: "KEYWAY_SMTP_HOST", field: func(c *Config) any { return &c.SMTP.Host }},
	{key: "smtp.port", env: "KEYWAY_SMTP_PORT", field: func(c *Config) any { return &c.SMTP.Port }},
	{key: "smtp.username", env: "KEYWAY_SMTP_USERNAME", field: func(c *Config) any { return &c.SMTP.Username }},
	{key: "smtp.password", env: "KEYWAY_SMTP_PASSWORD", field: func(c *Config) any { return &c.SMTP.Password }},
	{key: "smtp.from", env: "KEYWAY_SMTP_FROM", field: func(c *Config) any { return &c.SMTP.From }},
}

func init() { settings = append(settings, smtpSettings...) }

// smtp checks the smtp section when email is on.
func (v *validator) smtp() {
	s := v.c.SMTP
	if !s.Enabled() {
		if s.Username != "" || s.Password != "" || s.From != "" {
			v.add("smtp.host", "is required when other smtp settings are given (empty turns invite emails off)")
		}
		return
	}
	if _, err := netip.ParseAddr(s.Host); err != nil && !isHostname(s.Host) {
		v.add("smtp.host", fmt.Sprintf("%q is not a hostname or IP address", s.Host))
	}
	v.check("smtp.port", s.Port > 0 && s.Port <= 65535, "must be a port number from 1 to 65535")
	if a, err := mail.ParseAddress(s.From); err != nil || a.Address == "" {
		v.add("smtp.from", `must be a sender address such as "keyway <keyway@example.com>"`)
	}
	v.check("smtp.password", s.Password == "" || s.Username != "", "needs smtp.username")
}
