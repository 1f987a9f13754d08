package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// runInfo prints the parsed configuration (docs/configuration.md, "aku -i").
// Problems with the pod identity are warnings here: -i is also run by hand,
// outside the StatefulSet, to check a configuration.
func runInfo(_ context.Context, o *options) error {
	cfg, err := o.loadConfig()
	if err != nil {
		return err
	}
	id, err := podlife.Identify(o.env.PodName, cfg)
	if err != nil {
		if o.env.HostnameErr != nil {
			fmt.Fprintf(o.stderr, "warning: reading the host name (POD_NAME is not set): %v\n", o.env.HostnameErr)
		}
		fmt.Fprintf(o.stderr, "warning: %v\n", err)
	}
	info := newInfo(cfg, id, o.showPassword)
	if o.output == "json" {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	return info.writeText(o.stdout)
}

// infoJSON is the shape of aku -i --output json, documented in
// docs/configuration.md. Field names are stable; fields are only added.
type infoJSON struct {
	Config       string            `json:"config"`
	Server       infoServer        `json:"server"`
	Settings     infoSettings      `json:"settings"`
	Replications []infoReplication `json:"replications"`
	Groups       []infoGroup       `json:"groups"`
}

type infoServer struct {
	ID              *int   `json:"id"` // null when the pod name gives no ordinal
	PodName         string `json:"podName"`
	Host            string `json:"host"`
	User            string `json:"user"`
	Password        string `json:"password"`
	PasswordSource  string `json:"passwordSource"`
	Port            int    `json:"port"`
	ReplicationPort int    `json:"replicationPort"`
	MaxServerCount  int    `json:"maxServerCount"`
}

// infoSettings is the "settings" object of aku -i --output json: every
// property of conf's table that -i shows nowhere else, in the table's
// order (docs/json.md).
type infoSettings []conf.Setting

// MarshalJSON writes the settings as one object, keys in order.
func (s infoSettings) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, st := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(st.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(st.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the settings back, keys in order (for scripts and
// tests that decode aku -i's JSON).
func (s *infoSettings) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("reading settings: want an object")
	}
	*s = nil
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("reading settings: %w", err)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("reading setting %v: %w", t, err)
		}
		*s = append(*s, conf.Setting{Key: fmt.Sprint(t), Value: v})
	}
	return nil
}

type infoReplication struct {
	ServerID int      `json:"serverId"`
	Host     string   `json:"host"`
	Names    []string `json:"names"`
}

type infoGroup struct {
	Prefix            string     `json:"prefix"`
	SyncParallelCount int        `json:"syncParallelCount"`
	Items             []infoItem `json:"items"`
}

type infoItem struct {
	User      string `json:"user"`
	Table     string `json:"table"`
	Partition string `json:"partition,omitempty"`
}

// newInfo builds what aku -i prints. Unless showPassword, every secret is
// masked: the SYS password, and any password written into the
// connection-string template (replication.RedactTemplate).
func newInfo(cfg *conf.Config, id podlife.Identity, showPassword bool) infoJSON {
	pw, mask := conf.Masked, replication.RedactTemplate
	if showPassword {
		pw, mask = cfg.SysPassword, nil
	}
	info := infoJSON{
		Config: cfg.File,
		Server: infoServer{
			PodName: id.PodName, Host: id.Host, User: cfg.SysUser,
			Password: pw, PasswordSource: cfg.PasswordSource,
			Port: cfg.PortNo, ReplicationPort: cfg.ReplicationPortNo, MaxServerCount: cfg.ServerCount,
		},
		Settings:     infoSettings(cfg.Settings(mask)),
		Replications: []infoReplication{},
		Groups:       []infoGroup{},
	}
	if id.Ordinal >= 0 {
		n := id.Ordinal
		info.Server.ID = &n
	}
	for s := 0; s < cfg.ServerCount; s++ {
		r := infoReplication{ServerID: s, Host: podlife.PeerHost(cfg, s), Names: []string{}}
		for _, obj := range replication.Objects(cfg, s) {
			r.Names = append(r.Names, obj.Name)
		}
		info.Replications = append(info.Replications, r)
	}
	for _, g := range cfg.Groups {
		ig := infoGroup{Prefix: g.Prefix, SyncParallelCount: g.SyncParallelCount, Items: []infoItem{}}
		for _, it := range g.Items {
			ig.Items = append(ig.Items, infoItem{User: it.User, Table: it.Table, Partition: it.Partition})
		}
		info.Groups = append(info.Groups, ig)
	}
	return info
}

const infoRule = " #########################\n"

// writeText prints the layout of the original's aku -i (docs/configuration.md,
// "aku -i"), including its spelling "Serve[ID:n]".
func (info infoJSON) writeText(w io.Writer) error {
	var b strings.Builder
	field := func(name, value string) {
		fmt.Fprintf(&b, "  %-16s : %s\n", name, value)
	}
	serverID := "unknown"
	if info.Server.ID != nil {
		serverID = strconv.Itoa(*info.Server.ID)
	}
	host := info.Server.Host
	if host == "" {
		host = "unknown"
	}
	b.WriteString(infoRule)
	b.WriteString(" [ Server ]\n")
	field("Server ID", serverID)
	field("Host", host)
	field("User", info.Server.User)
	field("Password", info.Server.Password)
	field("Port", strconv.Itoa(info.Server.Port))
	field("Replication Port", strconv.Itoa(info.Server.ReplicationPort))
	field("Max Server Count", strconv.Itoa(info.Server.MaxServerCount))
	b.WriteString(infoRule)
	b.WriteString(" [ Replications ]\n")
	for _, r := range info.Replications {
		fmt.Fprintf(&b, " #### Serve[ID:%d] Replication list ####\n", r.ServerID)
		for _, name := range r.Names {
			field("Replication Name", name)
		}
	}
	b.WriteString(infoRule)
	b.WriteString(" [ Replication Items ]\n")
	for _, g := range info.Groups {
		fmt.Fprintf(&b, " #### Replication [Prefix:%s] item list ####\n", g.Prefix)
		for i, it := range g.Items {
			if i > 0 {
				b.WriteString("\n")
			}
			field("User Name", it.User)
			field("Table Name", it.Table)
			if it.Partition != "" {
				field("Partition Name", it.Partition)
			}
		}
	}
	b.WriteString(infoRule)
	_, err := io.WriteString(w, b.String())
	return err
}
