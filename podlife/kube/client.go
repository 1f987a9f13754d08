package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultSecretDir is where Kubernetes mounts a pod's service account
// credentials: token, ca.crt and namespace.
const DefaultSecretDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// DefaultTimeout bounds each call of a Client: a few seconds, so that an
// API server that does not answer costs an end at most that.
const DefaultTimeout = 3 * time.Second

// ErrNoCredentials: the pod has no in-cluster credentials (no API server
// address in its environment, or no service account token mounted).
var ErrNoCredentials = errors.New("no in-cluster credentials")

// Config locates the API server and this pod's credentials. cmd/aku fills
// it from the environment.
type Config struct {
	// Host and Port are KUBERNETES_SERVICE_HOST and
	// KUBERNETES_SERVICE_PORT.
	Host, Port string
	// SecretDir holds the service account's token, ca.crt and namespace;
	// "" is DefaultSecretDir.
	SecretDir string
	// PodName is this pod's name, as aku's identity has it (POD_NAME,
	// else the host name).
	PodName string
	// Timeout bounds each call; 0 is DefaultTimeout.
	Timeout time.Duration
}

// Client asks the API server about this pod and writes its labels and
// Events. Its methods are safe for concurrent use.
type Client struct {
	pod       string
	namespace string
	timeout   time.Duration
	// base is the API server's URL; tokenFile the service account's
	// token, read again for each request (bound tokens rotate).
	base, tokenFile string
	http            *http.Client

	mu sync.Mutex
	// down is the first answer saying the API server cannot be used (no
	// answer in time, a token it refuses): later calls return it at once.
	down error
	// uid is this pod's UID once read, for the Events that refer to it.
	uid string
}

// New builds a client from in-cluster credentials. It sends nothing; it
// fails, wrapping ErrNoCredentials, when the address is not set or the
// token, CA or namespace cannot be read.
func New(cfg Config) (*Client, error) {
	if cfg.Host == "" || cfg.Port == "" {
		return nil, fmt.Errorf("%w: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set", ErrNoCredentials)
	}
	if cfg.PodName == "" {
		return nil, fmt.Errorf("%w: the pod name is empty", ErrNoCredentials)
	}
	dir := cfg.SecretDir
	if dir == "" {
		dir = DefaultSecretDir
	}
	if _, err := os.Stat(filepath.Join(dir, "token")); err != nil {
		return nil, fmt.Errorf("%w: reading the service account's token: %w", ErrNoCredentials, err)
	}
	ns, err := os.ReadFile(filepath.Join(dir, "namespace"))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the service account's namespace: %w", ErrNoCredentials, err)
	}
	c := &Client{pod: cfg.PodName, namespace: strings.TrimSpace(string(ns)), timeout: cfg.Timeout}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the service account's ca.crt: %w", ErrNoCredentials, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%w: the service account's ca.crt holds no PEM certificate", ErrNoCredentials)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	c.base = "https://" + net.JoinHostPort(cfg.Host, cfg.Port)
	c.tokenFile = filepath.Join(dir, "token")
	c.http = &http.Client{Transport: tr}
	return c, nil
}

// Pod is the name of the pod the client acts for.
func (c *Client) Pod() string { return c.pod }

// Namespace is the namespace of this pod's service account.
func (c *Client) Namespace() string { return c.namespace }

// Reset forgets that the API server proved unusable, so that the next
// call asks it again. One aku -p run never calls it (an end must not wait
// for a silent server twice); a long-running caller such as aku run calls
// it before each round of its checks.
func (c *Client) Reset() {
	c.mu.Lock()
	c.down = nil
	c.mu.Unlock()
}

// call sends r within the client's timeout and decodes the answer into
// out (nil: the answer is not needed), unless the API server already proved
// unusable. An answer that proves it (no answer in time, no connection, a
// refused token) is kept for the calls that follow.
func (c *Client) call(ctx context.Context, what string, r request, out any) error {
	c.mu.Lock()
	down := c.down
	c.mu.Unlock()
	if down != nil {
		return down
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := c.send(ctx, r, out)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%s: %w", what, describe(err, c.timeout))
	if unusable(err) {
		c.mu.Lock()
		if c.down == nil {
			c.down = err
		}
		c.mu.Unlock()
	}
	return err
}
