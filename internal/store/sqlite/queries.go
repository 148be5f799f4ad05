package sqlite

import (
	_ "embed"
	"fmt"
	"reflect"
	"strings"
)

//go:embed queries.sql
var queriesSQL string

// queries holds every statement of queries.sql, one field per "-- name:"
// marker. Fields are filled at init; a marker without a field, a field
// without a marker or a duplicate marker panics, so mistakes surface in the
// first test rather than at run time.
type queries struct {
	MigrationsTableCreate string
	MigrationsTableExists string
	MigrationsApplied     string
	MigrationInsert       string
	MigrationDelete       string
	MetaGet               string
	MetaInsertIfAbsent    string
	ChangeVersionGet      string
	ChangeVersionBump     string
	UsersExist            string
	ClientInsert          string
	ClientGetByID         string
	ClientList            string
	ClientListForUser     string
	ClientUpdate          string
	UserInsert            string
	UserGetByID           string
	UserGetByName         string
	UserList              string
	UserUpdate            string
	MembershipUpsert      string
	MembershipGet         string
	MembershipList        string
	MembershipDelete      string
	TokenInsert           string
	TokenGetByHash        string
	TokenListForUser      string
	TokenDelete           string
	TokenTouch            string
	CredentialInsert      string
	CredentialGetByID     string
	CredentialList        string
	CredentialListAll     string
	CredentialUpdate      string
	CredentialUsers       string
	CredentialDelete      string
	TargetInsert          string
	TargetGetByID         string
	TargetList            string
	TargetListAll         string
	TargetUpdate          string
	TargetUsers           string
	TargetDelete          string
	ProxyInsert           string
	ProxyGetByID          string
	ProxyList             string
	ProxyOrderCreatedAsc  string
	ProxyOrderCreatedDesc string
	ProxyOrderNameAsc     string
	ProxyOrderNameDesc    string
	ProxyListAll          string
	ProxyUpdate           string
	ProxyDelete           string
}

// q is the parsed queries.sql. Features added later keep their statements
// in their own file and struct (e.g. rules.sql with rulesQueries), loaded
// the same way with mustQueries, so parallel work does not collide.
var q = mustQueries[queries]("queries.sql", queriesSQL)

const nameMarker = "-- name:"

// parseQueries splits src at "-- name: X" markers. Comment-only lines are
// dropped, and each body is trimmed of whitespace and a final ';'.
func parseQueries(src string) (map[string]string, error) {
	out := make(map[string]string)
	var name string
	var body strings.Builder
	flush := func() error {
		if name == "" {
			return nil
		}
		text := strings.TrimSuffix(strings.TrimSpace(body.String()), ";")
		if strings.TrimSpace(text) == "" {
			return fmt.Errorf("query %q is empty", name)
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("query %q is defined twice", name)
		}
		out[name] = text
		body.Reset()
		return nil
	}
	for line := range strings.Lines(src) {
		trimmed := strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(trimmed, nameMarker); ok {
			if err := flush(); err != nil {
				return nil, err
			}
			name = strings.TrimSpace(rest)
			if name == "" {
				return nil, fmt.Errorf("%q marker without a name", nameMarker)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("statement before the first %q marker: %q", nameMarker, trimmed)
		}
		body.WriteString(line)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// mustQueries parses src (named file for messages) and fills a struct of
// string fields, panicking on any mismatch between markers and fields.
func mustQueries[T any](file, src string) *T {
	parsed, err := parseQueries(src)
	if err != nil {
		panic("sqlite: " + file + ": " + err.Error())
	}
	var qs T
	v := reflect.ValueOf(&qs).Elem()
	for i := range v.NumField() {
		field := v.Type().Field(i).Name
		text, ok := parsed[field]
		if !ok {
			panic("sqlite: " + file + ": missing query " + field)
		}
		v.Field(i).SetString(text)
		delete(parsed, field)
	}
	for name := range parsed {
		panic("sqlite: " + file + ": query " + name + " has no field in its struct")
	}
	return &qs
}
