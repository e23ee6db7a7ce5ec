package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

func (a *app) cmdControllers(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("controllers: want add, update, list or show")
	}
	switch args[0] {
	case "add":
		return a.controllersSet(ctx, args[1:], true)
	case "update":
		return a.controllersSet(ctx, args[1:], false)
	case "list":
		return a.controllersList(ctx, args[1:])
	case "show":
		return a.controllersShow(ctx, args[1:])
	case "dkim-record":
		return a.controllersDKIMRecord(ctx, args[1:])
	}
	return usagef("controllers: unknown sub-command %q (add, update, list, show, dkim-record)", args[0])
}

// controllerFlags binds the contact flags shared by add and update and
// reports which were given.
type controllerFlags struct {
	id, name, from, postal, phone, web, email, dpo string
	security                                       string
	dkimKey, dkimSelector, bounceDomain            string
	policyDays                                     int
	member, termsConsent, asJSON                   bool
}

func (a *app) controllersSet(ctx context.Context, args []string, add bool) error {
	verb := "update"
	if add {
		verb = "add"
	}
	fs := a.flags("controllers " + verb)
	var f controllerFlags
	fs.StringVar(&f.id, "id", "", "controller id (lower-case letters, digits, . _ -)")
	fs.StringVar(&f.name, "name", "", "display name printed on notices")
	fs.StringVar(&f.from, "from", "", "sender address of notices (an internationalised domain is stored in A-labels, xn--...)")
	fs.StringVar(&f.postal, "postal-address", "", `postal address for the contact block (lines separated by "\n" or ";")`)
	fs.StringVar(&f.phone, "phone", "", "phone number for questions")
	fs.StringVar(&f.web, "web", "", "web page for questions")
	fs.StringVar(&f.email, "contact-email", "", "email address for questions")
	fs.StringVar(&f.dpo, "dpo", "", "data protection officer contact (GDPR)")
	fs.StringVar(&f.security, "security-email", "", "where the scheduler's deadline alerts go (default: --contact-email)")
	fs.IntVar(&f.policyDays, "policy-days", incident.DefaultPolicyDays, `target in days for "without unreasonable delay"`)
	fs.BoolVar(&f.termsConsent, "terms-e-consent", false, "the controller's terms count as consent to electronic notice")
	if !add {
		fs.StringVar(&f.dkimKey, "dkim-key", "", "PEM private key file (RSA 2048-4096 or ed25519) that signs every email of the controller; stored sealed")
		fs.StringVar(&f.dkimSelector, "dkim-selector", "", "DKIM selector the key is published under (with --dkim-key)")
		fs.StringVar(&f.bounceDomain, "bounce-domain", "", `domain of the per-notice return paths, bounce+<notice>.<tag>@DOMAIN ("": the From domain)`)
	}
	if add {
		fs.BoolVar(&f.member, "member", false, "the controller is a Member institution (default: the operator)")
	}
	fs.BoolVar(&f.asJSON, "json", false, "print the controller as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if f.id == "" && len(pos) == 1 && !add {
		f.id = pos[0]
	} else if len(pos) > 0 {
		return usagef("controllers %s: unexpected argument %q", verb, pos[0])
	}
	if f.id == "" {
		return usagef("controllers %s: --id is required", verb)
	}
	mode := dbExisting
	if add {
		mode = dbCreate
	}
	st, err := a.open(ctx, mode)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	// The key file is read and checked before anything is changed.
	pemKey, err := readDKIMFlags(f, set)
	if err != nil {
		return err
	}
	postal := strings.ReplaceAll(strings.ReplaceAll(f.postal, `\n`, "\n"), ";", "\n")
	var c *incident.Controller
	if add {
		if f.name == "" || f.from == "" {
			return usagef("controllers add: --name and --from are required")
		}
		c = &incident.Controller{ID: f.id, Name: f.name, Member: f.member, From: f.from, PolicyDays: f.policyDays,
			TermsEConsent: f.termsConsent, Contact: incident.Contact{PostalAddress: postal, Phone: f.phone, Web: f.web,
				Email: f.email, DPO: f.dpo}}
		if err := st.CreateController(ctx, c); err != nil {
			return err
		}
	} else {
		var u incident.ControllerUpdate
		str := func(name string, v string) *string {
			if set[name] {
				return &v
			}
			return nil
		}
		u.Name, u.From, u.PostalAddress = str("name", f.name), str("from", f.from), str("postal-address", postal)
		u.Phone, u.Web, u.ContactEmail, u.DPO = str("phone", f.phone), str("web", f.web), str("contact-email", f.email), str("dpo", f.dpo)
		if set["policy-days"] {
			u.PolicyDays = &f.policyDays
		}
		if set["terms-e-consent"] {
			u.TermsEConsent = &f.termsConsent
		}
		if c, err = st.UpdateController(ctx, f.id, u); err != nil {
			return err
		}
	}
	if !add {
		if err := a.applyEmailFlags(ctx, c, f, set, pemKey); err != nil {
			return err
		}
	}
	if set["security-email"] {
		if err := st.SetSecurityEmail(ctx, c.ID, f.security); err != nil {
			return err
		}
	}
	if set["from"] && c.From != f.from && strings.ContainsFunc(f.from, func(r rune) bool { return r > unicode.MaxASCII }) {
		fmt.Fprintf(a.stderr, "breachnotice: sender address stored as %s (domain in A-labels, as relays and recipients see it)\n", c.From)
	}
	if f.asJSON {
		return a.printJSON(c)
	}
	fmt.Fprintf(a.stdout, "controller %s (%s) %s\n", c.ID, c.Kind(), map[bool]string{true: "added", false: "updated"}[add])
	return nil
}

