package conf_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aku-project/aku/conf"
)

// TestExamples parses every aku.conf* under examples/ (issue 2, item 9):
// the samples users copy must stay valid.
func TestExamples(t *testing.T) {
	root := filepath.Join("..", "examples")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), "aku.conf") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"aku.conf.sample", "aku.conf.71.sample"} {
		if !contains(files, filepath.Join(root, want)) {
			t.Errorf("examples/%s is missing (found %q)", want, files)
		}
	}
	for _, path := range files {
		t.Run(filepath.ToSlash(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _, err := conf.Parse(path, src, conf.Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Groups) == 0 || len(cfg.Groups[0].Items) == 0 {
				t.Errorf("no replication items in %s", path)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func ExampleParse() {
	src := `AKU_STS_NAME     = altibase-sts
AKU_SVC_NAME     = altibase-svc
AKU_SERVER_COUNT = 3
AKU_SYS_PASSWORD = "pa ss#word"   # a value with spaces or '#' is quoted
REPLICATIONS = (
    REPLICATION_NAME_PREFIX = AKU_REP
    ( SYS.T1, SYS.T2 PARTITION P1 )
)
`
	cfg, _, err := conf.Parse("aku.conf", []byte(src), conf.Overrides{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.StsName, cfg.ServerCount, cfg.SysPassword, cfg.PortNo)
	for _, g := range cfg.Groups {
		fmt.Println(g.Prefix, g.Items)
	}

	_, _, err = conf.Parse("aku.conf", []byte("AKU_PORT = 20300\n"), conf.Overrides{})
	fmt.Println(err)
	// Output:
	// altibase-sts 3 pa ss#word 20300
	// AKU_REP [SYS.T1 SYS.T2 PARTITION P1]
	// aku.conf:1:1: unknown property "AKU_PORT" (did you mean AKU_PORT_NO?)
	// aku.conf:2:1: Property [AKU_STS_NAME] should be specified by configuration.
	// aku.conf:2:1: Property [AKU_SVC_NAME] should be specified by configuration.
	// aku.conf:2:1: Property [AKU_SYS_PASSWORD] should be specified by configuration.
	// aku.conf:2:1: Property [REPLICATIONS] should be specified by configuration.
}
