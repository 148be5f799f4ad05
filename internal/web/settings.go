package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/keyway-dev/keyway/internal/service"
)

func (d *Dashboard) settingsRoutes() []route {
	return []route{
		{pattern: "GET /settings", handler: d.settings},
		{pattern: "POST /settings/name", handler: d.clientRename},
		{pattern: "GET /settings/delete", handler: d.clientDeleteConfirm},
		{pattern: "POST /settings/delete", handler: d.clientDelete},
		{pattern: "POST /settings/clients", handler: d.clientCreate},
	}
}

type settingsData struct {
	// Me is the signed-in user's id.
	Me    string
	Owner bool
	// InstanceAdmin may create clients.
	InstanceAdmin bool
	Rename        *form
	NewClient     *form
	// Manage holds the configuration and webhook forms of owners and
	// admins (nil for users).
	Manage *manageData
}

func (d *Dashboard) settings(w http.ResponseWriter, r *http.Request) error {
	st := current(r)
	f := newForm("rename", nil)
	if st.client != nil {
		f.Values.Set("clientName", st.client.Client.Name)
	}
	return d.renderSettings(w, r, http.StatusOK, f, newForm("client", nil))
}

func (d *Dashboard) renderSettings(w http.ResponseWriter, r *http.Request, status int, rename, newClient *form) error {
	return d.renderSettingsFull(w, r, status, rename, newClient, nil, nil)
}

// renderSettingsWith shows the settings page with a failed configuration
// or webhook form.
func (d *Dashboard) renderSettingsWith(w http.ResponseWriter, r *http.Request, status int, config, hook *form) error {
	rename := newForm("rename", nil)
	if st := current(r); st.client != nil {
		rename.Values.Set("clientName", st.client.Client.Name)
	}
	return d.renderSettingsFull(w, r, status, rename, newForm("client", nil), config, hook)
}

func (d *Dashboard) renderSettingsFull(w http.ResponseWriter, r *http.Request, status int, rename, newClient, config, hook *form) error {
	st := current(r)
	data := settingsData{Me: st.actor.User.ID, InstanceAdmin: st.actor.User.InstanceAdmin, Rename: rename, NewClient: newClient}
	var err error
	if data.Manage, err = d.manageData(r, config, hook); err != nil {
		return err
	}
	if st.client != nil {
		data.Owner = slices.Contains(st.client.Roles, service.RoleOwner)
	} else if !data.InstanceAdmin {
		return d.render(w, r, http.StatusOK, "noclient", page{Title: "No client"})
	}
	return d.render(w, r, status, "settings", page{Title: "Client settings", Section: "/settings", Data: data})
}

func (d *Dashboard) clientRename(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	_, err = d.svc.ClientRename(r.Context(), current(r).actor, clientID(r), service.ClientParams{Name: str(v, "clientName")})
	if err != nil {
		f := newForm("rename", v)
		if !f.absorb(err, []string{"clientName"}) {
			return err
		}
		return d.renderSettings(w, r, http.StatusBadRequest, f, newForm("client", nil))
	}
	return redirect(w, r, "/settings?done=client-renamed")
}

func (d *Dashboard) clientDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	st := current(r)
	if st.client == nil || !slices.Contains(st.client.Roles, service.RoleOwner) {
		return service.Forbidden("Only owners may delete the client")
	}
	name := st.client.Client.Name
	return d.confirm(w, r, confirmData{Heading: "Delete the client " + name + "?",
		Lines: []string{"Its members lose access and its pending invites stop working. This cannot be undone.",
			"keyway refuses while the client still owns proxies, credentials or targets: delete those first."},
		Action: "/settings/delete", Button: "Delete client", Cancel: "/settings"})
}

func (d *Dashboard) clientDelete(w http.ResponseWriter, r *http.Request) error {
	st := current(r)
	if err := d.svc.ClientDelete(r.Context(), st.actor, clientID(r)); err != nil {
		if se, ok := err.(*service.Error); ok && se.Status == http.StatusConflict {
			f := newForm("rename", url.Values{"clientName": {st.client.Client.Name}})
			f.General = append(f.General, se.Message)
			return d.renderSettings(w, r, http.StatusConflict, f, newForm("client", nil))
		}
		return err
	}
	s := st.sess
	s.ClientID = ""
	d.setSession(w, r, s)
	return redirect(w, r, "/proxies?done=client-deleted")
}

// clientCreate makes a client (instance administrators) and switches to it.
func (d *Dashboard) clientCreate(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	st := current(r)
	c, err := d.svc.ClientCreate(r.Context(), st.actor, service.ClientParams{Name: str(v, "clientName")})
	if err != nil {
		f := newForm("client", v)
		if !f.absorb(err, []string{"clientName"}) {
			return err
		}
		rename := newForm("rename", nil)
		if st.client != nil {
			rename.Values.Set("clientName", st.client.Client.Name)
		}
		return d.renderSettings(w, r, http.StatusBadRequest, rename, f)
	}
	s := st.sess
	s.ClientID = c.ID
	d.setSession(w, r, s)
	return redirect(w, r, "/settings?done=client-created")
}
