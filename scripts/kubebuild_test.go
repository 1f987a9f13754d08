package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// kubeSandbox is a repository with scripts/kube-build, a control plane
// module of two lines, and a fake scripts/go that "builds" by writing the
// binaries named in its -o directory and logging each call.
type kubeSandbox struct {
	t     *testing.T
	root  string
	cache string
	calls string // the fake go's log
}

func newKubeSandbox(t *testing.T) *kubeSandbox {
	t.Helper()
	s := &kubeSandbox{t: t, root: t.TempDir(), cache: t.TempDir()}
	s.calls = filepath.Join(s.root, "go-calls")
	script, err := os.ReadFile("kube-build")
	if err != nil {
		t.Fatal(err)
	}
	s.write("scripts/kube-build", string(script), 0o755)
	s.write("scripts/go", `#!/usr/bin/env bash
echo "$*" >> "`+s.calls+`"
while [[ $# -gt 0 ]]; do
	if [[ $1 == -o ]]; then out=$2; shift; fi
	shift
done
for b in etcd kube-apiserver kube-controllers; do printf '#!/bin/sh\n' > "$out/$b"; chmod +x "$out/$b"; done
`, 0o755)
	s.write("e2e/kube/controlplane/go.mod", "module example.com/cp\n\nrequire (\n\tgo.etcd.io/etcd/server/v3 v3.7.0\n\tk8s.io/kubernetes v1.37.2\n)\n", 0o644)
	s.write("e2e/kube/controlplane/go.sum", "one\n", 0o644)
	s.write("e2e/kube/controlplane/cmd/etcd/main.go", "package main\n", 0o644)
	return s
}

func (s *kubeSandbox) write(rel, text string, mode os.FileMode) {
	s.t.Helper()
	p := filepath.Join(s.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		s.t.Fatal(err)
	}
}

// run runs scripts/kube-build with args; it returns stdout, stderr and
// whether it succeeded.
func (s *kubeSandbox) run(args ...string) (string, string, bool) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.root, "scripts", "kube-build"), args...)
	cmd.Env = append(os.Environ(), "AKU_KUBE_CACHE="+s.cache)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err == nil
}

func (s *kubeSandbox) builds() int {
	data, _ := os.ReadFile(s.calls)
	return strings.Count(string(data), "\n")
}

// TestKubeBuild: --dir fails before a build and names make kube-deps; a
// build puts the binaries under a key of the versions; a second run builds
// nothing and says where they are; a changed go.sum builds anew under
// another key; an unknown argument is refused.
func TestKubeBuild(t *testing.T) {
	s := newKubeSandbox(t)
	if _, stderr, ok := s.run("--dir"); ok || !strings.Contains(stderr, "make kube-deps") {
		t.Errorf("--dir before any build: ok=%v, stderr %q, want a failure naming make kube-deps", ok, stderr)
	}
	out, stderr, ok := s.run()
	if !ok || s.builds() != 1 || !strings.Contains(out, "built ") {
		t.Fatalf("first run: ok=%v, %d builds, out %q, stderr %q; want one build", ok, s.builds(), out, stderr)
	}
	dir, _, ok := s.run("--dir")
	dir = strings.TrimSpace(dir)
	if !ok || !strings.HasPrefix(dir, filepath.Join(s.cache, "kubernetes-v1.37.2-etcd-v3.7.0-")) || filepath.Base(dir) != "bin" {
		t.Fatalf("--dir after the build: %q (ok=%v), want %s/kubernetes-v1.37.2-etcd-v3.7.0-<hash>/bin", dir, ok, s.cache)
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controllers"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Errorf("after the build: %v", err)
		}
	}
	if calls, _ := os.ReadFile(s.calls); !strings.Contains(string(calls), "k8s.io/kubernetes/cmd/kube-apiserver") ||
		!strings.Contains(string(calls), "gitVersion=v1.37.2") {
		t.Errorf("the build ran go with %q, want kube-apiserver built and stamped v1.37.2", calls)
	}

	out, _, ok = s.run()
	if !ok || s.builds() != 1 || !strings.Contains(out, "cached") || !strings.Contains(out, dir) {
		t.Errorf("second run: ok=%v, %d builds, out %q; want no build, the cached directory named", ok, s.builds(), out)
	}

	s.write("e2e/kube/controlplane/go.sum", "two\n", 0o644)
	if _, _, ok := s.run(); !ok || s.builds() != 2 {
		t.Fatalf("after go.sum changed: ok=%v, %d builds, want a second build", ok, s.builds())
	}
	if dir2, _, _ := s.run("--dir"); strings.TrimSpace(dir2) == dir {
		t.Errorf("after go.sum changed the key stayed %s", dir)
	}

	if _, stderr, ok := s.run("--bogus"); ok || !strings.Contains(stderr, `"--bogus"`) {
		t.Errorf("--bogus: ok=%v, stderr %q; want a failure naming it", ok, stderr)
	}
}
