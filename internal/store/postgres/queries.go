package postgres

import (
	_ "embed"

	"github.com/keyway-dev/keyway/internal/store/sqlfile"
)

//go:embed queries.sql
var queriesSQL string

// queries holds every statement of queries.sql, one field per "-- name:"
// marker (checked at init by sqlfile.MustQueries).
type queries struct {
	MigrationsTableCreate string
	MigrationLock         string
	MigrationsTableExists string
	MigrationsApplied     string
	MigrationInsert       string
	MigrationDelete       string
	MetaGet               string
	MetaInsertIfAbsent    string
	ChangeVersionGet      string
	ChangeVersionBump     string
	ChangesListen         string
	BootstrapLock         string
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
	CredentialLock        string
	CredentialUsers       string
	CredentialDelete      string
	TargetInsert          string
	TargetGetByID         string
	TargetList            string
	TargetListAll         string
	TargetUpdate          string
	TargetLock            string
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

// mustQueries fills a struct of string fields from a queries file; see
// sqlfile.MustQueries for the rules.
func mustQueries[T any](file, src string) *T { return sqlfile.MustQueries[T]("postgres", file, src) }
