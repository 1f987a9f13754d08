package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	akuconf "github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/parser"
	"github.com/aku-project/aku/podlife/kube"
)

// MarkerPath is the completion marker aku -p start writes and the startup
// probe reads (docs/behaviour.md, "The marker").
const MarkerPath = "/tmp/aku_start_completed"

// Set is the decoded contents of a manifest directory: one Service, one
// ConfigMap, one Secret and one or more variants of the StatefulSet; the
// Services that select on aku's role labels, and the ServiceAccount, Role
// and RoleBinding aku's use of the Kubernetes API needs (docs/behaviour.md,
// "Kubernetes").
type Set struct {
	Dir string
	// Service is the headless Service of the pods' DNS names.
	Service *corev1.Service
	// RoleServices select on the labels aku keeps on its pod (aku/role,
	// aku/synced), in file order.
	RoleServices   []*corev1.Service
	ServiceAccount *corev1.ServiceAccount
	Role           *rbacv1.Role
	RoleBinding    *rbacv1.RoleBinding
	ConfigMap      *corev1.ConfigMap
	Secret         *corev1.Secret
	// StatefulSets are keyed by file name without its extension, e.g.
	// "statefulset-entrypoint".
	StatefulSets map[string]*appsv1.StatefulSet
	// Conf holds the top-level scalar properties of the ConfigMap's
	// aku.conf, by name, as written.
	Conf map[string]string
	// Config is that aku.conf validated by aku's own conf package, with the
	// Secret's password.
	Config *akuconf.Config
	// Rules is the PrometheusRule of the alerts on aku run's metrics
	// (alerts.yaml); nil when there is none.
	Rules *PrometheusRule
}

