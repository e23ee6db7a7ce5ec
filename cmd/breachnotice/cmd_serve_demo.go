package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/demodata"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
)

// serveDemoAccounts is how many demo learners serve --demo loads.
const serveDemoAccounts = 2000

// demoUser is a user serve --demo creates, with its password.
type demoUser struct {
	name, role, controller, password string
}

// seedServeDemo fills an empty database with a demo platform for the admin
// UI: the operator and three Members with demo learners, incidents in
// several states (notices sent and banner up; planned and on hold; scoped;
// just opened), and one user per role, whose passwords it prints.
func (a *app) seedServeDemo(ctx context.Context, dir string) ([]demoUser, error) {
	st := a.store
	if cs, err := st.FindControllers(ctx); err != nil {
		return nil, err
	} else if len(cs) > 0 {
		if users, err := a.reseedServeDemo(ctx); err != nil || users != nil {
			return users, err
		}
		return nil, fmt.Errorf("serve --demo: %w: %s already holds data; --demo seeds an empty database (use --db FILE with a new file, or serve without --demo)",
			incident.ErrConflict, a.dbPath)
	}
	say := func(format string, args ...any) { fmt.Fprintf(a.stdout, "==> "+format+"\n", args...) }
	files, err := demodata.Write(ctx, filepath.Join(dir, "data"), demodata.Options{Accounts: serveDemoAccounts, Seed: 1})
	if err != nil {
		return nil, err
	}
	loaded, err := demodata.Load(ctx, st, files, func(incident.Problem) {})
	if err != nil {
		return nil, err
	}
	say("demo platform: %d controllers, %d learners (files in %s)", len(loaded.Controllers), serveDemoAccounts, filepath.Join(dir, "data"))

	today := incident.Date{Time: a.now().UTC().Truncate(24 * time.Hour)}
	open := func(controller, title string, daysAgo int, desc string, el ...incident.Element) (int64, error) {
		inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: controller, Title: title, Description: desc,
			Discovered: incident.Date{Time: today.AddDate(0, 0, -daysAgo)}, Elements: el})
		if err != nil {
			return 0, err
		}
		return inc.ID, nil
	}
	scope := func(id int64) error {
		_, err := st.ScopeIncident(ctx, id, incident.ScopeRule{All: true}, func(incident.Problem) {})
		return err
	}

	// 1: notices sent, banner up.
	sent, err := open("northbridge", "Course database copied", 6,
		"An attacker used a stolen staff credential to copy the course database of Northbridge University's courses. "+
			"The copy held names, email addresses, hashed passwords and dates of birth.",
		incident.ElemName, incident.ElemEmail, incident.ElemPassword, incident.ElemDOB)
	if err != nil {
		return nil, err
	}
	if err := scope(sent); err != nil {
		return nil, err
	}
	if _, err := notify.MakePlan(ctx, st, sent); err != nil {
		return nil, err
	}
	f := defaultSendFlags()
	f.outbox = filepath.Join(dir, "outbox")
	res, err := a.send(ctx, sent, &f)
	if err != nil {
		return nil, err
	}
	if _, err := banner.Publish(ctx, st, sent, banner.PublishOptions{PublicURL: a.getenv("BREACHNOTICE_PUBLIC_URL")}); err != nil {
		return nil, err
	}
	say("incident %d (northbridge): %d emails sent to %s, %d letters queued, banner published", sent, res.Sent, f.outbox, res.LettersQueued)

	// 2: planned, on a law-enforcement hold.
	held, err := open("lakeside", "Grade export sent to the wrong partner", 3, "",
		incident.ElemName, incident.ElemEmail, incident.ElemGovID, incident.ElemCourseActivity)
	if err != nil {
		return nil, err
	}
	if err := scope(held); err != nil {
		return nil, err
	}
	if _, err := notify.MakePlan(ctx, st, held); err != nil {
		return nil, err
	}
	if _, err := st.HoldIncident(ctx, held, "State police cyber unit, case 2026-0457: delay notice 30 days"); err != nil {
		return nil, err
	}
	say("incident %d (lakeside): planned, on a law-enforcement hold", held)

	// 3: scoped, to plan. 4: just opened.
	scoped, err := open("openlearn", "Support mailbox phishing", 2, "", incident.ElemName, incident.ElemEmail, incident.ElemUsername)
	if err != nil {
		return nil, err
	}
	if err := scope(scoped); err != nil {
		return nil, err
	}
	fresh, err := open("valdemar", "Backup drive missing", 0, "", incident.ElemName, incident.ElemPostalAddress, incident.ElemSSN)
	if err != nil {
		return nil, err
	}
	say("incident %d (openlearn): scoped, ready to plan; incident %d (valdemar): opened", scoped, fresh)

	users := serveDemoUsers()
	for i := range users {
		u := &users[i]
		u.password = demoPassword()
		if _, _, err := st.CreateUser(ctx, incident.NewUser{Name: u.name, Role: incident.Role(u.role), Controller: u.controller, Password: u.password}); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// serveDemoUsers are the users serve --demo creates, one per role.
func serveDemoUsers() []demoUser {
	return []demoUser{{name: "security-lead", role: "security"}, {name: "counsel", role: "legal"},
		{name: "northbridge-staff", role: "member", controller: "northbridge"}, {name: "lakeside-staff", role: "member", controller: "lakeside"}}
}

// reseedServeDemo handles serve --demo run again on the database it seeded:
// the passwords were shown only once, so the demo users get new ones
// (their sessions end) and serve goes on with what is there. ok is false
// when the database is not a serve --demo one (a demo user is missing, or
// has another role): it returns nil and leaves the database untouched.
func (a *app) reseedServeDemo(ctx context.Context) ([]demoUser, error) {
	users := serveDemoUsers()
	for _, u := range users {
		got, err := a.store.FindUser(ctx, u.name)
		if errors.Is(err, incident.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("serve --demo: %w", err)
		}
		if string(got.Role) != u.role || got.Controller != u.controller || !got.Disabled.IsZero() {
			return nil, nil
		}
	}
	for i := range users {
		users[i].password = demoPassword()
		if _, err := a.store.SetPassword(ctx, users[i].name, users[i].password); err != nil {
			return nil, fmt.Errorf("serve --demo: new password for %s: %w", users[i].name, err)
		}
	}
	fmt.Fprintf(a.stdout, "==> %s already holds the serve --demo platform: serving it as it is, with new passwords for its users\n", a.dbPath)
	return users, nil
}

// demoPassword is 20 random characters (100 bits).
func demoPassword() string {
	var b [13]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:20]
}

// printDemoUsers says where to log in and as whom.
func printDemoUsers(w io.Writer, base string, users []demoUser) {
	fmt.Fprintf(w, "\nadmin UI: %s/admin/ (demo users; the passwords are shown only now):\n", base)
	for _, u := range users {
		role := u.role
		if u.controller != "" {
			role += " of " + u.controller
		}
		fmt.Fprintf(w, "  %-18s %-22s password %s\n", u.name, role, u.password)
	}
	fmt.Fprintln(w)
}
