package api

import (
	"net/http"

	"github.com/keyway-dev/keyway/internal/service"
)

func bindProxy(b *binder) service.ProxyParams {
	b.readOnly("proxyId", "proxyBaseURL", "proxyAsyncBaseURL", "proxyWebhookSecret", "proxyCreatedAt", "proxyUpdatedAt")
	return service.ProxyParams{
		Name:                       b.str("proxyName"),
		Active:                     b.boolean("proxyActive"),
		Region:                     b.str("proxyRegion"),
		ProxyCredentialID:          b.str("proxyProxyCredentialId"),
		TargetID:                   b.str("proxyTargetId"),
		TargetCredentialID:         b.str("proxyTargetCredentialId"),
		DefaultRuleEffect:          b.str("proxyDefaultRuleEffect"),
		MaxRequestsPerMinute:       b.integer("proxyMaxRequestsPerMinute"),
		MaxRequestsPerDay:          b.integer("proxyMaxRequestsPerDay"),
		AsyncMaxRetries:            b.integer("proxyAsyncMaxRetries"),
		AsyncRetryWindowSeconds:    b.integer("proxyAsyncRetryWindowSeconds"),
		AsyncAttemptTimeoutSeconds: b.integer("proxyAsyncAttemptTimeoutSeconds"),
		AsyncCallbackOrigins:       b.strings("proxyAsyncCallbackOrigins"),
		CorsOrigins:                b.strings("proxyCorsOrigins"),
		LogBodies:                  b.boolean("proxyLogBodies"),
	}
}

func (s *server) proxyList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ps, err := s.svc.ProxyList(r.Context(), actor(r), r.PathValue("clientId"), service.ProxyListQuery{
		Region: q.Get("region"), Active: q.Get("active"), Sort: q.Get("sort"), Order: q.Get("order"),
	})
	if err != nil {
		return err
	}
	return list(w, "proxies", mapSlice(ps, proxyView))
}

func (s *server) proxyGet(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.ProxyGet(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "proxy", proxyView(p))
}

func (s *server) proxyCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindProxy)
	if err != nil {
		return err
	}
	v, err := s.svc.ProxyCreate(r.Context(), actor(r), r.PathValue("clientId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusCreated, "proxy", proxyView(v))
}

func (s *server) proxyUpdate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindProxy)
	if err != nil {
		return err
	}
	v, err := s.svc.ProxyUpdate(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "proxy", proxyView(v))
}

func (s *server) proxyDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.ProxyDelete(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId")); err != nil {
		return err
	}
	return success(w)
}
