package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
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
	// core, apps and events reach core/v1, apps/v1 and
	// events.k8s.io/v1.
	core, apps, events *rest.RESTClient

	mu sync.Mutex
	// down is the first answer saying the API server cannot be used (no
	// answer in time, a token it refuses): later calls return it at once.
	down error
	// uid is this pod's UID once read, for the Events that refer to it.
	uid string
}

// scheme knows the three groups aku uses, and no other: client-go's typed
// clients would link its scheme of every group, whose registration costs
// every run of aku (aku -i, the probes) milliseconds at process start.
// It is built on first use, by the runs that ask the API.
var scheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, eventsv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(fmt.Sprintf("registering the Kubernetes types aku uses: %v", err))
		}
	}
	return s
})

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
	for _, f := range []string{"token", "ca.crt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("%w: reading the service account's %s: %w", ErrNoCredentials, f, err)
		}
	}
	ns, err := os.ReadFile(filepath.Join(dir, "namespace"))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the service account's namespace: %w", ErrNoCredentials, err)
	}
	c := &Client{pod: cfg.PodName, namespace: strings.TrimSpace(string(ns)), timeout: cfg.Timeout}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	rc := &rest.Config{
		Host:            "https://" + net.JoinHostPort(cfg.Host, cfg.Port),
		TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(dir, "ca.crt")},
		// The file, not its contents: client-go re-reads a rotated token.
		BearerTokenFile: filepath.Join(dir, "token"),
		Timeout:         c.timeout,
		UserAgent:       "aku",
	}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("%w: building the API client: %w", ErrNoCredentials, err)
	}
	codecs := serializer.NewCodecFactory(scheme()).WithoutConversion()
	for _, g := range []struct {
		client  **rest.RESTClient
		gv      schema.GroupVersion
		apiPath string
	}{
		{&c.core, corev1.SchemeGroupVersion, "/api"},
		{&c.apps, appsv1.SchemeGroupVersion, "/apis"},
		{&c.events, eventsv1.SchemeGroupVersion, "/apis"},
	} {
		gc := *rc
		gc.GroupVersion, gc.APIPath, gc.NegotiatedSerializer = &g.gv, g.apiPath, codecs
		if *g.client, err = rest.RESTClientForConfigAndClient(&gc, hc); err != nil {
			return nil, fmt.Errorf("building the %s client: %w", g.gv, err)
		}
	}
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

// call runs one request within the client's timeout, unless the API server
// already proved unusable. An answer that proves it (no answer in time,
// no connection, a refused token) is kept for the calls that follow.
func (c *Client) call(ctx context.Context, what string, do func(context.Context) error) error {
	c.mu.Lock()
	down := c.down
	c.mu.Unlock()
	if down != nil {
		return down
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := do(ctx)
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

// errDown marks an error after which the client asks nothing more.
var errDown = errors.New("the Kubernetes API cannot be used")

// describe words an API error for a log line: what the server answered,
// or that it did not answer in time.
func describe(err error, timeout time.Duration) error {
	var status apierrors.APIStatus
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("%w: the API server did not answer within %s", errDown, timeout)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w: the API server refused the service account's token (401 Unauthorized): %s", errDown, reason(err))
	case apierrors.IsForbidden(err):
		return fmt.Errorf("the service account may not do it (403 Forbidden): %s: grant it the Role of examples/kubernetes/rbac.yaml", reason(err))
	case errors.As(err, &status):
		return fmt.Errorf("the API server answered %d %s: %s", status.Status().Code, status.Status().Reason, reason(err))
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return fmt.Errorf("%w: the API server cannot be reached: %v", errDown, netErr)
	}
	return err
}

func unusable(err error) bool { return errors.Is(err, errDown) }

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// reason is the API server's message without client-go's prefix.
func reason(err error) string {
	if s, ok := err.(apierrors.APIStatus); ok && s.Status().Message != "" {
		return s.Status().Message
	}
	return err.Error()
}
