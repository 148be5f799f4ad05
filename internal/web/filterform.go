package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/keyway-dev/keyway/internal/service"
)

// filterInputs are the filter form's inputs, named like the API's fields.
var filterInputs = []string{"filterAction", "filterPaths", "filterNotes"}

type filterFormData struct {
	Owner  owner
	Form   *form
	Filter *service.FilterView
}

func (d *Dashboard) filterNew(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		return d.renderFilterForm(w, r, http.StatusOK, o, newForm("filter", url.Values{"filterAction": {"destroy"}}), nil)
	}
}

func (d *Dashboard) filterEdit(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		fv, err := d.svc.FilterGet(r.Context(), current(r).actor, clientID(r), o.Ref(), r.PathValue("filterId"))
		if err != nil {
			return err
		}
		v := url.Values{"filterAction": {fv.Action}, "filterPaths": {strings.Join(fv.Paths, "\n")}, "filterNotes": {fv.Notes}}
		return d.renderFilterForm(w, r, http.StatusOK, o, newForm("filter", v), &fv)
	}
}

func (d *Dashboard) renderFilterForm(w http.ResponseWriter, r *http.Request, status int, o owner, f *form, fv *service.FilterView) error {
	title := "New filter"
	if fv != nil {
		title = "Edit filter"
	}
	return d.render(w, r, status, "filter_form", page{Title: title + " · " + o.Name, Section: sectionOf(o),
		Data: filterFormData{Owner: o, Form: f, Filter: fv}})
}

func (d *Dashboard) filterSave(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		v, err := readForm(w, r)
		if err != nil {
			return err
		}
		ctx, actor, cid, filterID := r.Context(), current(r).actor, clientID(r), r.PathValue("filterId")
		var fv *service.FilterView
		if filterID != "" {
			got, err := d.svc.FilterGet(ctx, actor, cid, o.Ref(), filterID)
			if err != nil {
				return err
			}
			fv = &got
		}
		// One path per line; empty lines are dropped, so the line numbers
		// of errors are those of the paths shown back.
		paths := lines(v.Get("filterPaths"))
		v.Set("filterPaths", strings.Join(paths, "\n"))
		p := service.FilterParams{Action: str(v, "filterAction"), Paths: service.Some(nonNil(paths)), Notes: str(v, "filterNotes")}
		var saved service.FilterView
		if fv == nil {
			saved, err = d.svc.FilterCreate(ctx, actor, cid, o.Ref(), p)
		} else {
			saved, err = d.svc.FilterUpdate(ctx, actor, cid, o.Ref(), filterID, p)
		}
		if err != nil {
			f := newForm("filter", v)
			if !f.absorb(err, filterInputs) {
				return err
			}
			return d.renderFilterForm(w, r, http.StatusBadRequest, o, f, fv)
		}
		done := "filter-created"
		if fv != nil {
			done = "filter-updated"
		}
		return redirect(w, r, withDone(o.Page, done, saved.ID))
	}
}

func (d *Dashboard) filterDeleteConfirm(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		fv, err := d.svc.FilterGet(r.Context(), current(r).actor, clientID(r), o.Ref(), r.PathValue("filterId"))
		if err != nil {
			return err
		}
		back, _, _ := cutFragment(o.Page)
		return d.confirm(w, r, confirmData{
			Heading: "Delete this " + fv.Action + " filter?",
			Lines: []string{"Filter " + fv.ID + " of the " + o.ScopeLabel() + " " + o.Name + ": " + fv.Action + " " + strings.Join(fv.Paths, ", ") + ".",
				"Answers pass without it from now on."},
			Action: o.Base() + "/filters/" + fv.ID + "/delete", Button: "Delete filter", Cancel: back,
		})
	}
}

func (d *Dashboard) filterDelete(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		if err := d.svc.FilterDelete(r.Context(), current(r).actor, clientID(r), o.Ref(), r.PathValue("filterId")); err != nil {
			return err
		}
		return redirect(w, r, withDone(o.Page, "filter-deleted", ""))
	}
}
