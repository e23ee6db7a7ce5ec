// Package bounce reads the mail that comes back after a notice was sent:
// delivery status notifications (RFC 3464) and the common non-standard
// bounce forms (qmail, Exim and Gmail text bounces, Exchange and SES
// reports, truncated copies), delayed-delivery warnings, and auto-replies.
// It parses; matching a report to a notice and acting on it is
// notify.ImportBounces.
//
// Parse never guesses a notice: it reports what the message says (the
// recipients and their status, the VERP return paths and Message-IDs it
// carries) and leaves matching to the caller.
package bounce

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"regexp"
	"strings"
	"time"
)

// Kind is what a returned message is.
type Kind string

// Kinds of message: a delivery failure (permanent or temporary per
// recipient), a delayed-delivery warning (not a bounce: delivery is still
// being tried), an auto-reply or out-of-office answer, or anything else.
const (
	KindFailure   Kind = "failure"
	KindDelay     Kind = "delay"
	KindAutoReply Kind = "auto-reply"
	KindUnknown   Kind = "unknown"
)

// Recipient is one recipient's outcome in a report.
type Recipient struct {
	Address    string `json:"address,omitempty"`
	Action     string `json:"action,omitempty"` // failed, delayed, delivered, relayed, expanded
	Status     string `json:"status"`           // RFC 3463 code, e.g. 5.1.1
	Diagnostic string `json:"diagnostic,omitempty"`
}

// Permanent reports whether the status is a permanent failure (5.x.x).
func (r Recipient) Permanent() bool { return strings.HasPrefix(r.Status, "5.") }

// Report is what Parse found in one message.
type Report struct {
	Kind       Kind
	Recipients []Recipient
	// Arrival is when the report says the message arrived (Arrival-Date),
	// else the report's Date; zero when neither parses.
	Arrival time.Time
	// ReturnPaths are the bounce+...@ addresses the message names (its
	// To, the returned copy's Return-Path, anywhere): VERP candidates,
	// unchecked.
	ReturnPaths []string
	// MessageIDs are the Message-IDs of the returned copy (not of the
	// report itself).
	MessageIDs []string
	// SHA256 is the hex SHA-256 of the whole message as read.
	SHA256 string
	// Structured says the recipients came from a message/delivery-status
	// part (RFC 3464), not from free text.
	Structured bool
}

// Failed returns the recipient the report is about: the first failed one
// (permanent before temporary), else nil.
func (r *Report) Failed() *Recipient {
	var temp *Recipient
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		if rc.Action != "" && rc.Action != "failed" {
			continue
		}
		if rc.Permanent() {
			return rc
		}
		if temp == nil && strings.HasPrefix(rc.Status, "4.") {
			temp = rc
		}
	}
	return temp
}

var (
	verpRE         = regexp.MustCompile(`(?i)bounce\+[0-9]{1,18}\.[a-z2-7]{1,32}@[a-z0-9.-]+[a-z0-9]`)
	msgIDRE        = regexp.MustCompile(`(?im)^message-id:[ \t]*(<[^<>\s]+>)`)
	statusRE       = regexp.MustCompile(`\b([245])\.([0-9]{1,3})\.([0-9]{1,3})\b`)
	smtpCodeRE     = regexp.MustCompile(`(?m)(?:^|[\s:(])([45][0-9][0-9])[ -]`)
	addrRE         = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)
	bounceSubj     = regexp.MustCompile(`(?i)undeliver|undelivered|delivery status notification \(failure\)|delivery has failed|mail delivery failed|failure notice|returned mail|delivery failure|could not be delivered|non.?delivery|nicht zustellbar|unzustellbar`)
	delaySubj      = regexp.MustCompile(`(?i)delayed mail|delivery status notification \(delay\)|delivery delayed|warning: message .* delayed|message delayed|still being retried|has not yet been delivered`)
	autoSubj       = regexp.MustCompile(`(?i)^(auto(matic)?[ -]?(reply|response|antwort)|auto:|out of (the )?office|abwesen|r[ée]ponse automatique|respuesta autom[áa]tica|vacation|away from)`)
	permanentWords = regexp.MustCompile(`(?i)user unknown|no such user|does not exist|mailbox unavailable|permanent|address rejected|account.*disabled`)
	delayWords     = regexp.MustCompile(`(?i)will (be )?retr|still trying|delayed|not yet been delivered`)
	daemonFrom     = regexp.MustCompile(`(?i)mailer-daemon|postmaster|mail delivery (subsystem|system)|microsoftexchange`)
)

