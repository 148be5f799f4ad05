package api

import (
	"net/http"
	"strings"
)

// route is one Core API operation: the router and the OpenAPI document are
// both built from the table of these.
type route struct {
	method string
	// path is the pattern under /api, e.g. "/clients/{clientId}/proxies".
	path    string
	handler handlerFunc
	summary string
	tag     string
	// public routes need no user token.
	public bool
	// status is the success status (200 unless set).
	status int
	// request names the body's component schema ("" for none).
	request string
	// response names the success answer's component schema.
	response string
	query    []queryParam
}

// queryParam documents a query parameter.
type queryParam struct {
	name, typ, desc string
	enum            []string
}

// aliasPrefixes are the paths that also answer without /api (SPEC §7).
var aliasPrefixes = []string{"/clients/", "/users/", "/invites/", "/regions", "/notifications/"}

// patterns are the mux paths of the route: /api/… and, for aliased
// resources, the same path without the prefix.
func (rt route) patterns() []string {
	out := []string{"/api" + rt.path}
	for _, p := range aliasPrefixes {
		if strings.HasPrefix(rt.path, p) || rt.path == strings.TrimSuffix(p, "/") {
			out = append(out, rt.path)
			break
		}
	}
	return out
}

func (rt route) successStatus() int {
	if rt.status == 0 {
		return http.StatusOK
	}
	return rt.status
}

const (
	cPath   = "/clients/{clientId}"
	get     = http.MethodGet
	post    = http.MethodPost
	put     = http.MethodPut
	del     = http.MethodDelete
	created = http.StatusCreated
)

// table is every route: each feature keeps its routes in its own file and
// adds its list here.
func (s *server) table() []route {
	return concat(
		s.coreRoutes(),
		s.teamsRoutes(),
		s.monitoringRoutes(),
		s.notificationRoutes(),
		s.asyncRoutes(),
		s.policyRoutes(),
	)
}

func concat(lists ...[]route) []route {
	var out []route
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// coreRoutes are regions, clients, users, credentials, targets and proxies.
func (s *server) coreRoutes() []route {
	return []route{
		{method: get, path: "/openapi.json", handler: s.openAPIDoc, summary: "OpenAPI 3.1 document of this API", tag: "meta", public: true, response: "OpenAPIDocument"},
		{method: get, path: "/regions", handler: s.regionList, summary: "List regions", tag: "regions", response: "RegionList"},

		{method: get, path: "/clients", handler: s.clientList, summary: "List clients (members: theirs; instance admins: all)", tag: "clients", response: "ClientList"},
		{method: get, path: cPath, handler: s.clientGet, summary: "Get a client", tag: "clients", response: "ClientEnvelope"},

		{method: get, path: "/users/me", handler: s.me, summary: "The authenticated user and their clients", tag: "users", response: "UserEnvelope"},
		{method: get, path: "/users/{userId}/tokens", handler: s.tokenList, summary: "List a user's tokens", tag: "users", response: "TokenList"},
		{method: post, path: "/users/{userId}/tokens", handler: s.tokenCreate, summary: "Create a user token (answered once)", tag: "users", status: created, request: "TokenInput", response: "TokenEnvelope"},
		{method: del, path: "/users/{userId}/tokens/{tokenId}", handler: s.tokenDelete, summary: "Revoke a user token", tag: "users", response: "Success"},

		{method: get, path: cPath + "/credentials", handler: s.credentialList, summary: "List credentials", tag: "credentials", response: "CredentialList",
			query: []queryParam{{name: "includeTemporary", typ: "boolean", desc: "include temporary credentials (OAuth2 authorizations in progress)"}}},
		{method: post, path: cPath + "/credentials", handler: s.credentialCreate, summary: "Create a credential", tag: "credentials", status: created, request: "CredentialInput", response: "CredentialCreated"},
		{method: get, path: cPath + "/credentials/{credentialId}", handler: s.credentialGet, summary: "Get a credential (never its secret)", tag: "credentials", response: "CredentialEnvelope"},
		{method: put, path: cPath + "/credentials/{credentialId}", handler: s.credentialUpdate, summary: "Update the given fields of a credential", tag: "credentials", request: "CredentialUpdate", response: "CredentialEnvelope"},
		{method: del, path: cPath + "/credentials/{credentialId}", handler: s.credentialDelete, summary: "Delete a credential no proxy uses", tag: "credentials", response: "Success"},
		{method: post, path: cPath + "/credentials/{credentialId}/rotate", handler: s.credentialRotate, summary: "Rotate a credential's secret", tag: "credentials", request: "CredentialRotate", response: "CredentialCreated"},

		{method: get, path: cPath + "/targets", handler: s.targetList, summary: "List targets", tag: "targets", response: "TargetList"},
		{method: post, path: cPath + "/targets", handler: s.targetCreate, summary: "Create a target", tag: "targets", status: created, request: "TargetInput", response: "TargetEnvelope"},
		{method: get, path: cPath + "/targets/{targetId}", handler: s.targetGet, summary: "Get a target", tag: "targets", response: "TargetEnvelope"},
		{method: put, path: cPath + "/targets/{targetId}", handler: s.targetUpdate, summary: "Update the given fields of a target", tag: "targets", request: "TargetUpdate", response: "TargetEnvelope"},
		{method: del, path: cPath + "/targets/{targetId}", handler: s.targetDelete, summary: "Delete a target no proxy uses", tag: "targets", response: "Success"},
		{method: post, path: cPath + "/targets/{targetId}/test", handler: s.targetTest, summary: "Test the connection to a target with a target credential", tag: "targets", request: "TargetTestInput", response: "TargetTestEnvelope"},

		{method: get, path: cPath + "/proxies", handler: s.proxyList, summary: "List proxies", tag: "proxies", response: "ProxyList",
			query: []queryParam{
				{name: "region", typ: "string", desc: "only proxies in this region"},
				{name: "active", typ: "boolean", desc: "only active (true) or inactive (false) proxies"},
				{name: "sort", typ: "string", desc: "sort key (default createdAt)", enum: []string{"name", "createdAt"}},
				{name: "order", typ: "string", desc: "sort order (default asc)", enum: []string{"asc", "desc"}},
			}},
		{method: post, path: cPath + "/proxies", handler: s.proxyCreate, summary: "Create a proxy", tag: "proxies", status: created, request: "ProxyInput", response: "ProxyEnvelope"},
		{method: get, path: cPath + "/proxies/{proxyId}", handler: s.proxyGet, summary: "Get a proxy", tag: "proxies", response: "ProxyEnvelope"},
		{method: put, path: cPath + "/proxies/{proxyId}", handler: s.proxyUpdate, summary: "Update the given fields of a proxy", tag: "proxies", request: "ProxyUpdate", response: "ProxyEnvelope"},
		{method: del, path: cPath + "/proxies/{proxyId}", handler: s.proxyDelete, summary: "Delete a proxy with its rules, filters and meters", tag: "proxies", response: "Success"},
	}
}

func (s *server) openAPIDoc(w http.ResponseWriter, _ *http.Request) error {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(s.doc) // a failed write means the caller left
	return nil
}
