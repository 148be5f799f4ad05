package api

import (
	"net/http"

	"github.com/keyway-dev/keyway/internal/service"
)

// teamsRoutes are client management, members, invites, users and the
// audit logs.
func (s *server) teamsRoutes() []route {
	auditQuery := []queryParam{
		{name: "resourceType", typ: "string", desc: "only entries about this kind of resource (credential, target, proxy, member, invite, client, user, token, …)"},
		{name: "resourceId", typ: "string", desc: "only entries about this resource"},
		{name: "actor", typ: "string", desc: "only changes made by this user id"},
		{name: "from", typ: "string", desc: "only entries at or after this RFC 3339 time"},
		{name: "to", typ: "string", desc: "only entries before this RFC 3339 time"},
		{name: "limit", typ: "integer", desc: "entries per page, 1–1000 (default 100)"},
		{name: "cursor", typ: "string", desc: "nextCursor of the previous page"},
	}
	return []route{
		{method: post, path: "/clients", handler: s.clientCreate, summary: "Create a client (instance administrators; the creator becomes its owner)", tag: "clients", status: created, request: "ClientInput", response: "ClientEnvelope"},
		{method: put, path: cPath, handler: s.clientRename, summary: "Rename a client (owners)", tag: "clients", request: "ClientInput", response: "ClientEnvelope"},
		{method: del, path: cPath, handler: s.clientDelete, summary: "Delete a client that owns no credentials, targets or proxies (owners)", tag: "clients", response: "Success"},
		{method: get, path: cPath + "/audit", handler: s.auditList, summary: "Read the client's audit log, newest first (owners and admins)", tag: "audit", response: "AuditList", query: auditQuery},
		{method: get, path: "/audit", handler: s.instanceAuditList, summary: "Read the instance audit log: users, clients created and deleted (instance administrators)", tag: "audit", response: "AuditList", query: auditQuery},

		{method: get, path: cPath + "/members", handler: s.memberList, summary: "List the client's members (every member)", tag: "members", response: "MemberList"},
		{method: post, path: cPath + "/members", handler: s.memberSet, summary: "Add a member, or set a member's roles (200 then) (owners and admins; owners for the owner role)", tag: "members", status: created, request: "MemberInput", response: "MemberEnvelope"},
		{method: get, path: cPath + "/members/{userId}", handler: s.memberGet, summary: "Get a member (every member)", tag: "members", response: "MemberEnvelope"},
		{method: del, path: cPath + "/members/{userId}", handler: s.memberRemove, summary: "Remove a member, or leave with your own id or me (never the last owner)", tag: "members", response: "Success"},

		{method: get, path: cPath + "/invites", handler: s.inviteList, summary: "List the client's invites (owners and admins)", tag: "invites", response: "InviteList"},
		{method: post, path: cPath + "/invites", handler: s.inviteCreate, summary: "Create a one-time invite link, emailed when SMTP is configured (owners and admins)", tag: "invites", status: created, request: "InviteInput", response: "InviteCreated"},
		{method: del, path: cPath + "/invites/{inviteId}", handler: s.inviteRevoke, summary: "Revoke an invite (owners and admins)", tag: "invites", response: "Success"},
		{method: post, path: "/invites/{inviteToken}/accept", handler: s.inviteAccept, summary: "Accept an invite: create an account, or join with the user token sent", tag: "invites", public: true, status: created, request: "InviteAccept", response: "InviteAccepted"},

		{method: get, path: "/users", handler: s.userList, summary: "List users (instance administrators)", tag: "users", response: "UserList"},
		{method: post, path: "/users", handler: s.userCreate, summary: "Create a user (instance administrators)", tag: "users", status: created, request: "UserInput", response: "UserEnvelope"},
		{method: get, path: "/users/{userId}", handler: s.userGet, summary: "Get a user and their clients (themself or instance administrators)", tag: "users", response: "UserEnvelope"},
		{method: put, path: "/users/{userId}", handler: s.userUpdate, summary: "Change a user's name, password or instance administrator flag", tag: "users", request: "UserUpdate", response: "UserEnvelope"},
		{method: del, path: "/users/{userId}", handler: s.userDelete, summary: "Delete a user with their tokens and memberships (instance administrators)", tag: "users", response: "Success"},
	}
}

func (s *server) clientCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindClient)
	if err != nil {
		return err
	}
	c, err := s.svc.ClientCreate(r.Context(), actor(r), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusCreated, "client", clientView(c))
}

func bindClient(b *binder) service.ClientParams {
	b.readOnly("clientCreatedAt", "clientUpdatedAt")
	return service.ClientParams{Name: b.str("clientName")}
}

func (s *server) clientRename(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindClient)
	if err != nil {
		return err
	}
	c, err := s.svc.ClientRename(r.Context(), actor(r), r.PathValue("clientId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "client", clientView(c))
}

func (s *server) clientDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.ClientDelete(r.Context(), actor(r), r.PathValue("clientId")); err != nil {
		return err
	}
	return success(w)
}

func auditQuery(r *http.Request) service.AuditQuery {
	q := r.URL.Query()
	return service.AuditQuery{ResourceType: q.Get("resourceType"), ResourceID: q.Get("resourceId"), Actor: q.Get("actor"),
		From: q.Get("from"), To: q.Get("to"), Cursor: q.Get("cursor"), Limit: q.Get("limit")}
}

func (s *server) auditList(w http.ResponseWriter, r *http.Request) error {
	page, err := s.svc.AuditList(r.Context(), actor(r), r.PathValue("clientId"), auditQuery(r))
	if err != nil {
		return err
	}
	return writeAuditPage(w, page)
}