// maxPart bounds how much of one MIME part is read.
const maxPart = 1 << 20

// Parse reads one message. It fails only when the message has no header
// at all; anything it cannot read is Kind unknown.
func Parse(raw []byte) (*Report, error) {
	sum := sha256.Sum256(raw)
	rep := &Report{Kind: KindUnknown, SHA256: hex.EncodeToString(sum[:])}
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return rep, err
	}
	h := m.Header
	if d, err := h.Date(); err == nil {
		rep.Arrival = d.UTC()
	}
	body, _ := io.ReadAll(io.LimitReader(m.Body, 8<<20))
	rep.ReturnPaths = uniq(verpRE.FindAllString(string(raw), 8))
	for _, mm := range msgIDRE.FindAllSubmatch(body, 8) {
		rep.MessageIDs = append(rep.MessageIDs, string(mm[1]))
	}
	rep.MessageIDs = uniq(rep.MessageIDs)

	// 1. A delivery status notification.
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	var text strings.Builder
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		walk(bytes.NewReader(body), params["boundary"], rep, &text, 0)
	} else {
		text.Write(decode(body, h.Get("Content-Transfer-Encoding")))
	}
	if rep.Structured && len(rep.Recipients) > 0 {
		rep.Kind = classify(rep.Recipients)
		return rep, nil
	}

	// 2. An auto-reply (RFC 3834 Auto-Submitted, the vendors' headers, the
	// usual subjects), unless it comes from a mail system.
	subject := decodeHeader(h.Get("Subject"))
	from := h.Get("From")
	fromDaemon := daemonFrom.MatchString(from)
	auto := strings.HasPrefix(strings.ToLower(h.Get("Auto-Submitted")), "auto-replied") ||
		h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || strings.EqualFold(h.Get("Precedence"), "auto_reply") ||
		autoSubj.MatchString(subject)
	if auto && !fromDaemon && !bounceSubj.MatchString(subject) {
		rep.Kind = KindAutoReply
		return rep, nil
	}

	// 3. A free-text bounce or delay warning from a mail system.
	t := text.String()
	switch {
	case delaySubj.MatchString(subject):
		rep.Kind = KindDelay
		return rep, nil
	case bounceSubj.MatchString(subject) || fromDaemon:
	default:
		return rep, nil
	}
	rc := Recipient{Action: "failed"}
	if s := statusRE.FindString(t); s != "" {
		rc.Status = s
	} else if c := smtpCodeRE.FindStringSubmatch(t); c != nil {
		rc.Status = c[1][:1] + ".0.0"
	} else if fromDaemon || bounceSubj.MatchString(subject) {
		// A mail system says it could not deliver, and gives no code:
		// qmail's "Sorry, I wasn't able to establish an SMTP connection" or
		// a bare "user unknown". Treated as permanent only with one of the
		// usual words.
		if permanentWords.MatchString(t) {
			rc.Status = "5.0.0"
		}
	}
	if rc.Status == "" {
		return rep, nil
	}
	rc.Diagnostic = diagnosticLine(t, rc.Status)
	rc.Address = failedAddress(t, rep.ReturnPaths)
	rep.Recipients = []Recipient{rc}
	rep.Kind = KindFailure
	if strings.HasPrefix(rc.Status, "4.") && delayWords.MatchString(t) {
		rep.Kind = KindDelay
	}
	return rep, nil
}

// classify names a structured report by its recipients: a failure if any
// failed, a delay if any is delayed, else unknown (a success report).
func classify(rs []Recipient) Kind {
	k := KindUnknown
	for _, r := range rs {
		switch {
		case r.Action == "failed" || r.Action == "" && (r.Permanent() || strings.HasPrefix(r.Status, "4.")):
			return KindFailure
		case r.Action == "delayed":
			k = KindDelay
		}
	}
	return k
}

