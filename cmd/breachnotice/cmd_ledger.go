package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

func (a *app) cmdLedger(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("ledger: want checkpoint, export, verify, prove, list or key")
	}
	switch args[0] {
	case "checkpoint":
		return a.ledgerCheckpoint(ctx, args[1:])
	case "export":
		return a.ledgerExport(ctx, args[1:])
	case "verify":
		return a.ledgerVerify(ctx, args[1:])
	case "prove":
		return a.ledgerProve(ctx, args[1:])
	case "list":
		return a.ledgerList(ctx, args[1:])
	case "key":
		return a.ledgerKey(ctx, args[1:])
	}
	return usagef("ledger: unknown sub-command %q (checkpoint, export, verify, prove, list, key)", args[0])
}

// controllerIDs returns the controller given, or every controller the actor
// may see.
func (a *app) controllerIDs(ctx context.Context, st *incident.Store, given string) ([]string, error) {
	if given != "" {
		if _, err := st.FindControllerByID(ctx, given); err != nil {
			return nil, err
		}
		return []string{given}, nil
	}
	cs, err := st.FindControllers(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids, nil
}

func (a *app) ledgerCheckpoint(ctx context.Context, args []string) error {
	fs := a.flags("ledger checkpoint")
	controller := fs.String("controller", "", "controller whose log to sign (default: every controller)")
	asJSON := fs.Bool("json", false, "print the checkpoints as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	ids, err := a.controllerIDs(ctx, st, *controller)
	if err != nil {
		return err
	}
	var cps []ledger.Checkpoint
	for _, id := range ids {
		cp, err := notify.SignCheckpoint(ctx, st, a.ledger, id)
		if err != nil {
			return err
		}
		cps = append(cps, cp)
		if !*asJSON {
			fmt.Fprintf(a.stdout, "%s: signed tree of size %d, root %s\n", id, cp.Size, cp.Root)
		}
	}
	if *asJSON {
		return a.printJSON(cps)
	}
	return nil
}

func (a *app) ledgerExport(ctx context.Context, args []string) error {
	fs := a.flags("ledger export")
	controller := fs.String("controller", "", "controller whose log to export (required)")
	incidentID := fs.Int64("incident", 0, "only this incident's entries (they still verify against the whole signed tree)")
	out := fs.String("out", "", "zip file to write (required)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *controller == "" || *out == "" {
		return usagef("ledger export: --controller and --out are required")
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	sum, err := notify.ExportProof(ctx, st, a.ledger, ledger.ExportOptions{Controller: *controller, Incident: *incidentID,
		Out: *out, Attach: banner.Archive{Q: a.db}})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s: %d entries of %s's log (tree size %d, root %s)\n", *out, sum.Entries, sum.Controller, sum.TreeSize, sum.Root)
	return nil
}

// ledgerVerify checks a bundle offline: it needs nothing but the zip, and
// never opens (or creates) a database.
func (a *app) ledgerVerify(ctx context.Context, args []string) error {
	fs := a.flags("ledger verify")
	key := fs.String("key", "", "the controller's public key: its text (as ledger key prints it), a file holding it, or its fingerprint SHA256:...")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	var notices []string
	fs.Func("notice", "a notice `FILE` (a saved email .eml, a letter's PDF) to find in the bundle by its SHA-256; repeatable", func(s string) error {
		notices = append(notices, s)
		return nil
	})
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("ledger verify: want exactly one FILE.zip")
	}
	pinned := *key
	if pinned != "" && !strings.Contains(pinned, "+") && !strings.HasPrefix(pinned, "SHA256:") {
		b, err := os.ReadFile(pinned)
		if err != nil {
			return fmt.Errorf("--key: %w", err)
		}
		pinned = strings.TrimSpace(string(b))
		if pinned == "" {
			return fmt.Errorf("--key %s: %w: empty file", *key, incident.ErrInvalid)
		}
	}
	sum, err := ledger.Verify(ctx, pos[0], pinned)
	if err != nil {
		return fmt.Errorf("verify %s: %w", filepath.Base(pos[0]), err)
	}
	fp, err := ledger.Fingerprint(sum.PublicKey)
	if err != nil {
		return fmt.Errorf("verify %s: %w", filepath.Base(pos[0]), err)
	}
	res := verifyResult{Summary: sum, Fingerprint: fp, FingerprintFormat: ledger.FingerprintFormat, KeyPinned: pinned != ""}
	var missing []string
	if len(notices) > 0 {
		if res.Notices, missing, err = findNotices(ctx, pos[0], notices); err != nil {
			return err
		}
	}
	var warning []string
	if !res.KeyPinned {
		warning = []string{
			"no --key given: only the bundle's self-consistency was checked, not who signed it.",
			fmt.Sprintf("Anyone can make a fresh key named %s and sign a consistent bundle with it.", sum.KeyName),
			fmt.Sprintf("Compare the fingerprint with the one %s publishes (breachnotice ledger key --controller %s),", sum.Controller, sum.Controller),
			fmt.Sprintf("or pin it: breachnotice ledger verify --key %s FILE.zip", fp),
		}
		res.Warning = strings.Join(warning, " ")
	}
	if *asJSON {
		if err := a.printJSON(res); err != nil {
			return err
		}
		return notRecorded(missing)
	}
	fmt.Fprintln(a.stdout, sum)
	pin := "key not pinned"
	if res.KeyPinned {
		pin = "key matches --key"
	}
	fmt.Fprintf(a.stdout, "signer: %s, fingerprint %s (%s); %s\n", sum.KeyName, fp, ledger.FingerprintFormat, pin)
	if len(warning) > 0 {
		fmt.Fprintf(a.stdout, "WARNING: %s\n", strings.Join(warning, "\n  "))
	}
	for _, n := range res.Notices {
		for _, r := range n.Recorded {
			e := r.Entry
			how := "as delivered"
			switch {
			case r.Stripped > 0 && r.CRLF:
				how = fmt.Sprintf("once %s added in transit %s removed and line ends made CRLF", headerLines(r.Stripped), isAre(r.Stripped))
			case r.Stripped > 0:
				how = fmt.Sprintf("once %s added in transit %s removed", headerLines(r.Stripped), isAre(r.Stripped))
			case r.CRLF:
				how = "once line ends are made CRLF"
			}
			fmt.Fprintf(a.stdout, "notice %s: SHA-256 %s recorded by entry %d (%s at %s, incident %d, account %s, notice %d), %s\n",
				n.File, r.SHA256, e.Index, e.Kind, e.At.UTC().Format(time.RFC3339), e.Incident, e.Account, e.Notice, how)
		}
	}
	return notRecorded(missing)
}

func headerLines(n int) string {
	if n == 1 {
		return "the header line"
	}
	return "the " + strconv.Itoa(n) + " header lines"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// noticeResult is what ledger verify --notice found of one file.
type noticeResult struct {
	File     string            `json:"file"`
	SHA256   string            `json:"sha256"`
	Recorded []ledger.Recorded `json:"recorded"`
}

// findNotices looks up each notice file in the verified bundle and
// returns what it found, and the files no entry records.
func findNotices(ctx context.Context, bundle string, files []string) ([]noticeResult, []string, error) {
	data := make([][]byte, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("--notice: %w", err)
		}
		data[i] = b
	}
	found, err := ledger.FindRecorded(ctx, bundle, data)
	if err != nil {
		return nil, nil, fmt.Errorf("verify %s: %w", filepath.Base(bundle), err)
	}
	var out []noticeResult
	var missing []string
	for i, f := range files {
		sum := sha256.Sum256(data[i])
		out = append(out, noticeResult{File: f, SHA256: hex.EncodeToString(sum[:]), Recorded: found[i]})
		if len(found[i]) == 0 {
			missing = append(missing, fmt.Sprintf("%s (SHA-256 %x)", f, sum))
		}
	}
	return out, missing, nil
}

// notRecorded is the error for notice files no entry of the bundle
// records, or nil.
func notRecorded(missing []string) error {
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: no entry of the bundle records %s: the bundle itself verifies, but not as holding this notice (is it another controller's or incident's bundle, or was the file changed?)",
		ledger.ErrNotRecorded, strings.Join(missing, ", "))
}

// verifyResult is what ledger verify reports: the bundle's summary, the
// signer's key fingerprint, and whether that key was pinned.
type verifyResult struct {
	ledger.Summary
	Fingerprint       string `json:"fingerprint"`
	FingerprintFormat string `json:"fingerprint_format"`
	KeyPinned         bool   `json:"key_pinned"`
	Warning           string `json:"warning,omitempty"`
	// Notices are the --notice files and the entries recording them.
	Notices []noticeResult `json:"notices,omitempty"`
}

// ledgerKey prints a controller's public key and its fingerprint: what the
// controller publishes so that anyone can pin it in ledger verify.
func (a *app) ledgerKey(ctx context.Context, args []string) error {
	fs := a.flags("ledger key")
	controller := fs.String("controller", "", "controller whose public key to print (required)")
	asJSON := fs.Bool("json", false, "print the key as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *controller == "" {
		return usagef("ledger key: --controller is required")
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	if _, err := st.FindControllerByID(ctx, *controller); err != nil {
		return fmt.Errorf("ledger key: %w", err)
	}
	vkey, err := ledger.PublicKey(ctx, a.db, *controller)
	if err != nil {
		return err
	}
	fp, err := ledger.Fingerprint(vkey)
	if err != nil {
		return err
	}
	k := struct {
		Controller        string `json:"controller"`
		KeyName           string `json:"key_name"`
		PublicKey         string `json:"public_key"`
		Fingerprint       string `json:"fingerprint"`
		FingerprintFormat string `json:"fingerprint_format"`
	}{*controller, ledger.KeyName(*controller), vkey, fp, ledger.FingerprintFormat}
	if *asJSON {
		return a.printJSON(k)
	}
	fmt.Fprintf(a.stdout, "controller:  %s\nkey name:    %s\npublic key:  %s\nfingerprint: %s\n", k.Controller, k.KeyName, k.PublicKey, k.Fingerprint)
	fmt.Fprintf(a.stdout, "             (%s)\n", ledger.FingerprintFormat)
	fmt.Fprintf(a.stdout, "Publish the public key or the fingerprint; anyone can then check a bundle is %s's with\n"+
		"  breachnotice ledger verify --key %s FILE.zip\n", k.Controller, k.Fingerprint)
	return nil
}

func (a *app) ledgerProve(ctx context.Context, args []string) error {
	fs := a.flags("ledger prove")
	controller := fs.String("controller", "", "controller whose log holds the learner's entries (required)")
	account := fs.String("account", "", "the learner's account id (required)")
	out := fs.String("out", "", "zip file to write (default: proof-CONTROLLER-ACCOUNT.zip)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *controller == "" || *account == "" {
		return usagef("ledger prove: --controller and --account are required")
	}
	if *out == "" {
		*out = fmt.Sprintf("proof-%s-%s.zip", *controller, strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' || r < 0x20 {
				return '_'
			}
			return r
		}, *account))
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	// The proof names the learner and what they were sent: it is written
	// 0600, complete or not at all.
	sum, err := notify.ProveAccount(ctx, st, a.ledger, *controller, *account, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s: %d entries for account %s, provable against %s's signed tree of size %d\n",
		*out, sum.Entries, *account, sum.Controller, sum.TreeSize)
	return nil
}

