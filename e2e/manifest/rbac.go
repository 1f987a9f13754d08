package manifest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/aku-project/aku/podlife/kube"
)

// grant is one permission a Role gives: a verb on a resource of an API
// group, on the named object only when name is set.
type grant struct{ group, resource, verb, name string }

func (g grant) String() string {
	s := g.verb + " " + g.resource
	if g.group != "" {
		s += "." + g.group
	}
	if g.name != "" {
		s += " " + g.name
	}
	return s
}

// akuGrants are the permissions aku's use of the API needs, and all that
// the example Role may give (docs/behaviour.md, "Kubernetes"): read the
// StatefulSet, read and label pods, create Events.
func akuGrants(sts string) []grant {
	return []grant{
		{appsv1.GroupName, "statefulsets", "get", sts},
		{corev1.GroupName, "pods", "get", ""},
		{corev1.GroupName, "pods", "patch", ""},
		{eventsv1.GroupName, "events", "create", ""},
	}
}

// grants lists what a Role's rules give, one grant per group, resource,
// verb and name.
func grants(r *rbacv1.Role) []grant {
	var out []grant
	for _, rule := range r.Rules {
		names := rule.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				for _, v := range rule.Verbs {
					for _, n := range names {
						out = append(out, grant{g, res, v, n})
					}
				}
			}
		}
	}
	return out
}

// checkKubernetes checks what aku's use of the Kubernetes API needs when
// aku.conf asks for it (AKU_REPLICATION_RESET_AT_END = 2,
// AKU_KUBERNETES_PUBLISH = 1): a ServiceAccount that every StatefulSet's
// pods run as, a Role of least privilege bound to it; and that the
// Services selecting on aku's labels can ever match a pod.
func (s *Set) checkKubernetes() []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	cfg := s.Config
	for _, svc := range s.RoleServices {
		errs = append(errs, s.checkRoleService(svc)...)
	}
	if !cfg.ResetOnlyWhenLeaving && !cfg.KubernetesPublish {
		return errs
	}
	sa, role, rb := s.ServiceAccount, s.Role, s.RoleBinding
	if sa == nil || role == nil || rb == nil {
		fail("aku.conf asks the Kubernetes API (AKU_REPLICATION_RESET_AT_END = 2 or AKU_KUBERNETES_PUBLISH = 1): want a ServiceAccount, a Role and a RoleBinding (rbac.yaml)")
		return errs
	}
	if sa.AutomountServiceAccountToken != nil && !*sa.AutomountServiceAccountToken {
		fail("ServiceAccount %q: automountServiceAccountToken is false: aku needs the token in its pod", sa.Name)
	}
	for _, n := range sortedKeys(s.StatefulSets) {
		spec := &s.StatefulSets[n].Spec.Template.Spec
		if spec.ServiceAccountName != sa.Name {
			fail("%s: serviceAccountName %q is not the ServiceAccount %q that rbac.yaml grants aku's permissions to", n, spec.ServiceAccountName, sa.Name)
		}
		if spec.AutomountServiceAccountToken != nil && !*spec.AutomountServiceAccountToken {
			fail("%s: automountServiceAccountToken is false: aku needs the token in its pod", n)
		}
	}
	want := akuGrants(s.Conf["AKU_STS_NAME"])
	got := grants(role)
	for _, g := range want {
		if !slices.Contains(got, g) {
			fail("Role %q: does not grant %s, which aku needs", role.Name, g)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			fail("Role %q: grants %s, more than aku needs (least privilege: %s)", role.Name, g, joinGrants(want))
		}
	}
	if rb.RoleRef.APIGroup != rbacv1.GroupName || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != role.Name {
		fail("RoleBinding %q: roleRef is %s %s, want Role %q", rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name, role.Name)
	}
	bound := false
	for _, sub := range rb.Subjects {
		bound = bound || (sub.Kind == rbacv1.ServiceAccountKind && sub.Name == sa.Name)
	}
	if !bound {
		fail("RoleBinding %q: does not bind ServiceAccount %q", rb.Name, sa.Name)
	}
	return errs
}

// checkRoleService checks a Service that selects on aku's labels: values
// aku sets, the pods' other labels, the service port, and aku.conf
// publishing the labels at all.
func (s *Set) checkRoleService(svc *corev1.Service) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !s.Config.KubernetesPublish {
		fail("Service %q: selects on aku's labels, but aku.conf has no AKU_KUBERNETES_PUBLISH = 1: no pod ever has them", svc.Name)
	}
	rest := map[string]string{}
	for k, v := range svc.Spec.Selector {
		switch k {
		case kube.LabelRole:
			if v != kube.RoleMaster && v != kube.RoleSlave {
				fail("Service %q: %s: %q is neither %s nor %s", svc.Name, k, v, kube.RoleMaster, kube.RoleSlave)
			}
		case kube.LabelSynced:
			if v != strconv.FormatBool(true) && v != strconv.FormatBool(false) {
				fail("Service %q: %s: %q is neither \"true\" nor \"false\"", svc.Name, k, v)
			}
		default:
			rest[k] = v
		}
	}
	for _, n := range sortedKeys(s.StatefulSets) {
		if !labelsMatch(rest, s.StatefulSets[n].Spec.Template.Labels) {
			fail("Service %q: its selector beside aku's labels does not match the pod template's labels of %s", svc.Name, n)
		}
	}
	port, _ := s.ConfInt("AKU_PORT_NO", 20300)
	if !servicePort(svc, port) {
		fail("Service %q: no port %d (AKU_PORT_NO of aku.conf)", svc.Name, port)
	}
	return errs
}

func joinGrants(gs []grant) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = g.String()
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
