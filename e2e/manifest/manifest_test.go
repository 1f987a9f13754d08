package manifest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

const examplesDir = "../../examples/kubernetes"

func loadExamples(t *testing.T) *Set {
	t.Helper()
	s, err := Load(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExamplesHoldTheInvariants(t *testing.T) {
	s := loadExamples(t)
	if err := s.Check(); err != nil {
		t.Fatalf("the examples break invariants:\n%v", err)
	}
	var got []string
	for n := range s.StatefulSets {
		got = append(got, n)
	}
	if len(got) != 3 || s.StatefulSets["statefulset-entrypoint"] == nil || s.StatefulSets["statefulset-hooks"] == nil || s.StatefulSets["statefulset-run"] == nil {
		t.Errorf("StatefulSet variants = %v, want statefulset-entrypoint, statefulset-hooks and statefulset-run", got)
	}
	if s.Rules == nil || len(s.Rules.Spec.Groups) == 0 {
		t.Error("no alerting rules (alerts.yaml)")
	}
	if s.Conf["AKU_STS_NAME"] != "altibase-sts" || s.Conf["AKU_SVC_NAME"] != "altibase-svc" || s.Conf["AKU_SERVER_COUNT"] != "4" {
		t.Errorf("aku.conf properties = %v", s.Conf)
	}
	cfg := s.Config
	if cfg.StsName != "altibase-sts" || cfg.ServerCount != 4 || cfg.SysPassword != "manager" || len(cfg.Groups) != 1 || len(cfg.Groups[0].Items) != 2 {
		t.Errorf("validated aku.conf = %+v", cfg)
	}
	if !cfg.ResetOnlyWhenLeaving || !cfg.KubernetesPublish {
		t.Errorf("aku.conf of the examples: AKU_REPLICATION_RESET_AT_END = 2 %v, AKU_KUBERNETES_PUBLISH = 1 %v, want both", cfg.ResetOnlyWhenLeaving, cfg.KubernetesPublish)
	}
	// The DDL Service reaches the master, the DML Service every synced pod.
	selectors := map[string]map[string]string{}
	for _, svc := range s.RoleServices {
		selectors[svc.Name] = svc.Spec.Selector
	}
	want := map[string]map[string]string{
		"altibase-ddl": {"app": "altibase", "aku/role": "master"},
		"altibase-dml": {"app": "altibase", "aku/synced": "true"},
	}
	if !reflect.DeepEqual(selectors, want) {
		t.Errorf("role Services select %v, want %v", selectors, want)
	}
	if s.ServiceAccount == nil || s.ServiceAccount.Name != "altibase-aku" {
		t.Errorf("ServiceAccount = %v, want altibase-aku", s.ServiceAccount)
	}
	budget, err := s.EndBudget()
	if err != nil {
		t.Fatal(err)
	}
	// AKU_QUERY_TIMEOUT 60 + 3 rounds x 5 retries x 1 s + 15.
	if budget != 90 {
		t.Errorf("EndBudget = %d, want 90", budget)
	}
}

func TestDecodeStrictRejects(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  publishNotReadyAdresses: true\n", `unknown field "publishNotReadyAdresses"`},
		{"duplicate key", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nmetadata: {name: t}\n", `key "metadata" already set`},
		{"wrong type", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: 20300\n", "cannot unmarshal number"},
		{"two documents", "apiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Service\n", "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DecodeStrict([]byte(tt.yaml), &corev1.Service{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeStrict error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	var svc corev1.Service
	if err := DecodeStrict([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: None}\n"), &svc); err != nil || svc.Spec.ClusterIP != "None" {
		t.Fatalf("DecodeStrict of a valid Service: %v, %+v", err, svc.Spec)
	}
}

// TestCheckFindsBrokenInvariants breaks one invariant at a time in a copy of
// the examples and expects Check to name it.
func TestCheckFindsBrokenInvariants(t *testing.T) {
	hooks := func(s *Set) *appsv1.StatefulSet { return s.StatefulSets["statefulset-hooks"] }
	entry := func(s *Set) *appsv1.StatefulSet { return s.StatefulSets["statefulset-entrypoint"] }
	runv := func(s *Set) *appsv1.StatefulSet { return s.StatefulSets["statefulset-run"] }
	container := func(sts *appsv1.StatefulSet) *corev1.Container { return &sts.Spec.Template.Spec.Containers[0] }
	setEnv := func(c *corev1.Container, name, value string) {
		for i := range c.Env {
			if c.Env[i].Name == name {
				c.Env[i].Value = value
			}
		}
	}
	i32 := func(n int32) *int32 { return &n }
	tests := []struct {
		name   string
		break_ func(s *Set)
		want   string
	}{
		{"parallel pod management", func(s *Set) { entry(s).Spec.PodManagementPolicy = appsv1.ParallelPodManagement },
			`statefulset-entrypoint: podManagementPolicy is "Parallel", want OrderedReady`},
		{"not-ready addresses unpublished", func(s *Set) { s.Service.Spec.PublishNotReadyAddresses = false },
			`Service "altibase-svc": publishNotReadyAddresses must be true`},
		{"not headless", func(s *Set) { s.Service.Spec.ClusterIP = "" }, `clusterIP is "", want None`},
		{"startup probe on the marker alone", func(s *Set) {
			container(hooks(s)).StartupProbe.Exec.Command = []string{"cat", "/tmp/aku_start_completed"}
		}, `statefulset-hooks: container "altibase": the startupProbe must run aku probe startup`},
		{"no liveness probe", func(s *Set) { container(entry(s)).LivenessProbe = nil },
			`statefulset-entrypoint: container "altibase": the livenessProbe must run aku probe live`},
		{"readiness probe without the marker", func(s *Set) {
			container(entry(s)).ReadinessProbe.Exec.Command = []string{"aku", "probe", "role", "writable"}
		}, `statefulset-entrypoint: container "altibase": the readinessProbe must run aku probe ready`},
		{"readiness probe too short", func(s *Set) { container(hooks(s)).ReadinessProbe.TimeoutSeconds = 1 },
			`statefulset-hooks: container "altibase": the readinessProbe's timeoutSeconds 1 is below 5`},
		{"service name mismatch", func(s *Set) { entry(s).Spec.ServiceName = "other" }, `serviceName "other" is not the Service "altibase-svc"`},
		{"too many replicas", func(s *Set) { hooks(s).Spec.Replicas = i32(5) }, "statefulset-hooks: replicas must be 1..AKU_SERVER_COUNT (4)"},
		{"sts name differs from aku.conf", func(s *Set) { s.Conf["AKU_STS_NAME"] = "db" }, `StatefulSet "altibase-sts": name differs from AKU_STS_NAME "db"`},
		{"svc name differs from aku.conf", func(s *Set) { s.Conf["AKU_SVC_NAME"] = "db-svc" }, `Service "altibase-svc": name differs from AKU_SVC_NAME "db-svc"`},
		{"short grace period", func(s *Set) { g := int64(30); entry(s).Spec.Template.Spec.TerminationGracePeriodSeconds = &g },
			"statefulset-entrypoint: terminationGracePeriodSeconds 30 < 90 s"},
		{"query timeout beyond grace", func(s *Set) { s.Conf["AKU_QUERY_TIMEOUT"] = "3600" }, "terminationGracePeriodSeconds 120 < 3630 s"},
		{"password file outside the secret", func(s *Set) { setEnv(container(entry(s)), "AKU_SYS_PASSWORD_FILE", "/aku/config/pw") },
			`AKU_SYS_PASSWORD_FILE /aku/config/pw is not in a mount of Secret "altibase-sys"`},
		{"password key missing", func(s *Set) { s.Secret.StringData = map[string]string{"password": "x"} },
			`Secret "altibase-sys" has no key "sys-password"`},
		{"admin mode off", func(s *Set) { setEnv(container(hooks(s)), "ALTIBASE_ADMIN_MODE", "0") }, `ALTIBASE_ADMIN_MODE must be "1"`},
		{"no remote sysdba", func(s *Set) { setEnv(container(hooks(s)), "ALTIBASE_REMOTE_SYSDBA_ENABLE", "0") }, `ALTIBASE_REMOTE_SYSDBA_ENABLE must be "1"`},
		{"pod name not from downward api", func(s *Set) { container(entry(s)).Env[0].ValueFrom = nil }, "POD_NAME must come from the Downward API"},
		{"variants drift", func(s *Set) { container(hooks(s)).Image = "altibase/altibase:7.1" },
			"statefulset-hooks: differs from statefulset-entrypoint in more than the entry point and the lifecycle hooks"},
		{"end deadline past the grace period", func(s *Set) { setEnv(container(hooks(s)), "AKU_END_DEADLINE", "2m") },
			`statefulset-hooks: AKU_END_DEADLINE 2m is not below terminationGracePeriodSeconds 120`},
		{"end deadline not a time", func(s *Set) { setEnv(container(hooks(s)), "AKU_END_DEADLINE", "soon") },
			`AKU_END_DEADLINE "soon": want a duration`},
		{"no preStop aku end", func(s *Set) { container(hooks(s)).Lifecycle.PreStop.Exec.Command = []string{"true"} }, "the preStop hook must run aku -p end"},
		{"password in aku.conf", func(s *Set) { s.Conf["AKU_SYS_PASSWORD"] = "manager" }, "aku.conf holds AKU_SYS_PASSWORD"},
		{"missing script", func(s *Set) { delete(s.ConfigMap.Data, "entrypoint.sh") }, `/aku/config/entrypoint.sh is not a key of ConfigMap "altibase-aku"`},
		{"aku.conf not mounted", func(s *Set) { setEnv(container(entry(s)), "ALTIBASE_HOME", "/opt/altibase") }, "$ALTIBASE_HOME/conf/aku.conf is not the aku.conf"},
		{"service port", func(s *Set) { s.Service.Spec.Ports = s.Service.Spec.Ports[:1] }, "no port 20301"},
		{"one variant only", func(s *Set) { delete(s.StatefulSets, "statefulset-hooks") }, "want both variants"},
		{"aku run's grace period differs", func(s *Set) { g := int64(180); runv(s).Spec.Template.Spec.TerminationGracePeriodSeconds = &g },
			`statefulset-run: container "altibase": aku run's --grace-period (or AKU_GRACE_PERIOD) "120s" must be terminationGracePeriodSeconds`},
		{"aku run without a grace period", func(s *Set) { container(runv(s)).Command = []string{"aku", "run", "--", "server", "start"} },
			`aku run's --grace-period (or AKU_GRACE_PERIOD) "" must be terminationGracePeriodSeconds`},
		{"aku run's port", func(s *Set) {
			container(runv(s)).Command = append([]string{"aku", "run", "--listen", ":9000"}, container(runv(s)).Command[2:]...)
		},
			"want a port named metrics with containerPort 9000"},
		{"aku run's probe path", func(s *Set) { container(runv(s)).ReadinessProbe.HTTPGet.Path = "/healthz" },
			`statefulset-run: container "altibase": the readinessProbe must GET /readyz on the port metrics`},
		{"aku run with exec probes", func(s *Set) { container(runv(s)).LivenessProbe = container(entry(s)).LivenessProbe },
			"the livenessProbe must GET /livez"},
		{"no scrape annotation", func(s *Set) { delete(runv(s).Spec.Template.Annotations, "prometheus.io/scrape") },
			"annotations prometheus.io/scrape and prometheus.io/port"},
		{"aku run variant drifts", func(s *Set) { container(runv(s)).Image = "altibase/altibase:7.1" },
			"statefulset-run: differs from statefulset-entrypoint"},
		{"default service account", func(s *Set) { entry(s).Spec.Template.Spec.ServiceAccountName = "" },
			`statefulset-entrypoint: serviceAccountName "" is not the ServiceAccount "altibase-aku"`},
		{"no token mounted", func(s *Set) { f := false; hooks(s).Spec.Template.Spec.AutomountServiceAccountToken = &f },
			"statefulset-hooks: automountServiceAccountToken is false"},
		{"no rbac", func(s *Set) { s.Role = nil }, "want a ServiceAccount, a Role and a RoleBinding (rbac.yaml)"},
		{"role grants deleting pods", func(s *Set) { s.Role.Rules[1].Verbs = append(s.Role.Rules[1].Verbs, "delete") },
			`Role "altibase-aku": grants delete pods, more than aku needs`},
		{"role grants every statefulset", func(s *Set) { s.Role.Rules[0].ResourceNames = nil },
			`Role "altibase-aku": grants get statefulsets.apps, more than aku needs`},
		{"role without events", func(s *Set) { s.Role.Rules = s.Role.Rules[:2] },
			`Role "altibase-aku": does not grant create events.events.k8s.io, which aku needs`},
		{"binding to another account", func(s *Set) { s.RoleBinding.Subjects = []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default"}} },
			`RoleBinding "altibase-aku": does not bind ServiceAccount "altibase-aku"`},
		{"binding to another role", func(s *Set) { s.RoleBinding.RoleRef.Name = "view" }, `roleRef is Role view, want Role "altibase-aku"`},
		{"synced label value", func(s *Set) { s.RoleServices[1].Spec.Selector["aku/synced"] = "yes" },
			`Service "altibase-dml": aku/synced: "yes" is neither "true" nor "false"`},
		{"role label value", func(s *Set) { s.RoleServices[0].Spec.Selector["aku/role"] = "primary" },
			`Service "altibase-ddl": aku/role: "primary" is neither master nor slave`},
		{"role service selects other pods", func(s *Set) { s.RoleServices[0].Spec.Selector["app"] = "postgres" },
			`Service "altibase-ddl": its selector beside aku's labels does not match the pod template's labels`},
		{"labels not published", func(s *Set) { s.Config.KubernetesPublish = false },
			`Service "altibase-ddl": selects on aku's labels, but aku.conf has no AKU_KUBERNETES_PUBLISH = 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loadExamples(t)
			tt.break_(s)
			err := s.Check()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check() = %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadValidatesAkuConf(t *testing.T) {
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if filepath.Base(f) == "configmap.yaml" {
			text = strings.Replace(text, "AKU_SERVER_COUNT              = 4", "AKU_SERVER_COUNT              = 7", 1)
		}
		writeFile(t, filepath.Join(dir, filepath.Base(f)), text)
	}
	_, err = Load(dir)
	if err == nil || !strings.Contains(err.Error(), "validating aku.conf of ConfigMap") || !strings.Contains(err.Error(), "AKU_SERVER_COUNT") {
		t.Fatalf("Load with AKU_SERVER_COUNT = 7: %v", err)
	}
}

func TestLoadRejectsAnUnknownKind(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "x.yaml (document 1): unexpected object apps/v1 Deployment") {
		t.Fatalf("Load = %v", err)
	}
}