// PrometheusRule is the part of the Prometheus Operator's PrometheusRule
// the examples use: groups of alerting rules.
type PrometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels,omitempty"`
	} `json:"metadata"`
	Spec struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for,omitempty"`
				Labels      map[string]string `json:"labels,omitempty"`
				Annotations map[string]string `json:"annotations,omitempty"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// Load decodes every *.yaml file of dir strictly, each of its documents
// (separated by "---" lines) with DecodeStrict, and sorts the objects by
// kind. A kind other than Service, ConfigMap, Secret, StatefulSet,
// ServiceAccount, Role, RoleBinding and PrometheusRule, or a second one of
// a kind other than StatefulSet and Service, or a second Service that does
// not select on aku's labels, is an error.
func Load(dir string) (*Set, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("listing manifests in %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("listing manifests in %s: no *.yaml file", dir)
	}
	sort.Strings(files)
	s := &Set{Dir: dir, StatefulSets: map[string]*appsv1.StatefulSet{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading manifest: %w", err)
		}
		for i, doc := range Documents(data) {
			if err := s.add(f, doc); err != nil {
				return nil, fmt.Errorf("decoding %s (document %d): %w", filepath.Base(f), i+1, err)
			}
		}
	}
	if s.Service == nil || s.ConfigMap == nil || s.Secret == nil || len(s.StatefulSets) == 0 {
		return nil, fmt.Errorf("loading manifests from %s: want a Service, a ConfigMap, a Secret and at least one StatefulSet", dir)
	}
	conf, ok := s.ConfigMap.Data["aku.conf"]
	if !ok {
		return nil, fmt.Errorf("loading manifests from %s: ConfigMap %q has no aku.conf", dir, s.ConfigMap.Name)
	}
	s.Conf, err = scalarProperties(conf)
	if err != nil {
		return nil, fmt.Errorf("reading aku.conf of ConfigMap %q: %w", s.ConfigMap.Name, err)
	}
	// Validate it as aku will, with the password from the Secret
	// (docs/configuration.md, "Overrides from the environment").
	var ov akuconf.Overrides
	for _, v := range s.Secret.StringData {
		ov.SysPassword, ov.SysPasswordSet = v, true
	}
	for _, v := range s.Secret.Data {
		ov.SysPassword, ov.SysPasswordSet = string(v), true
	}
	if s.Config, _, err = akuconf.Parse("aku.conf", []byte(conf), ov); err != nil {
		return nil, fmt.Errorf("validating aku.conf of ConfigMap %q: %w", s.ConfigMap.Name, err)
	}
	return s, nil
}

func (s *Set) add(file string, data []byte) error {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		return err
	}
	dup := func() error { return fmt.Errorf("a second %s", meta.Kind) }
	switch {
	case meta.APIVersion == "v1" && meta.Kind == "Service":
		svc := &corev1.Service{}
		if err := DecodeStrict(data, svc); err != nil {
			return err
		}
		switch {
		case selectsRoleLabels(svc):
			s.RoleServices = append(s.RoleServices, svc)
		case s.Service != nil:
			return fmt.Errorf("a second Service that does not select on %s or %s", kube.LabelRole, kube.LabelSynced)
		default:
			s.Service = svc
		}
		return nil
	case meta.APIVersion == "v1" && meta.Kind == "ServiceAccount":
		if s.ServiceAccount != nil {
			return dup()
		}
		s.ServiceAccount = &corev1.ServiceAccount{}
		return DecodeStrict(data, s.ServiceAccount)
	case meta.APIVersion == rbacv1.SchemeGroupVersion.String() && meta.Kind == "Role":
		if s.Role != nil {
			return dup()
		}
		s.Role = &rbacv1.Role{}
		return DecodeStrict(data, s.Role)
	case meta.APIVersion == rbacv1.SchemeGroupVersion.String() && meta.Kind == "RoleBinding":
		if s.RoleBinding != nil {
			return dup()
		}
		s.RoleBinding = &rbacv1.RoleBinding{}
		return DecodeStrict(data, s.RoleBinding)
	case meta.APIVersion == "v1" && meta.Kind == "ConfigMap":
		if s.ConfigMap != nil {
			return dup()
		}
		s.ConfigMap = &corev1.ConfigMap{}
		return DecodeStrict(data, s.ConfigMap)
	case meta.APIVersion == "v1" && meta.Kind == "Secret":
		if s.Secret != nil {
			return dup()
		}
		s.Secret = &corev1.Secret{}
		return DecodeStrict(data, s.Secret)
	case meta.APIVersion == "apps/v1" && meta.Kind == "StatefulSet":
		sts := &appsv1.StatefulSet{}
		if err := DecodeStrict(data, sts); err != nil {
			return err
		}
		s.StatefulSets[strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))] = sts
		return nil
	case meta.APIVersion == "monitoring.coreos.com/v1" && meta.Kind == "PrometheusRule":
		if s.Rules != nil {
			return dup()
		}
		s.Rules = &PrometheusRule{}
		return yaml.UnmarshalStrict(data, s.Rules)
	default:
		return fmt.Errorf("unexpected object %s %s", meta.APIVersion, meta.Kind)
	}
}

// Documents splits a YAML file into its documents, at lines that are
// exactly "---"; an empty document (a leading "---") is left out.
func Documents(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), data...), []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, bytes.TrimPrefix(d, []byte("\n")))
		}
	}
	return docs
}

// DecodeStrict decodes one YAML document into a Kubernetes API object. It
// fails on duplicate keys, on fields the type does not have (a misspelt
// publishNotReadyAddresses would otherwise be dropped without a word), on
// values of the wrong type and on a second document in the same file.
func DecodeStrict(data []byte, into any) error {
	if bytes.HasPrefix(data, []byte("---\n")) {
		data = data[len("---\n"):]
	}
	if bytes.Contains(data, []byte("\n---")) {
		return fmt.Errorf("more than one YAML document: keep one object per file")
	}
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the object")
	}
	return nil
}

// scalarProperties returns the `NAME = VALUE` properties of an aku.conf
// (REPLICATIONS excluded), parsed with aku's own grammar.
func scalarProperties(conf string) (map[string]string, error) {
	f, err := parser.Parse("aku.conf", []byte(conf))
	if err != nil {
		return nil, err
	}
	props := map[string]string{}
	for _, e := range f.Entries {
		if e.Value != nil {
			props[strings.ToUpper(e.Name)] = e.Value.Text()
		}
	}
	return props, nil
}

// ConfInt is an integer property of the ConfigMap's aku.conf, or def when
// the file does not set it (the defaults of docs/configuration.md,
// "Properties").
func (s *Set) ConfInt(name string, def int) (int, error) {
	v, ok := s.Conf[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("aku.conf: %s = %q: not an integer", name, v)
	}
	return n, nil
}

// Container is the StatefulSet's one container (aku and the server share
// it: docs/behaviour.md, "Requirements").
func Container(sts *appsv1.StatefulSet) (*corev1.Container, error) {
	cs := sts.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		return nil, fmt.Errorf("StatefulSet %q: want one container (aku runs next to the server), found %d", sts.Name, len(cs))
	}
	return &cs[0], nil
}

// EnvValue is the literal value of the container's environment variable
// name, and whether it is set as a literal.
func EnvValue(c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}

// Mount is where a path inside the container comes from.
type Mount struct {
	MountPath string
	Volume    corev1.Volume
	// SubPath is the volumeMount's subPath; Rest is the part of the path
	// below MountPath.
	SubPath string
	Rest    string
}

// ResolveMount finds the volume mount that holds path in the container: the
// one with the longest mountPath that is path or one of its parents, as the
// kubelet layers mounts.
func ResolveMount(sts *appsv1.StatefulSet, c *corev1.Container, path string) (Mount, bool) {
	var best *corev1.VolumeMount
	for i := range c.VolumeMounts {
		vm := &c.VolumeMounts[i]
		if path == vm.MountPath || strings.HasPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			if best == nil || len(vm.MountPath) > len(best.MountPath) {
				best = vm
			}
		}
	}
	if best == nil {
		return Mount{}, false
	}
	m := Mount{MountPath: best.MountPath, SubPath: best.SubPath, Rest: strings.TrimPrefix(strings.TrimPrefix(path, best.MountPath), "/")}
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Name == best.Name {
			m.Volume = v
			return m, true
		}
	}
	for _, t := range sts.Spec.VolumeClaimTemplates {
		if t.Name == best.Name {
			m.Volume = corev1.Volume{Name: t.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: t.Name},
			}}
			return m, true
		}
	}
	return Mount{}, false
}

// SecretValue is the value of key in the Secret, from data or stringData.
func SecretValue(s *corev1.Secret, key string) (string, bool) {
	if v, ok := s.StringData[key]; ok {
		return v, true
	}
	if v, ok := s.Data[key]; ok {
		return string(v), true
	}
	return "", false
}

// selectsRoleLabels reports whether a Service selects pods on a label aku
// keeps on its pod.
func selectsRoleLabels(svc *corev1.Service) bool {
	_, role := svc.Spec.Selector[kube.LabelRole]
	_, synced := svc.Spec.Selector[kube.LabelSynced]
	return role || synced
}
