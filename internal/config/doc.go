// Package config is keyway's typed configuration: one [Config] struct, its
// defaults, and the layers it is loaded from, lowest precedence first:
//
//  1. built-in defaults ([Default]);
//  2. an optional YAML file (--config or KEYWAY_CONFIG); unknown keys are
//     an error naming the key, and secrets may not appear in it;
//  3. environment variables KEYWAY_*; each also has a KEYWAY_*_FILE form
//     whose file content (minus one final newline) is the value, for Docker
//     and Kubernetes secrets; setting both is an error;
//  4. command-line flags that were given explicitly.
//
// One exception to rule 3: KEYWAY_MASTER_KEY_FILE is not the *_FILE form of
// KEYWAY_MASTER_KEY but the path of the master key file (masterKeyFile),
// which the application reads or creates itself. The effect is the same —
// the key is taken from that file — but keyway, not this package, reads it.
//
// The package reads no process state: [Load] is handed the parsed flags and
// a lookup function for the environment, so tests and the CLI control every
// input. [Config.Validate] reports every problem at once in a
// [*ValidationError]. Secrets (the master key, bootstrap token and password,
// a database URL's password) are held in [Secret] values or redacted by
// [Config.Redacted], [Config.LogValue] and [Config.String], and never appear
// in validation messages.
//
// docs/configuration.md is the user-facing reference; a test keeps it in
// step with the settings table in this package.
package config