func (a *app) controllersList(ctx context.Context, args []string) error {
	fs := a.flags("controllers list")
	asJSON := fs.Bool("json", false, "print as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	cs, err := st.FindControllers(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if cs == nil {
			cs = []*incident.Controller{}
		}
		return a.printJSON(cs)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tNAME\tFROM\tPOLICY DAYS\tTERMS E-CONSENT")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%v\n", c.ID, c.Kind(), c.Name, c.From, c.PolicyDays, c.TermsEConsent)
	}
	return tw.Flush()
}

// controllersShow prints every field of one controller, the fingerprint
// of its ledger signing key (as ledger key prints it) and how many
// incidents it has.
func (a *app) controllersShow(ctx context.Context, args []string) error {
	fs := a.flags("controllers show")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("controllers show: want exactly one controller ID")
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	c, err := st.FindControllerByID(ctx, pos[0])
	if err != nil {
		return err
	}
	incs, err := st.FindIncidents(ctx, incident.IncidentFilter{Controller: c.ID})
	if err != nil {
		return err
	}
	fp := ""
	vkey, err := ledger.PublicKey(ctx, a.db, c.ID)
	switch {
	case errors.Is(err, incident.ErrNotFound):
	case err != nil:
		return err
	default:
		if fp, err = ledger.Fingerprint(vkey); err != nil {
			return err
		}
	}
	es, err := notify.FindEmailSettings(ctx, st, c.ID)
	if err != nil {
		return err
	}
	accounts, err := st.CountAccounts(ctx, incident.AccountFilter{Controller: c.ID})
	if err != nil {
		return err
	}
	v := struct {
		*incident.Controller
		Kind        string               `json:"kind"`
		KeyName     string               `json:"key_name"`
		Fingerprint string               `json:"fingerprint,omitempty"`
		Accounts    int64                `json:"accounts"`
		Incidents   int                  `json:"incidents"`
		Email       notify.EmailSettings `json:"email"`
	}{c, c.Kind(), ledger.KeyName(c.ID), fp, accounts, len(incs), es}
	if *asJSON {
		return a.printJSON(v)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\n", k, v)
	}
	row("id", c.ID)
	row("name", c.Name)
	row("kind", c.Kind())
	row("member", fmt.Sprint(c.Member))
	row("from", c.From)
	row("postal address", strings.ReplaceAll(c.Contact.PostalAddress, "\n", "; "))
	row("phone", c.Contact.Phone)
	row("web", c.Contact.Web)
	row("contact email", c.Contact.Email)
	row("dpo", c.Contact.DPO)
	row("policy days", strconv.Itoa(c.PolicyDays))
	row("terms e-consent", fmt.Sprint(c.TermsEConsent))
	if es.DKIMSelector == "" {
		row("dkim", "not configured (the relay must sign; controllers update ID --dkim-key FILE --dkim-selector S)")
	} else {
		row("dkim", es.DKIMAlgorithm+" key, selector "+es.DKIMSelector+" (controllers dkim-record "+c.ID+" prints the TXT record)")
	}
	row("bounce domain", map[bool]string{true: es.BounceDomain, false: "the From domain"}[es.BounceDomain != ""])
	row("created", c.CreatedAt.UTC().Format(time.RFC3339))
	row("ledger key", ledger.KeyName(c.ID))
	if fp == "" {
		fp = "none yet"
	}
	row("fingerprint", fp)
	what := "every account"
	if c.Member {
		what = "learners enrolled in its courses"
	}
	row("accounts", fmt.Sprintf("%d (%s: accounts list --controller %s)", accounts, what, c.ID))
	row("incidents", strconv.Itoa(len(incs)))
	return tw.Flush()
}
