package kube

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/podlife"
)

// An API server that accepts the connection and never answers holds an
// end for the client's timeout once, not once per request: the verdict is
// unknown (end resets, as with 1), and the labels and Events that follow
// fail at once.
func TestSilentAPIServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn // accepted, never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	const timeout = 300 * time.Millisecond
	c, err := New(Config{Host: host, Port: port, SecretDir: secretDir(t, "aku-test"), PodName: "altibase-sts-2", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	began := time.Now()
	l := c.Leaving(ctx, 2)
	if took := time.Since(began); took < timeout || took > timeout+2*time.Second {
		t.Errorf("Leaving took %v, want about the timeout %v", took, timeout)
	}
	if l.Verdict != podlife.VerdictUnknown || !strings.Contains(l.Why, "did not answer within 300ms") {
		t.Errorf("Leaving = %v %q, want unknown: the API server did not answer", l.Verdict, l.Why)
	}
	began = time.Now()
	errLabel := c.Label(ctx, RoleSlave, false)
	errEvent := c.Event(ctx, Event{Action: "End", Reason: "Ended", Note: "n"})
	if took := time.Since(began); took > timeout/2 {
		t.Errorf("label and event after a silent API server took %v: they must not wait again", took)
	}
	for _, err := range []error{errLabel, errEvent} {
		if err == nil || !strings.Contains(err.Error(), "did not answer") {
			t.Errorf("after a silent API server: %v, want its error again", err)
		}
	}
	// A long-running caller asks again after Reset.
	c.Reset()
	began = time.Now()
	if err := c.Label(ctx, RoleSlave, false); err == nil || time.Since(began) < timeout {
		t.Errorf("Label after Reset: %v after %v, want the server asked again (and silent for %v)", err, time.Since(began), timeout)
	}
}

// Without an address or without the mounted files, New says which is
// missing and builds nothing.
func TestNewWithoutCredentials(t *testing.T) {
	dir := secretDir(t, "aku-test")
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no address", Config{SecretDir: dir, PodName: "p"}, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set"},
		{"no token", Config{Host: "127.0.0.1", Port: "1", SecretDir: t.TempDir(), PodName: "p"}, "reading the service account's token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), "no in-cluster credentials") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want no in-cluster credentials: %s", err, tt.want)
			}
		})
	}
}

// secretDir writes a service account's files (token, ca.crt with a CA of
// the test's own, namespace) into a temporary directory.
func secretDir(t *testing.T, namespace string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"token":     []byte("not-a-real-token"),
		"ca.crt":    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"namespace": []byte(namespace + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
