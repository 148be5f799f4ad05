package api

import (
	"net/http"

	"github.com/keyway-dev/keyway/internal/service"
)

func (s *server) regionList(w http.ResponseWriter, _ *http.Request) error {
	return list(w, "regions", mapSlice(s.svc.Regions(), regionView))
}

func (s *server) clientList(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.svc.ClientList(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return list(w, "clients", mapSlice(cs, clientView))
}

func (s *server) clientGet(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.ClientGet(r.Context(), actor(r), r.PathValue("clientId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "client", clientView(c))
}

func (s *server) me(w http.ResponseWriter, r *http.Request) error {
	u, err := s.svc.Me(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "user", userView(u))
}

func (s *server) tokenList(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.svc.TokenList(r.Context(), actor(r), r.PathValue("userId"))
	if err != nil {
		return err
	}
	return list(w, "tokens", mapSlice(ts, tokenView))
}

func (s *server) tokenCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, func(b *binder) service.TokenParams {
		return service.TokenParams{Name: b.str("tokenName"), ExpiresAt: b.time("tokenExpiresAt")}
	})
	if err != nil {
		return err
	}
	tc, err := s.svc.TokenCreate(r.Context(), actor(r), r.PathValue("userId"), p)
	if err != nil {
		return err
	}
	v := tokenView(tc.Token)
	v.Token = tc.Value
	return one(w, http.StatusCreated, "token", v)
}

func (s *server) tokenDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.TokenDelete(r.Context(), actor(r), r.PathValue("userId"), r.PathValue("tokenId")); err != nil {
		return err
	}
	return success(w)
}
