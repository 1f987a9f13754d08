package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/aku-project/aku/podlife"
)

// The labels aku keeps on its pod (docs/behaviour.md, "Kubernetes"): the
// example Services select on them.
const (
	// LabelRole is "master" on ordinal 0 and "slave" on the others.
	LabelRole = "aku/role"
	// LabelSynced is "true" once a start completed and every pair toward
	// a running peer replicates (aku probe ready's verdict), else "false".
	LabelSynced = "aku/synced"
)

// The roles LabelRole takes.
const (
	RoleMaster = "master"
	RoleSlave  = "slave"
)

// RoleOf is the LabelRole of a pod: RoleMaster for the master pod
// (ordinal 0), RoleSlave for the others (docs/behaviour.md, "Pods and
// roles").
func RoleOf(id podlife.Identity) string {
	if id.IsMaster() {
		return RoleMaster
	}
	return RoleSlave
}

// Label sets this pod's LabelRole to role (RoleMaster or RoleSlave) and
// its LabelSynced to synced, with one merge patch of metadata.labels that
// leaves the pod's other labels alone.
func (c *Client) Label(ctx context.Context, role string, synced bool) error {
	if role != RoleMaster && role != RoleSlave {
		return fmt.Errorf("labelling pod %s: role %q is neither %s nor %s", c.pod, role, RoleMaster, RoleSlave)
	}
	patch, err := json.Marshal(pod{Metadata: objectMeta{Labels: map[string]string{
		LabelRole:   role,
		LabelSynced: strconv.FormatBool(synced),
	}}})
	if err != nil {
		return fmt.Errorf("labelling pod %s: %w", c.pod, err)
	}
	var p pod
	err = c.call(ctx, "labelling pod "+c.pod, request{
		method: http.MethodPatch, path: c.path(coreV1, "pods", c.pod), query: "fieldManager=" + fieldManager,
		contentType: "application/merge-patch+json", body: patch,
	}, &p)
	if err != nil {
		return err
	}
	c.remember(&p)
	return nil
}

// getPod reads this pod.
func (c *Client) getPod(ctx context.Context) (*pod, error) {
	p := &pod{}
	err := c.call(ctx, "reading pod "+c.pod, request{method: http.MethodGet, path: c.path(coreV1, "pods", c.pod)}, p)
	if err != nil {
		return nil, err
	}
	c.remember(p)
	return p, nil
}

// remember keeps the pod's UID for the Events that refer to it.
func (c *Client) remember(p *pod) {
	c.mu.Lock()
	c.uid = p.Metadata.UID
	c.mu.Unlock()
}
