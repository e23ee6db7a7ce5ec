package notify_test

import (
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify"
)

func TestReturnPath(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	other := []byte("fedcba9876543210fedcba9876543210")
	rp := notify.ReturnPath(key, 1234, "bounces.controller.example")
	if !strings.HasPrefix(rp, "bounce+1234.") || !strings.HasSuffix(rp, "@bounces.controller.example") {
		t.Fatalf("return path %q", rp)
	}
	id, ok := notify.CheckReturnPath(key, rp)
	if !ok || id != 1234 {
		t.Fatalf("CheckReturnPath(own) = %d, %v", id, ok)
	}
	if id, ok := notify.CheckReturnPath(key, "<"+strings.ToUpper(rp)+">"); !ok || id != 1234 {
		t.Errorf("upper-cased, bracketed: %d, %v", id, ok)
	}
	// A forged tag, another notice's tag, another controller's key:
	// refused.
	tag := strings.TrimPrefix(strings.Split(rp, "@")[0], "bounce+1234.")
	for _, forged := range []string{
		"bounce+1234.aaaaaaaaaaaaaaaa@bounces.controller.example",
		"bounce+1235." + tag + "@bounces.controller.example",
		"bounce+1234." + tag[:len(tag)-1] + "@bounces.controller.example",
		"bounce+01234." + tag + "@bounces.controller.example",
		"bounce+1234@bounces.controller.example",
		"notice@controller.example",
	} {
		if id, ok := notify.CheckReturnPath(key, forged); ok {
			t.Errorf("forged %q accepted as notice %d", forged, id)
		}
	}
	if _, ok := notify.CheckReturnPath(other, rp); ok {
		t.Error("accepted under another controller's key")
	}
}
