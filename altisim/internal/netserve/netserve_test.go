package netserve

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// failingListener accepts from a real listener until fail is closed, then
// fails every Accept with a non-timeout error.
type failingListener struct {
	net.Listener
	fail chan struct{}
}

func (l failingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	select {
	case <-l.fail:
		if c != nil {
			c.Close()
		}
		return nil, errors.New("too many open files")
	default:
	}
	return c, err
}

// TestServeEndsHandlers: whether ctx ends or Accept fails, Serve closes the
// open connections (their handlers end) and returns.
func TestServeEndsHandlers(t *testing.T) {
	for _, how := range []string{"cancel", "accept error"} {
		t.Run(how, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := failingListener{inner, make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- Serve(ctx, ln, "serving test", func(ctx context.Context, c net.Conn) {
					close(started)
					c.Read(make([]byte, 1)) // until the connection is closed
				})
			}()
			client, err := net.Dial("tcp", inner.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			<-started
			if how == "cancel" {
				cancel()
			} else {
				close(ln.fail)
				c2, err := net.Dial("tcp", inner.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c2.Close()
			}
			select {
			case err := <-done:
				if how == "cancel" && err != nil {
					t.Fatalf("Serve after cancel = %v, want nil", err)
				}
				if how != "cancel" && (err == nil || !strings.HasPrefix(err.Error(), "serving test: too many open files")) {
					t.Fatalf("Serve after an accept error = %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Serve did not return with a handler still connected")
			}
		})
	}
}
