// Package service holds keyway's domain operations on clients, users, tokens,
// credentials, targets and proxies: input validation, permissions, sealing
// and hashing of secrets, and the derived fields. The Core API, the
// dashboard and the CLI all go through it, so a rule enforced here holds
// everywhere. It talks to the database only through the store port.
package service
