package netlimit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestUnderTLS: with TLS put over the limited listener (so a request sees
// its TLS state), the budget still holds: the limiter finds its
// connections under the TLS layer, and idle ones make room.
func TestUnderTLS(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var sawTLS atomic.Int32
	l := New(8, Options{Name: "test", Logger: slog.New(slog.DiscardHandler)})
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			sawTLS.Add(1)
		}
		io.WriteString(w, "ok")
	})}
	l.Attach(hs)
	go hs.Serve(tls.NewListener(l.Listener(ln), &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: priv}}}))
	t.Cleanup(func() { hs.Close() })
	for i := range 40 {
		// Each client keeps its connection: a new transport per round.
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
		t.Cleanup(tr.CloseIdleConnections)
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n := l.Open(); n > l.Max() {
			t.Fatalf("%d connections open, budget %d", n, l.Max())
		}
	}
	if sawTLS.Load() != 40 {
		t.Errorf("%d of 40 requests saw their TLS state", sawTLS.Load())
	}
}
