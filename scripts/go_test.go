package scripts

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sandbox is a copy of the scripts in a repository of its own with the
// go.mod given, fake go commands, and an environment with nothing of the
// machine's: PATH holds the fake gos' directories and the few tools the
// script runs, GOMODCACHE an empty module cache.
type sandbox struct {
	t      *testing.T
	root   string // the copy's repository: go.mod, scripts/go
	cache  string // GOMODCACHE
	tools  string // bash and uname
	path   []string
	goroot string // GOROOT of the environment, if any
}

func newSandbox(t *testing.T, gomod string) *sandbox {
	t.Helper()
	s := &sandbox{t: t, root: t.TempDir(), cache: t.TempDir(), tools: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(s.root, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go", "apt-install"} {
		script, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.root, "scripts", name), script, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.root, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	s.link("bash", "uname")
	return s
}

// link puts the machine's tools on the sandbox's PATH.
func (s *sandbox) link(tools ...string) {
	s.t.Helper()
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			s.t.Skipf("%s: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(s.tools, tool)); err != nil {
			s.t.Fatal(err)
		}
	}
}

// script writes an executable shell script.
func (s *sandbox) script(path, text string) {
	s.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+text), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// fakeGo writes a go command that says it is version (as `go version`
// prints it after "go version ") and otherwise prints how it was run, and
// returns its directory.
func (s *sandbox) fakeGo(dir, version string) string {
	s.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	text := `#!/bin/sh
if [ "$1" = version ]; then echo "go version ` + version + `"; exit 0; fi
echo "ran $0 $*"
echo "PATH starts ${PATH%%:*}"
echo "GOROOT=${GOROOT:-}"
`
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(text), 0o755); err != nil {
		s.t.Fatal(err)
	}
	return dir
}

// onPath adds a directory holding a fake go of version to PATH, in order.
func (s *sandbox) onPath(version string) string {
	s.t.Helper()
	dir := s.fakeGo(s.t.TempDir(), version)
	s.path = append(s.path, dir)
	return dir
}

// cached puts a fake toolchain module of version v (1.26.8) in the module cache.
func (s *sandbox) cached(v string) string {
	s.t.Helper()
	dir := filepath.Join(s.cache, "golang.org", "toolchain@v0.0.1-go"+v+"."+runtime.GOOS+"-"+runtime.GOARCH)
	s.fakeGo(filepath.Join(dir, "bin"), "go"+v+" "+runtime.GOOS+"/"+runtime.GOARCH)
	return dir
}

