package api

import (
	"net/http"

	"github.com/keyway-dev/keyway/internal/service"
)

func bindTarget(b *binder) service.TargetParams {
	b.readOnly("targetId", "targetCreatedAt", "targetUpdatedAt")
	return service.TargetParams{
		Name:               b.str("targetName"),
		BaseURL:            b.str("targetBaseURL"),
		TestPath:           b.str("targetTestPath"),
		Region:             b.str("targetRegion"),
		DefaultRuleEffect:  b.str("targetDefaultRuleEffect"),
		TimeoutSeconds:     b.integer("targetTimeoutSeconds"),
		IdleTimeoutSeconds: b.integer("targetIdleTimeoutSeconds"),
		MaxResponseBytes:   b.integer("targetMaxResponseBytes"),
		Headers:            b.strMap("targetHeaders"),
		TLS:                b.tls("targetTLS"),
	}
}

func (s *server) targetList(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.svc.TargetList(r.Context(), actor(r), r.PathValue("clientId"))
	if err != nil {
		return err
	}
	return list(w, "targets", mapSlice(ts, targetView))
}

func (s *server) targetGet(w http.ResponseWriter, r *http.Request) error {
	t, err := s.svc.TargetGet(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("targetId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "target", targetView(t))
}

func (s *server) targetCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindTarget)
	if err != nil {
		return err
	}
	t, err := s.svc.TargetCreate(r.Context(), actor(r), r.PathValue("clientId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusCreated, "target", targetView(t))
}

func (s *server) targetUpdate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindTarget)
	if err != nil {
		return err
	}
	t, err := s.svc.TargetUpdate(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("targetId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "target", targetView(t))
}

func (s *server) targetDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.TargetDelete(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("targetId")); err != nil {
		return err
	}
	return success(w)
}

func (s *server) targetTest(w http.ResponseWriter, r *http.Request) error {
	credID, err := decode(w, r, func(b *binder) string { return b.str("credentialId").Value })
	if err != nil {
		return err
	}
	res, err := s.svc.TargetTest(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("targetId"), credID)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "test", testJSON{Status: res.Status, LatencyMs: res.LatencyMs, Code: res.Code, Message: res.Message})
}
