package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Flags holds the configuration flags registered on a FlagSet. Only flags
// given on the command line override lower layers.
type Flags struct {
	configPath string
	values     map[string]*flagValue // by setting key
}

type flagValue struct {
	value string
	set   bool
}

func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.value
}

func (v *flagValue) Set(s string) error {
	v.value, v.set = s, true
	return nil
}

// Register defines --config and the configuration flags (--data-dir,
// --proxy-addr, --admin-addr, --database, --public-url, --admin-public-url,
// --master-key-file, --proxy-tls-cert, --proxy-tls-key, --admin-tls-cert,
// --admin-tls-key, --serve-regions, --log-level, --log-format) on fs. Parse
// fs, then pass the result to Load. fs must not already define these names.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{values: map[string]*flagValue{}}
	fs.StringVar(&f.configPath, "config", "", "`path` of a YAML configuration file (env "+EnvConfig+")")
	def := Default()
	for _, s := range settings {
		if s.flag == "" {
			continue
		}
		v := &flagValue{value: s.display(def)}
		f.values[s.key] = v
		fs.Var(v, s.flag, s.usage+" (env "+s.env+")")
	}
	return f
}

// ConfigPath is the --config value, if given.
func (f *Flags) ConfigPath() string {
	if f == nil {
		return ""
	}
	return f.configPath
}

// Load builds the configuration from defaults, the YAML file named by
// --config (or KEYWAY_CONFIG), the environment as seen through lookupEnv
// (os.LookupEnv in production; nil means an empty environment) and the
// flags given on the command line (f may be nil), then fills in derived
// defaults and validates the result.
//
// A file that cannot be read or parsed, or has unknown keys, is an error of
// its own. Everything else — values that do not parse, settings that are
// invalid together — is reported at once in a *ValidationError; in that
// case the partly applied Config is returned too, so that `keyway config
// check` can show it.
func Load(f *Flags, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	c := Default()
	c.origin = map[string]string{}
	if path := configPath(f, lookupEnv); path != "" {
		if err := c.loadFile(path); err != nil {
			return nil, err
		}
	}
	problems := c.applyEnv(lookupEnv, os.ReadFile)
	problems = append(problems, c.applyFlags(f)...)
	c.fillDerived()
	problems = append(problems, c.problems()...)
	if len(problems) > 0 {
		return c, &ValidationError{Problems: problems}
	}
	return c, nil
}

func configPath(f *Flags, lookupEnv func(string) (string, bool)) string {
	if p := f.ConfigPath(); p != "" {
		return p
	}
	p, _ := lookupNonEmpty(lookupEnv, EnvConfig)
	return p
}

func (c *Config) applyFlags(f *Flags) []string {
	if f == nil {
		return nil
	}
	var problems []string
	for _, s := range settings {
		v := f.values[s.key]
		if v == nil || !v.set {
			continue
		}
		if err := s.set(c, v.value); err != nil {
			problems = append(problems, fmt.Sprintf("--%s: %v", s.flag, err))
			continue
		}
		c.origin[s.key] = "--" + s.flag
	}
	return problems
}

// loadFile decodes the YAML file over c. Unknown keys and secrets are
// reported before anything is decoded.
func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config file: %w", err)
	}
	root, err := parseYAML(b)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if root == nil {
		return nil
	}
	if problems := checkKeys(root, reflect.TypeFor[Config](), ""); len(problems) > 0 {
		for i, p := range problems {
			problems[i] = "config file " + path + ": " + p
		}
		return &ValidationError{Problems: problems}
	}
	if err := root.Decode(c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// parseYAML returns the top-level mapping, or nil for an empty document.
func parseYAML(b []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("holds more than one YAML document")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	switch {
	case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		return nil, nil
	case root.Kind != yaml.MappingNode:
		return nil, errors.New("top level must be a mapping of keys to values")
	}
	return root, nil
}

var secretType = reflect.TypeFor[Secret]()

// checkKeys walks the YAML tree alongside the Go type and lists keys that
// match no field (with their full dotted path and line) and secrets, which
// belong in the environment. Type mismatches are left to Decode.
func checkKeys(n *yaml.Node, t reflect.Type, path string) []string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var problems []string
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // merge key: its mappings must fit this struct too
				problems = append(problems, checkMerge(v, t, path)...)
				continue
			}
			name := joinKey(path, k.Value)
			ft, ok := fields[k.Value]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("unknown key %q (line %d)", name, k.Line))
			case ft == secretType:
				problems = append(problems, fmt.Sprintf("%q may not be set in the config file (line %d); secrets come from the environment (%s)", name, k.Line, envName(name)))
			default:
				problems = append(problems, checkKeys(v, ft, name)...)
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, e := range n.Content {
			problems = append(problems, checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return problems
}

func checkMerge(v *yaml.Node, t reflect.Type, path string) []string {
	if v.Kind == yaml.SequenceNode {
		var problems []string
		for _, e := range v.Content {
			problems = append(problems, checkKeys(e, t, path)...)
		}
		return problems
	}
	return checkKeys(v, t, path)
}

// yamlFields maps YAML key to field type, as yaml.v3 names fields.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func envName(key string) string {
	if s, ok := settingByKey(key); ok {
		return s.env
	}
	return "KEYWAY_*"
}