// run runs the copy of scripts/go with args, for at most 10 seconds: a
// script that ran itself as go would not end, so it runs in a process group
// of its own, killed whole at the deadline.
func (s *sandbox) run(args ...string) (string, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.root, "scripts", "go"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	cmd.Dir = s.root
	cmd.Env = []string{
		"PATH=" + strings.Join(append(append([]string{}, s.path...), s.tools), ":"),
		"HOME=" + s.t.TempDir(),
		"GOMODCACHE=" + s.cache,
	}
	if s.goroot != "" {
		cmd.Env = append(cmd.Env, "GOROOT="+s.goroot)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestWhich(t *testing.T) {
	const amd = " linux/amd64"
	tests := []struct {
		name    string
		gomod   string
		path    []string // versions of the gos on PATH, in order ("self": the script's own directory)
		cached  string   // version of the toolchain module in the cache
		want    string   // "path N" (the N-th go on PATH) or "cache"
		wantErr string
	}{
		{name: "PATH's go of that version", gomod: "module m\n\ngo 1.26.8\n", path: []string{"go1.26.8" + amd}, want: "path 0"},
		{name: "PATH's go newer", gomod: "go 1.26.8\n", path: []string{"go1.27.0" + amd}, want: "path 0"},
		{name: "patch versions compare as numbers", gomod: "go 1.26.8\n", path: []string{"go1.26.10" + amd}, want: "path 0"},
		{name: "PATH's go older", gomod: "go 1.26.10\n", path: []string{"go1.26.9" + amd}, wantErr: "no Go 1.26.10 or later: none on PATH, and not in "},
		{name: "a later go on PATH", gomod: "go 1.26.8\n", path: []string{"go1.19.8" + amd, "go1.26.8" + amd}, want: "path 1"},
		{name: "toolchain module when PATH's go is old", gomod: "go 1.26.8\n", path: []string{"go1.19.8" + amd}, cached: "1.26.8", want: "cache"},
		{name: "toolchain module without any go on PATH", gomod: "go 1.26.8\n", cached: "1.26.8", want: "cache"},
		{name: "no go at all", gomod: "go 1.26.8\n", wantErr: "run make deps"},
		{name: "toolchain line newer than go line", gomod: "go 1.26.8\ntoolchain go1.26.9\n", path: []string{"go1.26.8" + amd}, cached: "1.26.9", want: "cache"},
		{name: "toolchain line older than go line", gomod: "go 1.26.9\ntoolchain go1.26.8\n", path: []string{"go1.26.9" + amd}, want: "path 0"},
		{name: "toolchain default", gomod: "toolchain default\ngo 1.26.8\n", path: []string{"go1.26.8" + amd}, want: "path 0"},
		{name: "language version is its .0 release", gomod: "go 1.26\n", path: []string{"go1.26.0" + amd}, want: "path 0"},
		{name: "release candidate older than release", gomod: "go 1.26\n", path: []string{"go1.26rc1" + amd}, wantErr: "no Go 1.26.0 or later"},
		{name: "release candidates in order", gomod: "go 1.27rc2\n", path: []string{"go1.27rc1" + amd, "go1.27rc2" + amd}, want: "path 1"},
		{name: "release newer than its candidates", gomod: "go 1.27rc2\n", path: []string{"go1.27.0" + amd}, want: "path 0"},
		{name: "beta older than candidate", gomod: "go 1.27rc1\n", path: []string{"go1.27beta1" + amd}, wantErr: "no Go 1.27rc1 or later"},
		{name: "CRLF, indentation and comments", gomod: "module m\r\n// go 1.99.0\r\n  go   1.26.8 // language\r\n", path: []string{"go1.26.8" + amd}, want: "path 0"},
		{name: "commented go line ignored", gomod: "// go 1.26.7\ngo 1.26.8\n", path: []string{"go1.26.7" + amd}, wantErr: "no Go 1.26.8 or later"},
		{name: "no newline at the end", gomod: "go 1.26.8", path: []string{"go1.26.8" + amd}, want: "path 0"},
		{name: "devel go is not a version", gomod: "go 1.26.8\n", path: []string{"devel go1.27-abcdef" + amd}, wantErr: "no Go 1.26.8 or later"},
		{name: "the script itself on PATH", gomod: "go 1.26.8\n", path: []string{"self", "go1.26.8" + amd}, want: "path 1"},
		{name: "no go line", gomod: "module m\n", wantErr: `go.mod: no go line: want e.g. "go 1.26.8"`},
		{name: "bad go version", gomod: "module m\ngo 1.x\n", wantErr: `go.mod:2: go version "1.x": want e.g. 1.26.8`},
		{name: "bad toolchain", gomod: "go 1.26.8\ntoolchain 1.26.9\n", wantErr: `go.mod:2: toolchain "1.26.9": want e.g. go1.26.8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, tt.gomod)
			var dirs []string
			for _, v := range tt.path {
				if v == "self" {
					s.path = append(s.path, filepath.Join(s.root, "scripts"))
					dirs = append(dirs, "")
					continue
				}
				dirs = append(dirs, s.onPath(v))
			}
			var cache string
			if tt.cached != "" {
				cache = s.cached(tt.cached)
			}
			out, err := s.run("--which")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(out, tt.wantErr) {
					t.Fatalf("scripts/go --which: %v, output %q; want an error containing %q", err, out, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("scripts/go --which: %v: %s", err, out)
			}
			want := filepath.Join(cache, "bin", "go")
			if tt.want != "cache" {
				var n int
				if _, err := fmt.Sscanf(tt.want, "path %d", &n); err != nil {
					t.Fatal(err)
				}
				want = filepath.Join(dirs[n], "go")
			}
			if got := strings.TrimSpace(out); got != want {
				t.Errorf("scripts/go --which = %s, want %s", got, want)
			}
		})
	}
}

// TestRun checks that scripts/go runs the go it found with the arguments
// given, that go's directory first on PATH, and GOROOT pointing at the
// toolchain module when it runs that (whatever GOROOT the environment has).
func TestRun(t *testing.T) {
	t.Run("toolchain module", func(t *testing.T) {
		s := newSandbox(t, "go 1.26.8\n")
		s.onPath("go1.19.8 linux/amd64")
		s.goroot = "/somewhere/else"
		dir := s.cached("1.26.8")
		out, err := s.run("build", "-o", "x y", "./...")
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		want := "ran " + dir + "/bin/go build -o x y ./...\nPATH starts " + dir + "/bin\nGOROOT=" + dir + "\n"
		if out != want {
			t.Errorf("output:\n%s\nwant:\n%s", out, want)
		}
	})
	t.Run("PATH's go", func(t *testing.T) {
		s := newSandbox(t, "go 1.26.8\n")
		dir := s.onPath("go1.26.8 linux/amd64")
		s.goroot = "/the/users/own"
		out, err := s.run("vet", "./...")
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		want := "ran " + dir + "/go vet ./...\nPATH starts " + dir + "\nGOROOT=/the/users/own\n"
		if out != want {
			t.Errorf("output:\n%s\nwant:\n%s", out, want)
		}
	})
}

// TestInstallWhenPresent checks that scripts/go --install does nothing,
// quietly, when the go wanted is there: PATH holds no apt and no network
// tool for it to reach for.
func TestInstallWhenPresent(t *testing.T) {
	for _, where := range []string{"path", "cache"} {
		t.Run(where, func(t *testing.T) {
			s := newSandbox(t, "go 1.26.8\n")
			if where == "path" {
				s.onPath("go1.26.8 linux/amd64")
			} else {
				s.onPath("go1.19.8 linux/amd64")
				s.cached("1.26.8")
			}
			out, err := s.run("--install")
			if err != nil || out != "" {
				t.Errorf("scripts/go --install: %v, output %q; want nothing", err, out)
			}
		})
	}
}

// bootstrapGo is an old go that can only download: `go mod download M`
// unpacks a fake toolchain module M into GOMODCACHE, its files read-only
// and not executable as a module zip leaves them, after checking that it
// runs as scripts/go must run it (outside any module, no toolchain switch).
const bootstrapGo = `case "$1" in
version) echo "go version go1.19.8 linux/amd64" ;;
mod)
	[ "$2" = download ] || exit 2
	[ -e go.mod ] && { echo "go mod download ran inside a module" >&2; exit 3; }
	[ "$GOTOOLCHAIN" = local ] || { echo "GOTOOLCHAIN=$GOTOOLCHAIN" >&2; exit 4; }
	dir="$GOMODCACHE/$3"
	mkdir -p "$dir/bin" "$dir/pkg/tool/x"
	printf '#!/bin/sh\necho "go version go1.26.8 linux/amd64"\n' >"$dir/bin/go"
	cp "$dir/bin/go" "$dir/pkg/tool/x/compile"
	chmod 0444 "$dir/bin/go" "$dir/pkg/tool/x/compile"
	;;
*) exit 5 ;;
esac
`

// TestInstall runs scripts/go --install offline: the bootstrap go is a
// fake that unpacks a fake toolchain module, and for Debian's go apt and
// dpkg are fakes too. After it, scripts/go runs the module's go.
func TestInstall(t *testing.T) {
	t.Run("an old go on PATH downloads", func(t *testing.T) {
		s := newSandbox(t, "go 1.26.8\n")
		s.link("mkdir", "printf", "cp", "chmod", "mktemp", "rm", "find")
		dir := t.TempDir()
		s.script(filepath.Join(dir, "go"), bootstrapGo)
		s.path = append(s.path, dir)
		s.checkInstall("installing Go 1.26.8: golang.org/toolchain@v0.0.1-go1.26.8." + runtime.GOOS + "-" + runtime.GOARCH + " into " + s.cache + ", downloaded by " + dir + "/go (1.19.8)\n")
	})
	t.Run("Debian's go downloads", func(t *testing.T) {
		s, goBin := debianSandbox(t, "install ok installed")
		s.checkInstall("installing Go 1.26.8: golang.org/toolchain@v0.0.1-go1.26.8." + runtime.GOOS + "-" + runtime.GOARCH + " into " + s.cache + ", downloaded by " + goBin + " (1.19.8)\n")
	})
	t.Run("Debian's go cannot be installed", func(t *testing.T) {
		s, _ := debianSandbox(t, "")
		s.script(filepath.Join(s.path[0], "apt-get"), `echo "E: could not open lock file" >&2; exit 100`)
		out, err := s.run("--install")
		if err == nil || !strings.HasSuffix(out, "scripts/go: installing golang-1.19-go failed\n") {
			t.Errorf("scripts/go --install: %v, output %q; want it to fail naming the package", err, out)
		}
	})
}

// debianSandbox is a machine without go whose apt knows golang-go, with
// dpkg-query reporting status for every package: there, Debian's go is
// the bootstrap. It returns the sandbox and where Debian's go is.
func debianSandbox(t *testing.T, status string) (*sandbox, string) {
	s := newSandbox(t, "go 1.26.8\n")
	s.link("mkdir", "printf", "cp", "chmod", "mktemp", "rm", "find", "grep", "sed", "id", "env")
	goBin := filepath.Join(t.TempDir(), "usr", "lib", "go-1.19", "bin", "go")
	s.script(goBin, bootstrapGo)
	fakes := t.TempDir()
	s.script(filepath.Join(fakes, "apt-cache"), `[ "$*" = "depends golang-go" ] || exit 1
printf 'golang-go\n  Depends: golang-1.19-go\n  Depends: golang-src\n  Conflicts: gccgo-go\n'
`)
	s.script(filepath.Join(fakes, "dpkg-query"), `echo "`+status+`"`)
	// A long file list with bin/go near its top: a reader that stops at
	// the first match leaves dpkg writing to a closed pipe.
	s.script(filepath.Join(fakes, "dpkg"), `[ "$*" = "-L golang-1.19-go" ] || exit 1
echo /usr/lib/go-1.19
echo `+goBin+`
i=0
while [ $i -lt 20000 ]; do echo /usr/share/go-1.19/src/file$i.go; i=$((i+1)); done
`)
	s.path = append(s.path, fakes)
	return s, goBin
}

// checkInstall runs scripts/go --install, expecting output want, then
// checks that the module's commands are executable and that scripts/go
// runs the module's go.
func (s *sandbox) checkInstall(want string) {
	s.t.Helper()
	out, err := s.run("--install")
	if err != nil || out != want {
		s.t.Fatalf("scripts/go --install: %v, output:\n%s\nwant:\n%s", err, out, want)
	}
	dir := filepath.Join(s.cache, "golang.org", "toolchain@v0.0.1-go1.26.8."+runtime.GOOS+"-"+runtime.GOARCH)
	for _, f := range []string{"bin/go", "pkg/tool/x/compile"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm()&0o111 != 0o111 {
			s.t.Errorf("%s: %v, mode %v: want executable by all", f, err, fi.Mode())
		}
	}
	if out, err := s.run("version"); err != nil || out != "go version go1.26.8 linux/amd64\n" {
		s.t.Errorf("scripts/go version after --install: %v, %q", err, out)
	}
	if out, err := s.run("--install"); err != nil || out != "" {
		s.t.Errorf("second scripts/go --install: %v, %q; want nothing", err, out)
	}
}
