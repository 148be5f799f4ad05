// Package api is keyway's Core API (SPEC §7): JSON over HTTP on the admin
// listener, under /api and, for /clients, /users and /regions, also without
// the prefix. Every route is declared once in a table that both the router
// and the OpenAPI 3.1 document (/api/openapi.json) are built from. Handlers
// return errors; one function maps them to a status and a JSON body, and
// internal causes are logged, never answered.
package api