func (s *server) instanceAuditList(w http.ResponseWriter, r *http.Request) error {
	page, err := s.svc.InstanceAuditList(r.Context(), actor(r), auditQuery(r))
	if err != nil {
		return err
	}
	return writeAuditPage(w, page)
}

func writeAuditPage(w http.ResponseWriter, page service.AuditPage) error {
	body := map[string]any{"audit": mapSlice(page.Entries, auditView), "message": "Success"}
	if page.NextCursor != "" {
		body["nextCursor"] = page.NextCursor
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *server) memberList(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.svc.MemberList(r.Context(), actor(r), r.PathValue("clientId"))
	if err != nil {
		return err
	}
	return list(w, "members", mapSlice(ms, memberView))
}

func (s *server) memberGet(w http.ResponseWriter, r *http.Request) error {
	m, err := s.svc.MemberGet(r.Context(), actor(r), r.PathValue("clientId"), meOr(r))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "member", memberView(m))
}

// meOr is the userId path value with "me" meaning the actor.
func meOr(r *http.Request) string {
	if id := r.PathValue("userId"); id != "me" {
		return id
	}
	return actor(r).User.ID
}

func (s *server) memberSet(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, func(b *binder) service.MemberParams {
		b.readOnly("userName", "memberCreatedAt")
		return service.MemberParams{UserID: b.str("userId"), Roles: b.strings("roles")}
	})
	if err != nil {
		return err
	}
	m, added, err := s.svc.MemberSet(r.Context(), actor(r), r.PathValue("clientId"), p)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	return one(w, status, "member", memberView(m))
}

func (s *server) memberRemove(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.MemberRemove(r.Context(), actor(r), r.PathValue("clientId"), meOr(r)); err != nil {
		return err
	}
	return success(w)
}

func (s *server) inviteList(w http.ResponseWriter, r *http.Request) error {
	invs, err := s.svc.InviteList(r.Context(), actor(r), r.PathValue("clientId"))
	if err != nil {
		return err
	}
	now := s.now()
	return list(w, "invites", mapSlice(invs, func(i storeInvite) inviteJSON { return inviteView(i, now) }))
}

func (s *server) inviteCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, func(b *binder) service.InviteParams {
		return service.InviteParams{Email: b.str("email"), Name: b.str("name"), Roles: b.strings("roles"),
			ExpiresInHours: b.integer("expiresInHours")}
	})
	if err != nil {
		return err
	}
	ic, err := s.svc.InviteCreate(r.Context(), actor(r), r.PathValue("clientId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusCreated, "invite", inviteCreatedView(ic, s.now()))
}

func (s *server) inviteRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.InviteRevoke(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("inviteId")); err != nil {
		return err
	}
	return success(w)
}

// inviteAccept is public: without a token it creates an account, with a
// valid one it joins that user. Failed attempts count against the
// caller's address like failed token lookups.
func (s *server) inviteAccept(w http.ResponseWriter, r *http.Request) error {
	a := service.Actor{Via: "api", RemoteAddr: s.remote(r), RequestID: requestID(r)}
	if wait := s.guard.Blocked(a.RemoteAddr); wait > 0 {
		return service.TooManyAttempts(wait)
	}
	if h := r.Header.Get("Authorization"); h != "" {
		u, err := s.authenticate(r)
		if err != nil {
			return err
		}
		a.User, a.TokenID = u.User, u.TokenID
	}
	p, err := decode(w, r, func(b *binder) service.AcceptParams {
		return service.AcceptParams{UserName: b.str("userName"), Password: b.str("password")}
	})
	if err != nil {
		return err
	}
	res, err := s.svc.InviteAccept(r.Context(), a, r.PathValue("inviteToken"), p)
	if se, ok := err.(*service.Error); ok && se.Status == http.StatusNotFound {
		s.guard.Failed(a.RemoteAddr)
	}
	if err != nil {
		return err
	}
	info, err := s.svc.Me(r.Context(), service.Actor{User: res.User})
	if err != nil {
		return err
	}
	body := map[string]any{"user": userView(info), "message": "Success"}
	if res.Token != nil {
		v := tokenView(res.Token.Token)
		v.Token = res.Token.Value
		body["token"] = v
	}
	writeJSON(w, http.StatusCreated, body)
	return nil
}

func (s *server) userList(w http.ResponseWriter, r *http.Request) error {
	us, err := s.svc.UserList(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return list(w, "users", mapSlice(us, userSummaryView))
}

func bindUser(b *binder) service.UserParams {
	b.readOnly("userCreatedAt", "userUpdatedAt", "userClients")
	return service.UserParams{Name: b.str("userName"), Password: b.str("password"), CurrentPassword: b.str("currentPassword"),
		InstanceAdmin: b.boolean("userInstanceAdmin"), RevokeTokens: b.boolean("revokeTokens")}
}

func (s *server) userCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindUser)
	if err != nil {
		return err
	}
	u, err := s.svc.UserCreate(r.Context(), actor(r), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusCreated, "user", userView(u))
}

func (s *server) userGet(w http.ResponseWriter, r *http.Request) error {
	u, err := s.svc.UserGet(r.Context(), actor(r), r.PathValue("userId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "user", userView(u))
}

func (s *server) userUpdate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindUser)
	if err != nil {
		return err
	}
	u, err := s.svc.UserUpdate(r.Context(), actor(r), r.PathValue("userId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "user", userView(u))
}

func (s *server) userDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.UserDelete(r.Context(), actor(r), r.PathValue("userId")); err != nil {
		return err
	}
	return success(w)
}
