package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
)

// Attachment is a file a bundle carries beside the entries: bytes whose
// SHA-256 an entry's detail records, such as a banner revision's public
// notice page exactly as it was posted.
type Attachment struct {
	Name string // as BannerFile names it
	Body []byte
}

// Attacher supplies the attachments an entry's detail names
// (Entry.Attachments); notify/banner implements it over its revisions.
// Export calls it once per such entry, after the entries are written.
type Attacher interface {
	Attachments(ctx context.Context, e Entry) ([]Attachment, error)
}

// maxAttachments bounds the attachments of one bundle (5 files per banner
// revision in two languages: some 800 revisions).
const maxAttachments = 4000

// BannerFile names a banner revision's bytes in a bundle: its /banner.json
// object ("banner-I-rR.json") when page is "", else its public notice page
// in page's language and format ("banner-I-rR-en.html").
func BannerFile(incidentID, revision int64, page string) string {
	if page == "" {
		return fmt.Sprintf("banner-%d-r%d.json", incidentID, revision)
	}
	return fmt.Sprintf("banner-%d-r%d-%s", incidentID, revision, page)
}

// bannerPage is a page key of a banner entry's detail: LANG.FORMAT.
var bannerPage = regexp.MustCompile(`^[a-z]{2,3}\.(html|txt)$`)

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Attachments returns the bundle files the entry's detail names, by name,
// with the SHA-256 (hex) each must have. A banner entry (banner_published,
// banner_updated, banner_withdrawn) names its revision's /banner.json object
// (banner_sha256) and its public notice pages ("pages": {"en.html": sum});
// other kinds name none.
func (e *Entry) Attachments() (map[string]string, error) {
	switch e.Kind {
	case KindBannerPublished, KindBannerUpdated, KindBannerWithdrawn:
	default:
		return nil, nil
	}
	var d struct {
		Revision     int64             `json:"revision"`
		BannerSHA256 string            `json:"banner_sha256"`
		Pages        map[string]string `json:"pages"`
	}
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		return nil, fmt.Errorf("%s detail: %v", e.Kind, err)
	}
	if d.Revision <= 0 || e.Incident <= 0 || !hexSHA256.MatchString(d.BannerSHA256) || len(d.Pages) == 0 {
		return nil, fmt.Errorf("%s detail names no revision, banner_sha256 and pages", e.Kind)
	}
	out := map[string]string{BannerFile(e.Incident, d.Revision, ""): d.BannerSHA256}
	for page, sum := range d.Pages {
		if !bannerPage.MatchString(page) || !hexSHA256.MatchString(sum) {
			return nil, fmt.Errorf("%s detail: page %q: want LANG.html or LANG.txt and a hex SHA-256", e.Kind, page)
		}
		out[BannerFile(e.Incident, d.Revision, page)] = sum
	}
	return out, nil
}

// attachmentsWanted collects what the exported entries' details name.
type attachmentsWanted struct {
	entries []Entry
	n       int
}

func (a *attachmentsWanted) add(e *Entry) error {
	want, err := e.Attachments()
	if err != nil {
		return fmt.Errorf("entry %d: %w", e.Index, err)
	}
	if len(want) == 0 {
		return nil
	}
	a.n += len(want)
	if a.n > maxAttachments {
		return fmt.Errorf("the entries name more than %d files to attach: export one incident at a time", maxAttachments)
	}
	a.entries = append(a.entries, *e)
	return nil
}

// write asks at for each collected entry's attachments, checks them
// against the entry's detail and writes them to the bundle.
func (a *attachmentsWanted) write(ctx context.Context, at Attacher, b *bundleWriter) error {
	if len(a.entries) == 0 {
		return nil
	}
	if at == nil {
		return fmt.Errorf("entry %d (%s) records bytes the bundle must carry, and the export has no Attacher", a.entries[0].Index, a.entries[0].Kind)
	}
	written := map[string]string{}
	for i := range a.entries {
		e := &a.entries[i]
		want, _ := e.Attachments() // checked by add
		got, err := at.Attachments(ctx, *e)
		if err != nil {
			return fmt.Errorf("entry %d (%s): %w", e.Index, e.Kind, err)
		}
		sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
		for _, f := range got {
			sum, ok := want[f.Name]
			if !ok {
				return fmt.Errorf("entry %d (%s): %s is not a file its detail names", e.Index, e.Kind, f.Name)
			}
			if s := sha256.Sum256(f.Body); hex.EncodeToString(s[:]) != sum {
				return fmt.Errorf("entry %d (%s): the stored %s is not the bytes the entry recorded", e.Index, e.Kind, f.Name)
			}
			delete(want, f.Name)
			if prev, ok := written[f.Name]; ok {
				if prev != sum {
					return fmt.Errorf("entry %d (%s): two entries record %s with different hashes", e.Index, e.Kind, f.Name)
				}
				continue
			}
			written[f.Name] = sum
			if err := b.file(f.Name, func(w io.Writer) error {
				_, err := w.Write(f.Body)
				return err
			}); err != nil {
				return err
			}
		}
		for name := range want {
			return fmt.Errorf("entry %d (%s): %s is missing from the store", e.Index, e.Kind, name)
		}
	}
	return nil
}
