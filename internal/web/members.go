package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func (d *Dashboard) memberRoutes() []route {
	return []route{
		{pattern: "GET /members", handler: d.members},
		{pattern: "POST /members/{userId}", handler: d.memberRole},
		{pattern: "GET /members/{userId}/remove", handler: d.memberRemoveConfirm},
		{pattern: "POST /members/{userId}/remove", handler: d.memberRemove},
		// Not under /invites/: that prefix belongs to the Core API's aliases.
		{pattern: "POST /members/invites", handler: d.inviteCreate},
		{pattern: "GET /members/invites/{inviteId}/revoke", handler: d.inviteRevokeConfirm},
		{pattern: "POST /members/invites/{inviteId}/revoke", handler: d.inviteRevoke},
	}
}

// roleOptions are the dashboard's role choices: one role per member (the
// API also takes several).
var roleOptions = []option{{Value: service.RoleOwner, Label: "Owner"}, {Value: service.RoleAdmin, Label: "Admin"}, {Value: service.RoleUser, Label: "User"}}

type membersData struct {
	Members []memberRow
	// Manage shows the forms of owners and admins; Owner the owner choices.
	Manage, Owner bool
	Me            string
	Invites       []inviteRow
	Form          *form
	// NewInviteURL is the link of an invite just made, shown this once.
	NewInviteURL string
	NewInviteID  string
	EmailNote    string
}

type memberRow struct {
	service.Member
	Role string
}

type inviteRow struct {
	store.Invite
	State string
}

// Roles are the choices a manager may give; admins cannot grant owner.
func (m membersData) Roles() []option {
	if m.Owner {
		return roleOptions
	}
	return roleOptions[1:]
}

// Expiries are the choices for an invite's lifetime.
func (membersData) Expiries() []option {
	return []option{{Value: "24", Label: "1 day"}, {Value: "168", Label: "7 days"}, {Value: "720", Label: "30 days"}}
}

// CanChange reports whether the signed-in user may change row's roles.
func (m membersData) CanChange(row memberRow) bool {
	return m.Manage && (m.Owner || row.Role != service.RoleOwner)
}

func (d *Dashboard) members(w http.ResponseWriter, r *http.Request) error {
	return d.renderMembers(w, r, http.StatusOK, newForm("invite", url.Values{"roles": {service.RoleUser}, "expiresInHours": {"168"}}))
}

func (d *Dashboard) renderMembers(w http.ResponseWriter, r *http.Request, status int, f *form) error {
	st := current(r)
	if clientID(r) == "" {
		return d.render(w, r, http.StatusOK, "noclient", page{Title: "No client"})
	}
	ms, err := d.svc.MemberList(r.Context(), st.actor, clientID(r))
	if err != nil {
		return err
	}
	data := membersData{Manage: canManage(st), Owner: slices.Contains(st.client.Roles, service.RoleOwner), Me: st.actor.User.ID, Form: f}
	for _, m := range ms {
		data.Members = append(data.Members, memberRow{Member: m, Role: topRole(m.Membership.Roles)})
	}
	if data.Manage {
		invs, err := d.svc.InviteList(r.Context(), st.actor, clientID(r))
		if err != nil {
			return err
		}
		now := d.now()
		for _, inv := range invs {
			data.Invites = append(data.Invites, inviteRow{Invite: inv, State: inviteState(inv, now)})
		}
	}
	if id := r.URL.Query().Get("invite"); id != "" {
		data.NewInviteURL, data.NewInviteID = d.takeOnce(w, r, "invite:"+id), id
		data.EmailNote = emailNotes[r.URL.Query().Get("email")]
	}
	return d.render(w, r, status, "members", page{Title: "Members", Section: "/members", Data: data})
}

// emailNotes say what became of an invite's email (a fixed table, so a
// link cannot make the page say anything else).
var emailNotes = map[string]string{
	"sent":    "The link was also emailed to the address you gave.",
	"failed":  "The email could not be sent; share the link yourself.",
	"off":     "Email is not configured on this server; share the link yourself.",
	"no-mail": "",
}

func inviteState(inv store.Invite, now time.Time) string {
	switch {
	case inv.AcceptedAt != nil:
		return "accepted"
	case !now.Before(inv.ExpiresAt):
		return "expired"
	}
	return "pending"
}

// topRole is the most powerful of roles.
func topRole(roles []string) string {
	for _, r := range service.Roles {
		if slices.Contains(roles, r) {
			return r
		}
	}
	return ""
}

// canManage reports whether the signed-in user manages the current client.
func canManage(st *state) bool {
	return st != nil && st.client != nil &&
		(slices.Contains(st.client.Roles, service.RoleOwner) || slices.Contains(st.client.Roles, service.RoleAdmin))
}

