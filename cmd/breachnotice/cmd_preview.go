package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/letter"
)

// incidentPreview writes one sample notice per content profile, language
// and protection offer of the plan into a folder, for review before
// incident send: the email as .eml, .txt and .html, the letter as .pdf. The
// samples are addressed to a placeholder person (notify.SampleName);
// nothing in the database changes.
func (a *app) incidentPreview(ctx context.Context, args []string) error {
	fs := a.flags("incident preview")
	out := fs.String("out", "", "folder to write the samples to (default ./preview-ID)")
	channel := fs.String("channel", "all", "email, letter or all")
	asJSON := fs.Bool("json", false, "print what was written as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident preview", pos)
	if err != nil {
		return err
	}
	if err := oneOf("incident preview", "--channel", *channel, "email", "letter", "all"); err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = "preview-" + strconv.FormatInt(id, 10)
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	type written struct {
		*notify.Sample
		Files []string `json:"files"`
	}
	var all []written
	err = notify.Preview(ctx, st, id, notify.PreviewOptions{Channel: *channel, Now: a.now}, func(s *notify.Sample) error {
		if len(all) == 0 {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return fmt.Errorf("incident preview: %w", err)
			}
		}
		base := s.Profile + "." + s.Lang
		if s.ProtectionMonths > 0 {
			base += fmt.Sprintf(".protection-%dmo", s.ProtectionMonths)
		}
		w := written{Sample: s}
		write := func(ext string, fill func(f *os.File) error) error {
			name := filepath.Join(dir, base+ext)
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
			if err != nil {
				return fmt.Errorf("incident preview: %w", err)
			}
			if err := fill(f); err != nil {
				f.Close()
				return fmt.Errorf("incident preview: %s: %w", name, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("incident preview: %w", err)
			}
			w.Files = append(w.Files, name)
			return nil
		}
		if m := s.Email; m != nil {
			for _, part := range []struct {
				ext  string
				fill func(f *os.File) error
			}{
				{".eml", func(f *os.File) error { return email.WriteMessage(f, m, a.now()) }},
				{".txt", func(f *os.File) error { _, err := fmt.Fprintf(f, "Subject: %s\n\n%s", m.Subject, m.Text); return err }},
				{".html", func(f *os.File) error { _, err := f.WriteString(m.HTML); return err }},
			} {
				if err := write(part.ext, part.fill); err != nil {
					return err
				}
			}
		}
		if s.Letter {
			to := letter.Address{Name: notify.SampleName, Lines: []string{"1 Sample Street"}, City: "Sample City", PostalCode: "00000",
				Region: s.Region, Country: s.Country}
			opt := letter.Options{Sender: s.Controller.Name, ReturnAddress: s.Controller.Contact.PostalAddress, LetterID: "PREVIEW"}
			if err := write(".pdf", func(f *os.File) error { _, err := letter.Render(f, s.Notice, to, opt); return err }); err != nil {
				return err
			}
		}
		all = append(all, w)
		return nil
	})
	if err != nil {
		return err
	}
	if *asJSON {
		if all == nil {
			all = []written{}
		}
		return a.printJSON(all)
	}
	if len(all) == 0 {
		fmt.Fprintf(a.stdout, "incident %d: no one is owed a notice by %s: nothing to preview\n", id, *channel)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tLANG\tPROTECTION\tPEOPLE\tJURISDICTIONS\tFILES")
	for _, w := range all {
		prot := "-"
		if w.ProtectionMonths > 0 {
			prot = fmt.Sprintf("%d mo", w.ProtectionMonths)
		}
		files := make([]string, len(w.Files))
		for i, f := range w.Files {
			files[i] = filepath.Base(f)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", w.Profile, w.Lang, prot, w.People, jurisdictionList(w.Jurisdictions, 6), strings.Join(files, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d samples in %s, addressed to %q: review them before incident send %d (nothing was sent or recorded)\n",
		len(all), dir, notify.SampleName, id)
	return nil
}

// jurisdictionList joins codes, showing at most n and how many more.
func jurisdictionList(codes []string, n int) string {
	if len(codes) <= n {
		return strings.Join(codes, ",")
	}
	return strings.Join(codes[:n], ",") + fmt.Sprintf(",… (+%d)", len(codes)-n)
}
