package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"strings"
)

// Return paths (VERP): each notice is sent with its own envelope sender,
//
//	bounce+<notice-id>.<tag>@<bounce domain>
//
// so that a bounce names the notice even when the returned copy is
// truncated. The tag is the first 80 bits of HMAC-SHA256 over the notice
// id, keyed by a per-controller key derived from the database secret, in
// lower-case base32: nobody without the secret can make a return path that
// parses as another notice's. Lower case, because some systems fold the
// local part.

var verpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func verpTag(key []byte, noticeID int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("notice " + strconv.FormatInt(noticeID, 10)))
	return strings.ToLower(verpEncoding.EncodeToString(m.Sum(nil)[:10]))
}

// ReturnPath is the envelope sender of a notice.
func ReturnPath(key []byte, noticeID int64, domain string) string {
	return "bounce+" + NoticeRef(key, noticeID) + "@" + domain
}

// NoticeRef is a notice's reference, "<notice id>.<tag>": the local part
// of its return path after "bounce+", which sending services carry in
// their metadata headers (Message.Ref).
func NoticeRef(key []byte, noticeID int64) string {
	return strconv.FormatInt(noticeID, 10) + "." + verpTag(key, noticeID)
}

// ParseReturnPath reads the notice id and tag out of a return path
// (angle brackets and case are ignored). It does not check the tag: see
// CheckReturnPath.
func ParseReturnPath(addr string) (noticeID int64, tag string, ok bool) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "<"), ">")
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return 0, "", false
	}
	local, found := strings.CutPrefix(addr[:at], "bounce+")
	if !found {
		return 0, "", false
	}
	idText, tag, found := strings.Cut(local, ".")
	if !found || tag == "" || len(idText) == 0 || len(idText) > 18 {
		return 0, "", false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != idText {
		return 0, "", false
	}
	return id, tag, true
}

// CheckReturnPath reports whether addr is the return path of noticeID
// under key: the tag must be the HMAC of that notice.
func CheckReturnPath(key []byte, addr string) (int64, bool) {
	id, tag, ok := ParseReturnPath(addr)
	if !ok {
		return 0, false
	}
	return id, hmac.Equal([]byte(tag), []byte(verpTag(key, id)))
}
