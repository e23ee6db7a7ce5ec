package dkim_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/dkim"
)

// BenchmarkSign signs a 2.6 KB notice (the size of a rendered one) with
// each key type: the cost DKIM adds to every email sent.
func BenchmarkSign(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	msg := []byte(message + strings.Repeat("We are writing to tell you about a data breach that involved your data.\r\n", 34))
	for _, k := range []struct {
		name string
		s    crypto.Signer
	}{{"rsa-2048", rsaKey}, {"ed25519", edKey}} {
		b.Run(k.name, func(b *testing.B) {
			key := &dkim.Key{Domain: "controller.example", Selector: "s", Signer: k.s}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := key.Sign(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
