package altisim

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/aku-project/aku/altisim/internal/netserve"
)

// The TCP replication protocol is one JSON object per line in each
// direction: the sender writes a ReplMessage, the receiver answers with a
// tcpReply. It is the simulator's own protocol, not Altibase's.

// tcpReply is the receiver's answer to one message: Receive's reply, or
// the text of its error.
type tcpReply struct {
	Message *ReplMessage `json:"message,omitempty"`
	Err     string       `json:"err,omitempty"`
}

// maxReplLine bounds one protocol line (a SYNC batch of rows can be big).
const maxReplLine = 256 << 20

// ServeReplication accepts replication connections on ln and answers
// every message with s.Receive, until ctx ends; then it closes ln and the
// open connections, waits for their handlers and returns nil. Any other
// accept error is returned (after the open connections are closed).
func ServeReplication(ctx context.Context, ln net.Listener, s *Server) error {
	return netserve.Serve(ctx, ln, "accepting replication connections for "+s.Name(), func(ctx context.Context, c net.Conn) {
		serveReplicationConn(ctx, c, s)
	})
}

// serveReplicationConn answers the messages of one connection until it
// closes or fails.
func serveReplicationConn(ctx context.Context, c net.Conn, s *Server) {
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64<<10), maxReplLine)
	enc := json.NewEncoder(c)
	for sc.Scan() {
		var m ReplMessage
		var r tcpReply
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			r.Err = fmt.Sprintf("decoding replication message: %v", err)
		} else if reply, err := s.Receive(ctx, &m); err != nil {
			r.Err = err.Error()
		} else {
			r.Message = reply
		}
		if err := enc.Encode(&r); err != nil {
			return
		}
	}
}

// TCPTransport carries replication over real TCP connections to peers'
// ServeReplication listeners, resolving host names with the system
// resolver.
type TCPTransport struct {
	// DialTimeout bounds a connect (like REPLICATION_CONNECT_TIMEOUT:
	// Altibase General Reference, "REPLICATION_CONNECT_TIMEOUT"); 0 means
	// only the context bounds it.
	DialTimeout time.Duration
}

// Dial connects to host:port.
func (t TCPTransport) Dial(ctx context.Context, host string, port int) (Link, error) {
	d := net.Dialer{Timeout: t.DialTimeout}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("dialling replication %s:%d: %w", host, port, err)
	}
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64<<10), maxReplLine)
	return &tcpLink{addr: c.RemoteAddr().String(), c: c, sc: sc}, nil
}

// tcpLink is one replication connection; Sends are serialised.
type tcpLink struct {
	addr string

	mu     sync.Mutex
	c      net.Conn
	sc     *bufio.Scanner
	broken error
}

// Send writes m and reads the reply. A cancelled ctx interrupts it and
// breaks the link (the reply may still be in flight).
func (l *tcpLink) Send(ctx context.Context, m *ReplMessage) (*ReplMessage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return nil, fmt.Errorf("sending to %s: %w", l.addr, l.broken)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding replication message: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { l.c.SetDeadline(time.Now()) })
	defer stop()
	reply, err := l.roundTrip(append(b, '\n'))
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		l.broken = err
		return nil, fmt.Errorf("sending to %s: %w", l.addr, err)
	}
	if reply.Err != "" {
		return nil, fmt.Errorf("peer %s: %s", l.addr, reply.Err)
	}
	return reply.Message, nil
}

func (l *tcpLink) roundTrip(line []byte) (*tcpReply, error) {
	if _, err := l.c.Write(line); err != nil {
		return nil, err
	}
	if !l.sc.Scan() {
		if err := l.sc.Err(); err != nil {
			return nil, err
		}
		return nil, ErrConnectionReset
	}
	var r tcpReply
	if err := json.Unmarshal(l.sc.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("decoding reply: %w", err)
	}
	return &r, nil
}

// Close closes the connection, interrupting a Send in progress.
func (l *tcpLink) Close() error {
	err := l.c.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken == nil {
		l.broken = net.ErrClosed
	}
	return err
}
