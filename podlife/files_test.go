package podlife

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// secret is what a planted file or a symbolic link's target holds: no
// message may ever show it.
const secret = "TOPSECRET-contents"

// TestOwnFilesRefused plants, at each of the three paths aku keeps next to
// the marker, what aku does not write there, and runs every operation that
// touches that path: each must refuse with ErrUntrustedFile, name the path
// and the problem, show none of the contents, and leave what is there (and
// a symbolic link's target) as it was.
func TestOwnFilesRefused(t *testing.T) {
	type op struct {
		name string
		path func(Marker) string
		run  func(Marker) error
	}
	marker := func(m Marker) string { return m.Path }
	journal := func(m Marker) string { return m.ddlJournalPath() }
	lock := func(m Marker) string { return m.lockPath() }
	ops := []op{
		{"marker exists", marker, func(m Marker) error { _, err := m.Exists(); return err }},
		{"marker remove", marker, Marker.Remove},
		{"journal read", journal, func(m Marker) error { _, _, err := m.readDDLJournal(); return err }},
		{"journal remove", journal, Marker.removeDDLJournal},
		{"lock", lock, func(m Marker) error {
			l, err := acquireLock(context.Background(), m.lockPath(), 0, SystemClock{})
			if err == nil {
				l.release()
			}
			return err
		}},
	}
	modeOf := map[string]fs.FileMode{"marker": markerMode, "journal": journalMode, "lock": lockMode}
	kindOf := func(o op) string { return strings.Fields(o.name)[0] }

	type plant struct {
		name    string
		make    func(t *testing.T, path string, mode fs.FileMode) // mode: the one aku gives the file
		problem string
		only    string // "" = every operation; else the one it applies to (removing a file of aku's does not read it)
		root    bool   // needs root (chown)
	}
	plants := []plant{
		{name: "symbolic link to a secret", problem: "is a symbolic link", make: func(t *testing.T, path string, _ fs.FileMode) {
			target := filepath.Join(t.TempDir(), "secret")
			mustWrite(t, target, secret, 0o600)
			mustDo(t, os.Symlink(target, path))
		}},
		{name: "dangling symbolic link", problem: "is a symbolic link", make: func(t *testing.T, path string, _ fs.FileMode) {
			mustDo(t, os.Symlink(filepath.Join(t.TempDir(), "created-by-aku"), path))
		}},
		{name: "named pipe", problem: "is a named pipe", make: func(t *testing.T, path string, _ fs.FileMode) {
			mustDo(t, syscall.Mkfifo(path, 0o600))
		}},
		{name: "directory", problem: "is a directory", make: func(t *testing.T, path string, _ fs.FileMode) {
			mustDo(t, os.Mkdir(path, 0o700))
			mustWrite(t, filepath.Join(path, "inside"), secret, 0o600)
		}},
		{name: "group-writable file", problem: "has mode 0664, not the", make: func(t *testing.T, path string, _ fs.FileMode) {
			mustWrite(t, path, "", 0o664)
		}},
		{name: "setuid file", problem: "has mode 4600, not the", make: func(t *testing.T, path string, _ fs.FileMode) {
			mustWrite(t, path, "", 0o600)
			mustDo(t, os.Chmod(path, 0o600|fs.ModeSetuid))
		}},
		{name: "file of another user", problem: "is owned by uid 65534, not by aku's user", root: true, make: func(t *testing.T, path string, mode fs.FileMode) {
			mustWrite(t, path, "1\n", mode)
			mustDo(t, os.Chown(path, 65534, 65534))
		}},
		{name: "junk", problem: "does not hold what aku writes there", only: "journal read", make: func(t *testing.T, path string, mode fs.FileMode) {
			mustWrite(t, path, secret+"\n", mode)
		}},
		{name: "lock with contents", problem: "is not empty", only: "lock", make: func(t *testing.T, path string, mode fs.FileMode) {
			mustWrite(t, path, secret, mode)
		}},
	}
	for _, p := range plants {
		for _, o := range ops {
			if p.only != "" && p.only != o.name {
				continue
			}
			t.Run(p.name+"/"+o.name, func(t *testing.T) {
				if p.root && os.Geteuid() != 0 {
					t.Skip("chown needs root")
				}
				m := Marker{Path: filepath.Join(t.TempDir(), "aku_start_completed")}
				path := o.path(m)
				p.make(t, path, modeOf[kindOf(o)])
				before := snapshot(t, path)
				err := o.run(m)
				if !errors.Is(err, ErrUntrustedFile) {
					t.Fatalf("err = %v, want ErrUntrustedFile", err)
				}
				msg := err.Error()
				for _, want := range []string{path + " " + p.problem, "rm -"} {
					if !strings.Contains(msg, want) {
						t.Errorf("message lacks %q:\n%s", want, msg)
					}
				}
				if strings.Contains(msg, secret) {
					t.Errorf("message shows the contents:\n%s", msg)
				}
				if after := snapshot(t, path); after != before {
					t.Errorf("what was at %s changed: %s, now %s", path, before, after)
				}
				if p.name == "dangling symbolic link" {
					target, _ := os.Readlink(path)
					if _, err := os.Lstat(target); err == nil {
						t.Errorf("the link's target %s was created", target)
					}
				}
			})
		}
	}
}

