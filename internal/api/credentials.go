package api

import (
	"net/http"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/service"
)

func bindCredential(b *binder) service.CredentialParams {
	b.readOnly("credentialId", "credentialTemporary", "credentialCreatedAt", "credentialUpdatedAt", "credentialPreviousSecretValidUntil", "generatedSecret", "authorizationURL")
	return service.CredentialParams{
		Name:              b.str("credentialName"),
		Type:              b.str("credentialType"),
		AuthType:          b.str("credentialAuthType"),
		Region:            b.str("credentialRegion"),
		DefaultRuleEffect: b.str("credentialDefaultRuleEffect"),
		ExpiresAt:         b.time("credentialExpiresAt"),
		Secret:            b.object("credentialSecret"),
		Config:            b.object("credentialConfig"),
	}
}

func (s *server) credentialList(w http.ResponseWriter, r *http.Request) error {
	inclTemp, err := queryBool(r, "includeTemporary")
	if err != nil {
		return err
	}
	cs, err := s.svc.CredentialList(r.Context(), actor(r), r.PathValue("clientId"), inclTemp)
	if err != nil {
		return err
	}
	return list(w, "credentials", mapSlice(cs, credentialView))
}

func (s *server) credentialGet(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.CredentialGet(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("credentialId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "credential", credentialView(c))
}

func (s *server) credentialCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindCredential)
	if err != nil {
		return err
	}
	res, err := s.svc.CredentialCreate(r.Context(), actor(r), r.PathValue("clientId"), p)
	if err != nil {
		return err
	}
	return credentialResult(w, http.StatusCreated, res)
}

// credentialResult answers a create or rotate: a generated key appears at
// the top level and inside the credential, this once.
func credentialResult(w http.ResponseWriter, status int, res service.CredentialResult) error {
	v := credentialView(res.Credential)
	body := map[string]any{"credential": &v, "message": "Success"}
	if res.GeneratedSecret != "" {
		v.GeneratedSecret = res.GeneratedSecret
		body["generatedSecret"] = res.GeneratedSecret
	}
	if res.AuthorizationURL != "" {
		body["authorizationURL"] = res.AuthorizationURL
	}
	writeJSON(w, status, body)
	return nil
}

func (s *server) credentialUpdate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindCredential)
	if err != nil {
		return err
	}
	c, err := s.svc.CredentialUpdate(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("credentialId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "credential", credentialView(c))
}

func (s *server) credentialDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.CredentialDelete(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("credentialId")); err != nil {
		return err
	}
	return success(w)
}

func (s *server) credentialRotate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, func(b *binder) service.RotateParams {
		return service.RotateParams{Secret: b.object("credentialSecret"), GracePeriodSeconds: b.integer("gracePeriodSeconds")}
	})
	if err != nil {
		return err
	}
	res, err := s.svc.CredentialRotate(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("credentialId"), p)
	if err != nil {
		return err
	}
	return credentialResult(w, http.StatusOK, res)
}

// queryBool reads an optional true/false query parameter.
func queryBool(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, service.Invalid(credential.FieldError{Field: name, Message: `must be "true" or "false"`})
}
