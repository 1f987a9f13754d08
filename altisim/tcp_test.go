package altisim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
)

// serveReplication runs ServeReplication for s on a loopback port until
// the test ends and returns the port.
func serveReplication(t *testing.T, s *altisim.Server) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- altisim.ServeReplication(ctx, ln, s) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ServeReplication: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("ServeReplication did not return after cancel")
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// TestTCPTransportCarriesReceive checks that a message sent over TCP gets
// exactly the answer the server's Receive gives in-process.
func TestTCPTransportCarriesReceive(t *testing.T) {
	s, err := altisim.NewServer(altisim.Options{Name: "peer", ReplicationPort: 20301})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	port := serveReplication(t, s)
	link, err := altisim.TCPTransport{DialTimeout: time.Second}.Dial(context.Background(), "localhost", port)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	msgs := []*altisim.ReplMessage{
		{Kind: "handshake", Replication: "NO_SUCH_REPL", From: "me"},
		{Kind: "no-such-kind", Replication: "R", From: "me"},
	}
	for _, m := range msgs {
		t.Run(m.Kind, func(t *testing.T) {
			want, wantErr := s.Receive(context.Background(), m)
			got, gotErr := link.Send(context.Background(), m)
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && !strings.HasSuffix(gotErr.Error(), wantErr.Error())) {
				t.Fatalf("Send error = %v, want one ending in %v", gotErr, wantErr)
			}
			if !equalJSON(t, got, want) {
				t.Fatalf("Send reply = %+v, want %+v", got, want)
			}
		})
	}
}

func TestTCPTransportDialFailures(t *testing.T) {
	// A port that was just closed refuses at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err = altisim.TCPTransport{DialTimeout: time.Second}.Dial(context.Background(), "127.0.0.1", closedPort)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Dial to a closed port: error = %v, want connection refused", err)
	}
	want := "dialling replication 127.0.0.1:" + strconv.Itoa(closedPort) + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Dial error %q does not start with %q", err, want)
	}
}

// TestTCPLinkSendHonoursContext: a peer that accepts but never answers
// must not hang the sender past its context.
func TestTCPLinkSendHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second)
		}
	}()
	link, err := altisim.TCPTransport{DialTimeout: time.Second}.Dial(context.Background(), "127.0.0.1", ln.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = link.Send(ctx, &altisim.ReplMessage{Kind: "handshake", Replication: "R"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send error = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Send took %v after a 100ms deadline", took)
	}
	if _, err := link.Send(context.Background(), &altisim.ReplMessage{Kind: "handshake"}); err == nil {
		t.Fatal("Send on a broken link succeeded")
	}
}

// equalJSON reports whether a and b have the same JSON encoding.
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