// walk reads a multipart body: delivery-status parts into rep, text parts
// into text, returned headers into rep.MessageIDs (already found by the
// regular expression over the body). A truncated body ends the walk
// quietly with what was read.
func walk(r io.Reader, boundary string, rep *Report, text *strings.Builder, depth int) {
	if depth > 5 {
		return
	}
	mr := multipart.NewReader(r, boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return
		}
		mt, params, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		data, _ := io.ReadAll(io.LimitReader(p, maxPart))
		switch {
		case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "":
			walk(bytes.NewReader(data), params["boundary"], rep, text, depth+1)
		case mt == "message/delivery-status" || mt == "message/global-delivery-status":
			parseStatus(decode(data, p.Header.Get("Content-Transfer-Encoding")), rep)
		case mt == "text/plain" || mt == "":
			if text.Len() < maxPart {
				text.Write(decode(data, p.Header.Get("Content-Transfer-Encoding")))
				text.WriteByte('\n')
			}
		}
	}
}

// parseStatus reads the fields of a message/delivery-status body: the
// per-message block, then one block per recipient.
func parseStatus(data []byte, rep *Report) {
	blocks := fieldBlocks(data)
	for i, b := range blocks {
		if i == 0 {
			if d, err := netmail.ParseDate(b["arrival-date"]); err == nil {
				rep.Arrival = d.UTC()
			}
			if b["final-recipient"] == "" && b["original-recipient"] == "" {
				continue
			}
		}
		addr := typedValue(b["final-recipient"])
		if addr == "" {
			addr = typedValue(b["original-recipient"])
		}
		status := statusRE.FindString(b["status"])
		if addr == "" && status == "" {
			continue
		}
		diag := typedValue(b["diagnostic-code"])
		if status == "" {
			// RFC 3464 requires Status; some reports put it only in the
			// diagnostic.
			status = statusRE.FindString(diag)
		}
		rep.Recipients = append(rep.Recipients, Recipient{
			Address:    strings.ToLower(strings.Trim(addr, "<> ")),
			Action:     strings.ToLower(strings.TrimSpace(b["action"])),
			Status:     status,
			Diagnostic: oneLine(diag),
		})
		rep.Structured = true
	}
}

// fieldBlocks splits header-like fields into blank-line separated blocks,
// unfolding continuation lines; names are lower-cased.
func fieldBlocks(data []byte) []map[string]string {
	var blocks []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), maxPart)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur, last = map[string]string{}, ""
			}
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			cur[last] += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.ToLower(strings.TrimSpace(name))
		if _, dup := cur[last]; !dup {
			cur[last] = strings.TrimSpace(value)
		}
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

// typedValue drops the address or diagnostic type ("rfc822;", "smtp;").
func typedValue(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(t, " @<") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

// diagnosticLine is the line of text that holds the status, trimmed.
func diagnosticLine(t, status string) string {
	i := strings.Index(t, status)
	if i < 0 {
		return ""
	}
	start := strings.LastIndexByte(t[:i], '\n') + 1
	end := strings.IndexByte(t[i:], '\n')
	if end < 0 {
		end = len(t) - i
	}
	return oneLine(t[start : i+end])
}

// failedAddress is the first address in the text that is not a return
// path or a mail system's own.
func failedAddress(t string, returnPaths []string) string {
	for _, a := range addrRE.FindAllString(t, 32) {
		la := strings.ToLower(a)
		if verpRE.MatchString(la) || strings.HasPrefix(la, "mailer-daemon@") || strings.HasPrefix(la, "postmaster@") {
			continue
		}
		return la
	}
	return ""
}

func decode(data []byte, cte string) []byte {
	if strings.EqualFold(strings.TrimSpace(cte), "quoted-printable") {
		if b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data))); err == nil {
			return b
		}
	}
	return data
}

func decodeHeader(s string) string {
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

func uniq(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		k := strings.ToLower(s)
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}
