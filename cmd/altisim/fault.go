package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// controlClient talks to a server's control path.
type controlClient struct {
	addr string
	hc   *http.Client
	base string
}

func newControlClient(addr string) *controlClient {
	tr := &http.Transport{}
	base := "http://" + addr
	if !isTCPAddr(addr) {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		}
		base = "http://altisim"
	}
	return &controlClient{addr: addr, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: base}
}

// do sends a request with an optional JSON body and copies the JSON reply
// to out; a non-2xx status is an error carrying the server's message.
func (c *controlClient) do(ctx context.Context, method, path string, body any, out io.Writer) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("building request %s %s: %w", method, path, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling control path %s: %w", c.addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading reply of %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s", method, path, e.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	_, err = out.Write(b)
	return err
}

func newFaultCommand(stdout io.Writer) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "fault",
		Short: "Inject faults into a running `altisim serve` through its control path",
	}
	cmd.PersistentFlags().StringVar(&addr, "control", "", "the server's control path: `HOST:PORT` or unix socket path (required)")
	client := func() (*controlClient, error) {
		if addr == "" {
			return nil, usageError{fmt.Errorf("--control is required")}
		}
		return newControlClient(addr), nil
	}
	simple := func(use, short, method, path string) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := client()
				if err != nil {
					return err
				}
				return c.do(cmd.Context(), method, path, nil, stdout)
			},
		}
	}

	var spec faultSpec
	add := &cobra.Command{
		Use:   "add",
		Short: "Install a fault: fail, delay, hang or drop the n-th statement matching a pattern",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			if _, err := spec.fault(); err != nil {
				return usageError{err}
			}
			return c.do(cmd.Context(), http.MethodPost, "/faults", spec, stdout)
		},
	}
	fl := add.Flags()
	fl.StringVar(&spec.Pattern, "pattern", "", "regular `RE` matched against the statement text (case-insensitive)")
	fl.StringVar(&spec.Action, "action", "fail", "fail, delay, hang or drop")
	fl.IntVar(&spec.Nth, "nth", 0, "fire on the n-th matching statement only (0: every one)")
	fl.StringVar(&spec.Code, "code", "", "Altibase error code of a fail, in hex (e.g. 6100D)")
	fl.StringVar(&spec.Message, "message", "", "error message of a fail")
	fl.StringVar(&spec.Delay, "delay", "", "`DURATION` of a delay (e.g. 2s)")
	fl.BoolVar(&spec.After, "after", false, "drop: run the statement, then drop the connection")

	// duration is a command that PUTs {"<key>":"DURATION"} to path.
	duration := func(use, short, path, key string) *cobra.Command {
		return &cobra.Command{
			Use: use + " DURATION", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := client()
				if err != nil {
					return err
				}
				return c.do(cmd.Context(), http.MethodPut, path, map[string]string{key: args[0]}, stdout)
			},
		}
	}
	sender := func(use, short, method string) *cobra.Command {
		return &cobra.Command{
			Use: use + " [REPLICATION]", Short: short, Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := client()
				if err != nil {
					return err
				}
				path := "/senders/hold"
				if len(args) == 1 {
					path += "?replication=" + url.QueryEscape(args[0])
				}
				return c.do(cmd.Context(), method, path, nil, stdout)
			},
		}
	}
	sendRate := &cobra.Command{
		Use: "send-rate BYTES_PER_SECOND", Short: "Make every sender ship its log at BYTES_PER_SECOND (0 turns it off), so a gap drains at that rate",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rate, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || rate < 0 {
				return usageError{fmt.Errorf("send-rate %q: want a whole number of bytes per second, 0 or more", args[0])}
			}
			c, err := client()
			if err != nil {
				return err
			}
			return c.do(cmd.Context(), http.MethodPut, "/send-rate", map[string]int64{"bytesPerSecond": rate}, stdout)
		},
	}
	cmd.AddCommand(add, sendRate,
		duration("latency", "Add DURATION to every statement (0 turns it off)", "/latency", "latency"),
		duration("sync-delay", "Make every row a SYNC copies take DURATION (0 turns it off), to watch V$REPSYNC", "/sync-delay", "delay"),
		sender("hold-sender", "Stop a replication's sender (every sender without REPLICATION) from shipping; it stays connected", http.MethodPost),
		sender("release-sender", "Release a sender held by hold-sender", http.MethodDelete),
		simple("list", "Print the installed faults", http.MethodGet, "/faults"),
		simple("clear", "Remove every fault, the injected latency, SYNC row delay and send rate", http.MethodDelete, "/faults"),
		simple("hold-sysdba", "Occupy the SYSDBA slot, as an open isql -sysdba session would", http.MethodPost, "/sysdba/hold"),
		simple("release-sysdba", "Release the SYSDBA slot held by hold-sysdba", http.MethodDelete, "/sysdba/hold"),
		simple("log", "Print the statement log as JSON", http.MethodGet, "/log"),
		simple("shutdown", "Stop the server gracefully", http.MethodPost, "/shutdown"),
	)
	return cmd
}