// TestJournalExactContents: only "0\n" and "1\n", in a 0600 file of aku's
// user, are a saved REPLICATION_DDL_ENABLE.
func TestJournalExactContents(t *testing.T) {
	tests := []struct {
		content string
		want    int64
		ok      bool
	}{
		{"0\n", 0, true}, {"1\n", 1, true},
		{"1", 0, false}, {"0", 0, false}, {"", 0, false}, {"01\n", 0, false}, {"1\n\n", 0, false},
		{" 1\n", 0, false}, {"1\r\n", 0, false}, {"+1\n", 0, false}, {"2\n", 0, false}, {"-1\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.content, func(t *testing.T) {
			m := Marker{Path: filepath.Join(t.TempDir(), "aku_start_completed")}
			mustWrite(t, m.ddlJournalPath(), tt.content, journalMode)
			v, ok, err := m.readDDLJournal()
			if tt.ok {
				if v != tt.want || !ok || err != nil {
					t.Errorf("read = %d, %v, %v; want %d", v, ok, err, tt.want)
				}
				return
			}
			if ok || !errors.Is(err, ErrUntrustedFile) {
				t.Fatalf("read = %d, %v, %v; want ErrUntrustedFile", v, ok, err)
			}
			// What to do next is in the message: the value to restore is
			// lost, so the server's is checked by hand, then the file goes.
			for _, want := range []string{
				"SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'REPLICATION_DDL_ENABLE'",
				"ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 0",
				"rm -f -- '" + m.ddlJournalPath() + "'",
			} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestOwnFilesAccepted: what aku writes, it accepts, whatever the umask.
func TestOwnFilesAccepted(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	m := Marker{Path: filepath.Join(t.TempDir(), "aku_start_completed")}
	l, err := acquireLock(context.Background(), m.lockPath(), 0, SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	l.release()
	if l, err = acquireLock(context.Background(), m.lockPath(), 0, SystemClock{}); err != nil {
		t.Fatalf("the lock file aku made is refused: %v", err)
	}
	l.release()
	if err := m.Write("done\n"); err != nil {
		t.Fatal(err)
	}
	if ok, err := m.Exists(); !ok || err != nil {
		t.Fatalf("the marker aku wrote: %v, %v", ok, err)
	}
	for path, mode := range map[string]fs.FileMode{m.Path: markerMode, m.lockPath(): lockMode} {
		if fi, err := os.Lstat(path); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode(), err, mode)
		}
	}
	if err := m.Remove(); err != nil {
		t.Fatal(err)
	}
}

// TestMarkerDirectoryMissing: without the marker's directory every file
// operation is an environment problem (ErrMarkerDir) that says what to fix.
func TestMarkerDirectoryMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	m := Marker{Path: filepath.Join(dir, "aku_start_completed")}
	for name, run := range map[string]func() error{
		"lock": func() error {
			_, err := acquireLock(context.Background(), m.lockPath(), 0, SystemClock{})
			return err
		},
		"marker write":  func() error { return m.Write("done\n") },
		"journal write": func() error { return m.writeDDLJournal(0) },
	} {
		err := run()
		if !errors.Is(err, ErrMarkerDir) {
			t.Errorf("%s: err = %v, want ErrMarkerDir", name, err)
			continue
		}
		if want := "the directory " + dir + " does not exist: create it"; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: message lacks %q: %v", name, want, err)
		}
	}
	// A missing marker in a missing directory is simply absent (end and
	// clean are idempotent).
	if ok, err := m.Exists(); ok || err != nil {
		t.Errorf("Exists = %v, %v", ok, err)
	}
}

// TestPlaceError classifies the errors of the marker's directory; root
// (these tests' usual user) bypasses permissions, so the errors are made up.
func TestPlaceError(t *testing.T) {
	tests := []struct {
		err     error
		wantDir bool
		want    string
	}{
		{&fs.PathError{Op: "open", Path: "/tmp/m", Err: syscall.EACCES}, true, "the directory /tmp is not writable by aku's user"},
		{&fs.PathError{Op: "open", Path: "/tmp/m", Err: syscall.EROFS}, true, "the directory /tmp is not writable by aku's user"},
		{&fs.PathError{Op: "open", Path: "/tmp/m", Err: syscall.ENOSPC}, true, "no space left in /tmp"},
		{&fs.PathError{Op: "open", Path: "/tmp/m", Err: syscall.ENOTDIR}, true, "the directory /tmp does not exist"},
		{&fs.PathError{Op: "open", Path: "/tmp/m", Err: syscall.EIO}, false, "writing /tmp/m: open /tmp/m: input/output error"},
	}
	for _, tt := range tests {
		err := placeError("writing", "/tmp/m", tt.err)
		if errors.Is(err, ErrMarkerDir) != tt.wantDir || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("placeError(%v) = %v; want ErrMarkerDir %v and %q", tt.err, err, tt.wantDir, tt.want)
		}
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	mustDo(t, os.WriteFile(path, []byte(content), mode))
	mustDo(t, os.Chmod(path, mode)) // whatever the umask
}

// snapshot describes what is at path: type, mode, owner, size, link target.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		return err.Error()
	}
	st := fi.Sys().(*syscall.Stat_t)
	target, _ := os.Readlink(path)
	var content []byte
	if fi.Mode().IsRegular() {
		content, _ = os.ReadFile(path)
	}
	return fmt.Sprintf("%v uid %d -> %q %q", fi.Mode(), st.Uid, target, content)
}
