package netserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// Serve accepts connections on ln and runs handle for each in its own
// goroutine, closing the connection when handle returns, until ctx ends;
// then it closes ln and every open connection, waits for the handlers and
// returns nil. Any other accept error is returned, wrapped with what (e.g.
// "accepting clients for sts-0"), after the handlers have ended.
func Serve(ctx context.Context, ln net.Listener, what string, handle func(context.Context, net.Conn)) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	closeAll := func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// The handlers must end too, or wg.Wait would wait for their
			// clients.
			closeAll()
			return fmt.Errorf("%s: %w", what, err)
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			c.Close()
			return nil
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			handle(ctx, c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		}()
	}
}
