package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/breachnotice/breachnotice/notify/banner"
	"github.com/breachnotice/breachnotice/templates"
)

// The public routes: no login, no cookies, no personal data. Everything
// they serve comes from the banner snapshot, built in advance.
func (s *server) mountPublic(mux *http.ServeMux) {
	js := docOf(templates.BannerScript())
	mux.HandleFunc("GET /banner.json", s.handleBannerJSON)
	mux.HandleFunc("GET /banner.js", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		serveDoc(w, r, js)
	})
	mux.HandleFunc("GET /notices/{controller}/{incident}", s.handleNotice)
	mux.HandleFunc("GET /notices/{controller}", s.handleNoticeList)
	// Any other GET gets the same plain 404 as an unpublished notice.
	mux.HandleFunc("GET /", s.handleNotFound)
}

// docOf wraps bytes served as they are.
func docOf(b []byte) banner.Doc {
	sum := sha256.Sum256(b)
	return banner.Doc{Body: b, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// serveDoc writes d, or 304 Not Modified when the request already holds
// it (If-None-Match).
func serveDoc(w http.ResponseWriter, r *http.Request, d banner.Doc) {
	h := w.Header()
	h.Set("ETag", d.ETag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, d.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(d.Body)))
	w.Write(d.Body)
}

// etagMatch reports whether an If-None-Match header lists etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// handleBannerJSON serves the live banners of ?controller= (the operator
// by default), open to every origin.
func (s *server) handleBannerJSON(w http.ResponseWriter, r *http.Request) {
	d := s.snapshot().BannerJSON(r.URL.Query().Get("controller"))
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("X-Content-Type-Options", "nosniff")
	serveDoc(w, r, d)
}

// publicPageHeaders are the headers of every public HTML or text page: a
// strict CSP (the pages have no script; their one stylesheet is inline),
// no referrer, no framing.
func publicPageHeaders(h http.Header, contentType, lang string) {
	h.Set("Content-Type", contentType)
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept-Language")
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
}

// lang picks the page language: ?lang=, then Accept-Language.
func pageLang(r *http.Request) string {
	return templates.PickLang(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
}

// handleNotice serves a published incident's public notice page, HTML or
// (INCIDENT.txt) plain text. Anything else is the same plain 404.
func (s *server) handleNotice(w http.ResponseWriter, r *http.Request) {
	raw, txt := strings.CutSuffix(r.PathValue("incident"), ".txt")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != raw {
		s.handleNotFound(w, r)
		return
	}
	p, ok := s.snapshot().Notice(r.PathValue("controller"), id)
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	lang := pageLang(r)
	docs, ct := p.HTML, "text/html; charset=utf-8"
	if txt {
		docs, ct = p.Text, "text/plain; charset=utf-8"
	}
	d, ok := docs[lang]
	if !ok {
		d, lang = docs[templates.DefaultLang], templates.DefaultLang
	}
	publicPageHeaders(w.Header(), ct, lang)
	serveDoc(w, r, d)
}

// handleNoticeList lists a controller's published notices.
func (s *server) handleNoticeList(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	d, ok := s.snapshot().List(r.PathValue("controller"), lang)
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	publicPageHeaders(w.Header(), "text/html; charset=utf-8", lang)
	serveDoc(w, r, d)
}

// handleNotFound is the one not-found page of the public routes: it says
// nothing of what does or does not exist.
func (s *server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	h := w.Header()
	publicPageHeaders(h, "text/html; charset=utf-8", lang)
	h.Set("Cache-Control", "no-store")
	body := s.snapshot().NotFound(lang)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusNotFound)
	w.Write(body)
}