func (a *app) ledgerList(ctx context.Context, args []string) error {
	fs := a.flags("ledger list")
	controller := fs.String("controller", "", "controller whose log to list (required)")
	incidentID := fs.Int64("incident", 0, "only this incident's entries")
	account := fs.String("account", "", "only this account's entries")
	asJSON := fs.Bool("jsonl", false, "print entries as JSON lines (their canonical encoding)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *controller == "" {
		return usagef("ledger list: --controller is required")
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	if _, err := st.FindControllerByID(ctx, *controller); err != nil {
		return err
	}
	w := bufio.NewWriter(a.stdout)
	defer w.Flush()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "INDEX\tAT\tKIND\tINCIDENT\tACCOUNT\tCHANNEL\tDETAIL")
	}
	err = ledger.FindEntries(ctx, a.db, ledger.EntryFilter{Controller: *controller, Incident: *incidentID, Account: *account},
		func(e ledger.Entry) error {
			if *asJSON {
				_, err := w.Write(append(e.Canonical(), '\n'))
				return err
			}
			inc := ""
			if e.Incident != 0 {
				inc = strconv.FormatInt(e.Incident, 10)
			}
			detail := string(e.Detail)
			if e.PossibleDuplicate {
				detail = "POSSIBLE DUPLICATE " + detail
			}
			_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Index, e.At.Format("2006-01-02 15:04:05"), e.Kind, inc, e.Account, e.Channel, short(detail, 80))
			return err
		})
	if err != nil {
		return err
	}
	if !*asJSON {
		return tw.Flush()
	}
	return nil
}
