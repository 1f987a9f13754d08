package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

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
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{
		LabelRole:   role,
		LabelSynced: strconv.FormatBool(synced),
	}}})
	if err != nil {
		return fmt.Errorf("labelling pod %s: %w", c.pod, err)
	}
	return c.call(ctx, "labelling pod "+c.pod, func(ctx context.Context) error {
		pod := &corev1.Pod{}
		err := c.core.Patch(types.MergePatchType).Namespace(c.namespace).Resource("pods").Name(c.pod).
			Param("fieldManager", fieldManager).Body(patch).Do(ctx).Into(pod)
		if err == nil {
			c.remember(pod)
		}
		return err
	})
}

// fieldManager names aku as the writer of what it patches.
const fieldManager = "aku"

// getPod reads this pod.
func (c *Client) getPod(ctx context.Context) (*corev1.Pod, error) {
	var pod *corev1.Pod
	err := c.call(ctx, "reading pod "+c.pod, func(ctx context.Context) (err error) {
		pod = &corev1.Pod{}
		return c.core.Get().Namespace(c.namespace).Resource("pods").Name(c.pod).Do(ctx).Into(pod)
	})
	if err != nil {
		return nil, err
	}
	c.remember(pod)
	return pod, nil
}

// remember keeps the pod's UID for the Events that refer to it.
func (c *Client) remember(pod *corev1.Pod) {
	c.mu.Lock()
	c.uid = string(pod.UID)
	c.mu.Unlock()
}
