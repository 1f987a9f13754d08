package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/aku-project/aku/e2e/manifest"
)

// apply creates the objects of every manifest file in the namespace, as
// kubectl create -f would, whatever their kinds (a ServiceAccount, Role or
// RoleBinding the manifests gain needs nothing here), with the API
// server's strict field validation, but for the Prometheus Operator's
// kinds, which this control plane does not know. Only what the harness must translate
// is changed: StatefulSet files other than the chosen variant are left
// out, the StatefulSet starts with replicas 0 (Scale sets them), and the
// ConfigMap carries the data the pods see (Options.Conf and ConfigMap
// applied).
func (kc *KubeCluster) apply(ctx context.Context) error {
	c, cp := kc.Cluster, kc.ControlPlane
	files, err := filepath.Glob(filepath.Join(c.opts.ManifestDir, "*.yaml"))
	if err != nil {
		return fmt.Errorf("applying the manifests of %s: %w", c.opts.ManifestDir, err)
	}
	sort.Strings(files)
	dyn, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		return fmt.Errorf("applying the manifests: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cp.Client.Discovery()))
	var applied []string
	for _, f := range files {
		objs, err := kc.translate(f)
		if err != nil {
			return fmt.Errorf("applying %s: %w", filepath.Base(f), err)
		}
		for _, obj := range objs {
			gvk := obj.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if meta.IsNoMatchError(err) && gvk.Group == prometheusOperatorGroup {
				// alerts.yaml is optional: a cluster without the
				// Prometheus Operator has no PrometheusRule, nor has
				// this control plane.
				c.logf("not applied: %s %s (%s: no Prometheus Operator here)", gvk.Kind, obj.GetName(), filepath.Base(f))
				continue
			}
			if err != nil {
				return fmt.Errorf("applying %s: %w", filepath.Base(f), err)
			}
			var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
			if m.Scope.Name() == meta.RESTScopeNameNamespace {
				ri = dyn.Resource(m.Resource).Namespace(kc.Namespace)
			}
			if _, err := ri.Create(ctx, obj, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}); err != nil {
				return fmt.Errorf("applying %s (%s %s): %w", filepath.Base(f), gvk.Kind, obj.GetName(), err)
			}
			applied = append(applied, gvk.Kind+" "+obj.GetName())
		}
	}
	c.logf("applied to namespace %s: %s", kc.Namespace, strings.Join(applied, ", "))
	return nil
}

// prometheusOperatorGroup is the API group of the Prometheus Operator's
// kinds (the PrometheusRule of alerts.yaml).
const prometheusOperatorGroup = "monitoring.coreos.com"

// translate decodes the objects of one manifest file (each of its
// documents: rbac.yaml holds three) and makes the harness's changes to
// them; a StatefulSet variant not run is left out.
func (kc *KubeCluster) translate(file string) ([]*unstructured.Unstructured, error) {
	c := kc.Cluster
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, doc := range manifest.Documents(data) {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return nil, err
		}
		switch kind := obj.GetKind(); {
		case kind == "StatefulSet" && strings.TrimSuffix(filepath.Base(file), ".yaml") != c.opts.Variant:
			continue
		case kind == "StatefulSet":
			err = unstructured.SetNestedField(obj.Object, int64(0), "spec", "replicas")
		case kind == "ConfigMap" && obj.GetName() == c.manifests.ConfigMap.Name:
			projected := map[string]any{}
			entries, rerr := os.ReadDir(filepath.Join(c.dir, "configmap"))
			if rerr != nil {
				return nil, rerr
			}
			for _, e := range entries {
				v, rerr := os.ReadFile(filepath.Join(c.dir, "configmap", e.Name()))
				if rerr != nil {
					return nil, rerr
				}
				projected[e.Name()] = string(v)
			}
			err = unstructured.SetNestedField(obj.Object, projected, "data")
		}
		if err != nil {
			return nil, err
		}
		objs = append(objs, obj)
	}
	return objs, nil
}
