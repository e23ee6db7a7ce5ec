package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/templates"
)

// The users page (security only: the store refuses every other role).

func (s *server) usersPage(r *http.Request, u *incident.User) (templates.UsersPage, error) {
	p := templates.UsersPage{Layout: s.layout(r, u, "Users", "/admin/users")}
	us, err := s.app.store.FindUsers(r.Context())
	if err != nil {
		return p, err
	}
	for _, x := range us {
		row := templates.UserRow{ID: strconv.FormatInt(x.ID, 10), Name: x.Name, Role: string(x.Role), Controller: x.Controller,
			Password: yesNo(x.Password), Token: yesNo(x.Token), Enabled: x.Disabled.IsZero()}
		if !x.Disabled.IsZero() {
			row.Disabled = x.Disabled.UTC().Format(time.DateTime)
		}
		p.Rows = append(p.Rows, row)
	}
	cs, err := s.app.store.FindControllers(r.Context())
	if err != nil {
		return p, err
	}
	for _, c := range cs {
		if c.Member {
			p.Controllers = append(p.Controllers, templates.Option{Value: c.ID, Label: c.Name + " (" + c.ID + ")"})
		}
	}
	return p, nil
}

func (s *server) pageUsers(w http.ResponseWriter, r *http.Request, u *incident.User) {
	p, err := s.usersPage(r, u)
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.AdminUsers(p))
}

// showToken renders the users page with a token just issued: the one
// response that ever holds it (Cache-Control: no-store).
func (s *server) showToken(w http.ResponseWriter, r *http.Request, u *incident.User, status int, for_, token, flash string) {
	p, err := s.usersPage(r, u)
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	p.NewTokenFor, p.NewToken, p.Flash = for_, token, flash
	s.render(w, r, status, templates.AdminUsers(p))
}

func (s *server) postUser(w http.ResponseWriter, r *http.Request, u *incident.User) {
	n := incident.NewUser{Name: r.PostFormValue("name"), Role: incident.Role(r.PostFormValue("role")),
		Password: r.PostFormValue("password")}
	if n.Role == incident.RoleMember {
		n.Controller = r.PostFormValue("controller")
	}
	added, token, err := s.app.store.CreateUser(r.Context(), n)
	if err != nil {
		if st := httpStatus(err); st == http.StatusForbidden || st == http.StatusInternalServerError {
			s.pageError(w, r, u, err)
			return
		}
		p, perr := s.usersPage(r, u)
		if perr != nil {
			s.pageError(w, r, u, perr)
			return
		}
		p.Error = errorText(err)
		s.render(w, r, httpStatus(err), templates.AdminUsers(p))
		return
	}
	s.showToken(w, r, u, http.StatusCreated, added.Name, token, flashText("user-added"))
}

func (s *server) postUserAction(w http.ResponseWriter, r *http.Request, u *incident.User) {
	ref := r.PathValue("id")
	if _, err := strconv.ParseInt(ref, 10, 64); err != nil {
		s.pageError(w, r, u, incident.ErrNotFound)
		return
	}
	switch r.PathValue("action") {
	case "disable":
		if _, err := s.app.store.DisableUser(r.Context(), ref); err != nil {
			s.pageError(w, r, u, err)
			return
		}
		http.Redirect(w, r, "/admin/users?done=user-disabled", http.StatusSeeOther)
	case "token":
		x, token, err := s.app.store.NewToken(r.Context(), ref)
		if err != nil {
			s.pageError(w, r, u, err)
			return
		}
		s.showToken(w, r, u, http.StatusOK, x.Name, token, flashText("token"))
	default:
		s.pageError(w, r, u, incident.ErrNotFound)
	}
}
