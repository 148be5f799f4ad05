// Package idptest runs real identity-provider endpoints in-process for
// tests: an OAuth2 authorization server built on github.com/go-oauth2/oauth2
// (client credentials, authorization code with PKCE, refresh tokens) and a
// JWKS endpoint serving keys made with go-jose, each counting its hits.
// Only tests import it.
package idptest
