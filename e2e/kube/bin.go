package kube

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Binaries are the commands a control plane runs, all in one directory.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controllers"}

// BinDir is the directory of the control plane's binaries: $AKU_KUBE_BIN
// when set, else what `scripts/kube-build --dir` of the module at root
// prints (the machine's cache, built by make kube-deps). It fails, saying
// so, when they are not built.
func BinDir(root string) (string, error) {
	dir := os.Getenv("AKU_KUBE_BIN")
	if dir == "" {
		out, err := exec.Command(filepath.Join(root, "scripts", "kube-build"), "--dir").Output()
		if err != nil {
			var msg string
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				msg = strings.TrimSpace(string(ee.Stderr))
			}
			return "", fmt.Errorf("finding the control plane's binaries: %w: %s", err, msg)
		}
		dir = strings.TrimSpace(string(out))
	}
	for _, b := range Binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("finding the control plane's binaries: %w (make kube-deps builds them)", err)
		}
	}
	return dir, nil
}
