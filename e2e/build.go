package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModuleRoot is the directory of aku's go.mod, found from the working
// directory upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/aku-project/aku\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the module root: no go.mod of github.com/aku-project/aku above the working directory")
		}
		dir = parent
	}
}

// Build compiles aku and altisim from the module at root into dir, with cgo
// (aku's ODBC driver needs it).
func Build(ctx context.Context, root, dir string) error {
	// The go on PATH (the Makefile puts the toolchain of go.mod there), or
	// the one of the GOROOT that go test exports to the tests it runs.
	gobin, err := exec.LookPath("go")
	if err != nil {
		root := os.Getenv("GOROOT")
		if root == "" {
			return fmt.Errorf("building aku and altisim: no go on PATH and GOROOT unset")
		}
		gobin = filepath.Join(root, "bin", "go")
	}
	for _, name := range []string{"aku", "altisim"} {
		cmd := exec.CommandContext(ctx, gobin, "build", "-o", filepath.Join(dir, name), "./cmd/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %w\n%s", name, err, out)
		}
	}
	return nil
}

// serverShim stands in for Altibase's `server` script in the pods:
// `server create` makes the database directory, `server start` runs altisim
// in the background on the ports of ALTIBASE_PORT_NO and
// ALTIBASE_REPLICATION_PORT_NO with the SYS password of the mounted Secret
// and waits for it to accept clients, `server stop` stops it gracefully.
// altisim reads ALTIBASE_ADMIN_MODE and ALTIBASE_REMOTE_SYSDBA_ENABLE itself.
const serverShim = `#!/bin/sh
# server: the e2e harness's stand-in for Altibase's server script.
set -u
dbs="$ALTIBASE_HOME/dbs"
trc="$ALTIBASE_HOME/trc"
pidfile=/tmp/altisim.pid
case "${1:-}" in
create)
    mkdir -p "$dbs" "$trc"
    echo "server: database created in $dbs"
    ;;
start)
    mkdir -p "$trc"
    log="$trc/altisim.log"
    touch "$log"
    from=$(($(wc -c < "$log") + 1))
    altisim serve --name "$POD_NAME.@SVC@" \
        --listen "0.0.0.0:${ALTIBASE_PORT_NO:-20300}" \
        --replication-listen "0.0.0.0:${ALTIBASE_REPLICATION_PORT_NO:-20301}" \
        --data "$dbs" --sys-password "$(cat "$AKU_SYS_PASSWORD_FILE")" \
        --replication-lag @LAG@ >> "$log" 2>&1 &
    echo $! > "$pidfile"
    i=0
    until tail -c +"$from" "$log" | grep -q '^altisim ready'; do
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "server: altisim exited:" >&2
            tail -c +"$from" "$log" >&2
            exit 1
        fi
        i=$((i + 1))
        if [ "$i" -gt 300 ]; then
            echo "server: altisim not ready after 30 s" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "server: started (altisim pid $(cat "$pidfile"))"
    ;;
stop)
    [ -e "$pidfile" ] || { echo "server: not running"; exit 0; }
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 300 ]; then
            echo "server: altisim did not stop in 30 s" >&2
            exit 1
        fi
        sleep 0.1
    done
    rm -f "$pidfile"
    echo "server: stopped"
    ;;
*)
    echo "usage: server create|start|stop" >&2
    exit 2
    ;;
esac
`

// isShim stands in for Altibase's SQL client `is`: it runs the statements
// of -f FILE (separated by ';') through unixODBC's isql and psqlODBC, as
// -u USER -p PASSWORD [-sysdba] on the local server, and fails on the first
// statement the server rejects.
const isShim = `#!/bin/sh
# is: the e2e harness's stand-in for Altibase's iSQL (is -f FILE).
set -u
user=SYS password= file= template='@TEMPLATE_NORMAL@'
while [ $# -gt 0 ]; do
    case "$1" in
    -u) user=$2; shift ;;
    -p) password=$2; shift ;;
    -f) file=$2; shift ;;
    -sysdba) template='@TEMPLATE@' ;;
    -silent) ;;
    *) echo "is: unsupported option $1" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$file" ] || { echo "is: want -f FILE" >&2; exit 2; }
esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }
cs=$(printf '%s' "$template" | sed -e "s|{host}|127.0.0.1|; s|{port}|${ALTIBASE_PORT_NO:-20300}|; s|{user}|$(esc "$user")|; s|{password}|$(esc "$password")|")
out=$(tr '\n' ' ' < "$file" | tr ';' '\n' | grep -v '^ *$' | isql -b -k "$cs" 2>&1)
rc=$?
echo "$out"
if [ "$rc" -ne 0 ] || printf '%s' "$out" | grep -q 'ERROR'; then
    echo "is: a statement of $file failed" >&2
    exit 1
fi
`

// writeShims writes the server and is shims into dir.
func writeShims(dir, svc, lag, template, templateNormal string) error {
	server := strings.NewReplacer("@SVC@", svc, "@LAG@", lag).Replace(serverShim)
	quote := func(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }
	is := strings.NewReplacer("@TEMPLATE@", quote(template), "@TEMPLATE_NORMAL@", quote(templateNormal)).Replace(isShim)
	for name, text := range map[string]string{"server": server, "is": is} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o755); err != nil {
			return fmt.Errorf("writing the %s shim: %w", name, err)
		}
	}
	return nil
}