func (d *Dashboard) memberRole(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	_, _, err = d.svc.MemberSet(r.Context(), current(r).actor, clientID(r), service.MemberParams{
		UserID: service.Some(r.PathValue("userId")), Roles: service.Some([]string{v.Get("role")})})
	if err != nil {
		if se, ok := err.(*service.Error); ok && (se.Status == http.StatusBadRequest || se.Status == http.StatusConflict) {
			f := newForm("invite", nil)
			f.General = append(f.General, se.Message)
			return d.renderMembers(w, r, se.Status, f)
		}
		return err
	}
	return redirect(w, r, "/members?done=member-updated")
}

func (d *Dashboard) memberRemoveConfirm(w http.ResponseWriter, r *http.Request) error {
	st := current(r)
	m, err := d.svc.MemberGet(r.Context(), st.actor, clientID(r), r.PathValue("userId"))
	if err != nil {
		return err
	}
	c := confirmData{Heading: "Remove " + m.UserName + " from " + st.client.Client.Name + "?",
		Lines:  []string{m.UserName + " loses access to this client at once: the dashboard and their API tokens answer 404 for it. Their account stays."},
		Action: "/members/" + m.Membership.UserID + "/remove", Button: "Remove member", Cancel: "/members"}
	if m.Membership.UserID == st.actor.User.ID {
		c.Heading, c.Button = "Leave "+st.client.Client.Name+"?", "Leave client"
		c.Lines = []string{"You lose access to this client at once. Someone who manages it can invite you again."}
	}
	return d.confirm(w, r, c)
}

func (d *Dashboard) memberRemove(w http.ResponseWriter, r *http.Request) error {
	st := current(r)
	id := r.PathValue("userId")
	if err := d.svc.MemberRemove(r.Context(), st.actor, clientID(r), id); err != nil {
		return err
	}
	if id == st.actor.User.ID {
		return redirect(w, r, "/proxies?done=client-left")
	}
	return redirect(w, r, "/members?done=member-removed")
}

var inviteInputs = []string{"email", "name", "roles", "expiresInHours"}

func (d *Dashboard) inviteCreate(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	p := service.InviteParams{Email: str(v, "email"), Name: str(v, "name"), Roles: service.Some([]string{v.Get("roles")})}
	var fe fieldErrs
	if h := v.Get("expiresInHours"); h != "" {
		n, perr := strconv.ParseInt(h, 10, 64)
		if perr != nil {
			fe.Add("expiresInHours", "choose one of the listed lifetimes")
		}
		p.ExpiresInHours = service.Some(n)
	}
	var ic service.InviteCreated
	if err = fe.Err(); err == nil {
		ic, err = d.svc.InviteCreate(r.Context(), current(r).actor, clientID(r), p)
	}
	if err != nil {
		f := newForm("invite", v)
		if !f.absorb(err, inviteInputs) {
			return err
		}
		return d.renderMembers(w, r, http.StatusBadRequest, f)
	}
	d.showOnce(w, r, "invite:"+ic.Invite.ID, ic.URL)
	email := "no-mail"
	switch {
	case ic.EmailSent:
		email = "sent"
	case ic.Invite.Email != "" && ic.EmailProblem != "" && d.svc.MailConfigured():
		email = "failed"
	case ic.Invite.Email != "":
		email = "off"
	}
	return redirect(w, r, "/members?"+url.Values{"done": {"invite-created"}, "invite": {ic.Invite.ID}, "email": {email}}.Encode())
}

func (d *Dashboard) inviteRevokeConfirm(w http.ResponseWriter, r *http.Request) error {
	st := current(r)
	invs, err := d.svc.InviteList(r.Context(), st.actor, clientID(r))
	if err != nil {
		return err
	}
	i := slices.IndexFunc(invs, func(inv store.Invite) bool { return inv.ID == r.PathValue("inviteId") })
	if i < 0 {
		return service.NotFound("invite")
	}
	who := invs[i].Email
	if who == "" {
		who = invs[i].Name
	}
	if who == "" {
		who = "this invite"
	}
	return d.confirm(w, r, confirmData{Heading: "Revoke the invite for " + who + "?",
		Lines:  []string{"Its link stops working at once. You can invite again later."},
		Action: "/members/invites/" + invs[i].ID + "/revoke", Button: "Revoke invite", Cancel: "/members"})
}

func (d *Dashboard) inviteRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := d.svc.InviteRevoke(r.Context(), current(r).actor, clientID(r), r.PathValue("inviteId")); err != nil {
		return err
	}
	return redirect(w, r, "/members?done=invite-revoked")
}
