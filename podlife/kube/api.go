package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// request is one of the four requests aku sends (docs/behaviour.md,
// "Permissions"): a method on a path of the API server, with a JSON body
// or none.
type request struct {
	method, path string
	// query is the encoded query string, without "?"; "" for none.
	query string
	// contentType is the body's media type.
	contentType string
	body        []byte
}

// The API groups aku uses, as paths.
const (
	coreV1   = "/api/v1"
	appsV1   = "/apis/apps/v1"
	eventsV1 = "/apis/events.k8s.io/v1"
)

// path is the path of resource (name "": the collection) in the client's
// namespace, in the API group at prefix.
func (c *Client) path(prefix, resource, name string) string {
	p := prefix + "/namespaces/" + url.PathEscape(c.namespace) + "/" + resource
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	return p
}

// fieldManager names aku as the writer of what it patches and creates.
const fieldManager = "aku"

// userAgent names aku in the API server's audit log.
const userAgent = "aku"

// statusLimit is the most of a failed answer's body that is read: a Status
// object is small, and its message ends in a log line.
const statusLimit = 64 << 10

// messageLimit is the most of an answer that is not a Status object that
// an error quotes.
const messageLimit = 512

// send sends r with the service account's token, read from its file for
// this request (the kubelet rotates a bound token in place), and decodes a
// 2xx answer into out. Any other answer is a *statusError.
func (c *Client) send(ctx context.Context, r request, out any) error {
	token, err := os.ReadFile(c.tokenFile)
	if err != nil {
		return fmt.Errorf("reading the service account's token: %w", err)
	}
	target := c.base + r.path
	if r.query != "" {
		target += "?" + r.query
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusOf(resp)
	}
	if out == nil {
		// Drained, so that the connection serves the next request; the
		// request itself succeeded whatever this reads.
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding the API server's answer: %w", err)
	}
	return nil
}

// statusError is an answer of the API server other than 2xx: the code,
// reason and message of the Status object it holds.
type statusError struct {
	Code int
	// Reason is the Status's one word ("NotFound", "Forbidden").
	Reason  string
	Message string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, e.Reason, e.Message)
}

// statusOf reads a failed answer's Status object. An answer that holds
// none (a proxy's page, an empty body) keeps the HTTP status and quotes
// the body.
func statusOf(resp *http.Response) *statusError {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, statusLimit))
	e := &statusError{Code: resp.StatusCode}
	var st struct {
		Kind    string `json:"kind"`
		Code    int    `json:"code"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &st) == nil && st.Kind == "Status" {
		e.Reason, e.Message = st.Reason, st.Message
		if st.Code != 0 {
			e.Code = st.Code
		}
	} else {
		e.Message = cut(strings.TrimSpace(string(data)), messageLimit)
	}
	if e.Reason == "" {
		e.Reason = strings.ReplaceAll(http.StatusText(e.Code), " ", "")
	}
	if e.Message == "" {
		e.Message = http.StatusText(e.Code)
	}
	return e
}

// errDown marks an error after which the client asks nothing more.
var errDown = errors.New("the Kubernetes API cannot be used")

// describe words an API error for a log line: what the server answered,
// or that it did not answer in time.
func describe(err error, timeout time.Duration) error {
	var status *statusError
	if errors.As(err, &status) {
		switch status.Code {
		case http.StatusUnauthorized:
			return fmt.Errorf("%w: the API server refused the service account's token (401 Unauthorized): %s", errDown, status.Message)
		case http.StatusForbidden:
			return fmt.Errorf("the service account may not do it (403 Forbidden): %s: grant it the Role of examples/kubernetes/rbac.yaml", status.Message)
		}
		return fmt.Errorf("the API server answered %w", status)
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return fmt.Errorf("%w: the API server did not answer within %s", errDown, timeout)
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
