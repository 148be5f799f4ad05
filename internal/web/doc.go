// Package web is keyway's dashboard: server-rendered pages (html/template
// with a layout and partials, embedded with go:embed) plus a little plain
// JavaScript and CSS written for keyway, served by the admin listener.
//
// Handlers call internal/service directly, the same domain operations the
// Core API uses, so permissions are enforced in one place. Sessions are
// signed cookies that expire and end when the user's password changes;
// every unsafe method needs a CSRF token; responses carry a strict CSP.
//
// Pages are grouped per feature, each feature listing its routes in its
// own file (proxyRoutes, credentialRoutes, …) and its navigation entry in
// nav; table joins them, like the Core API's route table.
package web
