package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// cmdUsers manages the people who use the admin UI and the API.
func (a *app) cmdUsers(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("users: want add, list, disable, token or password")
	}
	switch args[0] {
	case "add":
		return a.usersAdd(ctx, args[1:])
	case "list":
		return a.usersList(ctx, args[1:])
	case "disable":
		return a.usersDisable(ctx, args[1:])
	case "token":
		return a.usersToken(ctx, args[1:])
	case "password":
		return a.usersPassword(ctx, args[1:])
	}
	return usagef("users: unknown sub-command %q (add, list, disable, token, password)", args[0])
}

// userWithToken is what users add and users token print as JSON: the user
// and its new token, shown this once.
type userWithToken struct {
	*incident.User
	Token string `json:"token"`
}

func (a *app) usersAdd(ctx context.Context, args []string) error {
	fs := a.flags("users add")
	name := fs.String("name", "", "the user's name, which they log in with (required)")
	role := fs.String("role", "", "security, legal or member (required)")
	controller := fs.String("controller", "", "a member user's controller (required for member)")
	pwStdin := fs.Bool("password-stdin", false, "read a password for the admin UI from the first line of stdin (at least 12 characters); without it the user has an API token only")
	asJSON := fs.Bool("json", false, "print the user and its token as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("users add: unexpected argument %q", pos[0])
	}
	if *name == "" || *role == "" {
		return usagef("users add: --name and --role are required")
	}
	if err := oneOf("users add", "--role", incident.Role(*role), incident.UserRoles...); err != nil {
		return err
	}
	n := incident.NewUser{Name: *name, Role: incident.Role(*role), Controller: *controller}
	if *pwStdin {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("users add: --password-stdin: no password on stdin")
		}
		n.Password = strings.TrimRight(line, "\r\n")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	u, token, err := st.CreateUser(ctx, n)
	if err != nil {
		return err
	}
	return a.printToken(u, token, "added", *asJSON)
}

func (a *app) printToken(u *incident.User, token, what string, asJSON bool) error {
	if asJSON {
		return a.printJSON(userWithToken{u, token})
	}
	fmt.Fprintf(a.stdout, "user %d (%s, %s) %s; its API token, shown this once:\n%s\n", u.ID, u.Name, describeRole(u), what, token)
	return nil
}

func describeRole(u *incident.User) string {
	if u.Controller != "" {
		return string(u.Role) + " of " + u.Controller
	}
	return string(u.Role)
}

func (a *app) usersList(ctx context.Context, args []string) error {
	fs := a.flags("users list")
	asJSON := fs.Bool("json", false, "print as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	us, err := st.FindUsers(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if us == nil {
			us = []*incident.User{}
		}
		return a.printJSON(us)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCONTROLLER\tPASSWORD\tTOKEN\tDISABLED")
	for _, u := range us {
		disabled := ""
		if !u.Disabled.IsZero() {
			disabled = u.Disabled.Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Role, u.Controller, yesNo(u.Password), yesNo(u.Token), disabled)
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// userRef parses the one positional argument: a user id or name.
func userRef(cmd string, pos []string) (string, error) {
	if len(pos) != 1 || pos[0] == "" {
		return "", usagef("%s: want exactly one user ID (or name)", cmd)
	}
	return pos[0], nil
}

func (a *app) usersDisable(ctx context.Context, args []string) error {
	fs := a.flags("users disable")
	asJSON := fs.Bool("json", false, "print the user as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	ref, err := userRef("users disable", pos)
	if err != nil {
		return err
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	u, err := st.DisableUser(ctx, ref)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(u)
	}
	fmt.Fprintf(a.stdout, "user %d (%s) disabled: its token, password and sessions no longer work\n", u.ID, u.Name)
	return nil
}

func (a *app) usersToken(ctx context.Context, args []string) error {
	fs := a.flags("users token")
	asJSON := fs.Bool("json", false, "print the user and its token as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	ref, err := userRef("users token", pos)
	if err != nil {
		return err
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	u, token, err := st.NewToken(ctx, ref)
	if err != nil {
		return err
	}
	return a.printToken(u, token, "has a new token (the old one no longer works)", *asJSON)
}

// usersPassword sets a user's admin UI password: read from stdin, or made
// up (100 random bits) and printed this once. The user's sessions end.
func (a *app) usersPassword(ctx context.Context, args []string) error {
	fs := a.flags("users password")
	pwStdin := fs.Bool("password-stdin", false, "read the new password from the first line of stdin (at least 12 characters); without it one is made up and printed once")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	ref, err := userRef("users password", pos)
	if err != nil {
		return err
	}
	pw := demoPassword()
	if *pwStdin {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("users password: --password-stdin: no password on stdin")
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	u, err := st.SetPassword(ctx, ref, pw)
	if err != nil {
		return err
	}
	if *pwStdin {
		fmt.Fprintf(a.stdout, "user %d (%s) has a new password; its sessions ended\n", u.ID, u.Name)
		return nil
	}
	fmt.Fprintf(a.stdout, "user %d (%s) has a new password, shown this once (its sessions ended):\n%s\n", u.ID, u.Name, pw)
	return nil
}
