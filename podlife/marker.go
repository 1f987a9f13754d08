package podlife

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// aku keeps three files of its own in the marker's directory (a
// world-writable /tmp by default): the marker, the run lock and the saved
// REPLICATION_DDL_ENABLE. It trusts none of them blindly. Each is opened
// without following symbolic links and must be a regular file owned by
// aku's user, with the mode below and the exact contents aku writes;
// anything else is refused with ErrUntrustedFile, a message naming the path
// and what is wrong (never what the file holds) and the command that
// clears it (docs/configuration.md, "Files aku keeps next to the marker").
const (
	markerMode  fs.FileMode = 0o644 // the startupProbe cats it (docs/configuration.md)
	journalMode fs.FileMode = 0o600
	lockMode    fs.FileMode = 0o600
)

// Marker is the completion marker the startup probe watches
// (docs/behaviour.md, "The marker"): written at the very end of a successful
// start, removed by end and clean.
type Marker struct {
	Path string
}

// Exists reports whether the marker file is there. Something else at its
// path (a directory, a symbolic link, a file of another user or mode) is an
// error wrapping ErrUntrustedFile, not a completed start.
func (m Marker) Exists() (bool, error) {
	f := m.file()
	fi, err := os.Lstat(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, placeError("checking the marker", f.path, err)
	}
	if err := f.check(fi); err != nil {
		return false, err
	}
	return true, nil
}

// Write creates the marker atomically: the content goes to a temporary file
// in the same directory, which is synced and renamed over the marker, so
// the probe never sees a half-written file.
func (m Marker) Write(content string) error {
	return m.file().write(content)
}

// Remove deletes the marker; a missing marker is not an error (end and
// clean are idempotent). Something at its path that aku did not write is
// left alone and reported (ErrUntrustedFile).
func (m Marker) Remove() error {
	return m.file().remove("removing the marker")
}

func (m Marker) file() ownFile {
	return ownFile{path: m.Path, mode: markerMode, what: "aku's completion marker:"}
}

// ddlJournalPath is the file, next to the marker, that holds the value
// REPLICATION_DDL_ENABLE had before a fresh slave start set it to 1 for the
// TRUNCATE. It exists only between the toggle and the restore, so a run
// killed in between leaves it behind and the next run restores the saved
// value instead of the 1 it observes (docs/behaviour.md, "The DDL journal").
func (m Marker) ddlJournalPath() string { return m.Path + ".ddl_enable" }

func (m Marker) journal() ownFile {
	return ownFile{path: m.ddlJournalPath(), mode: journalMode,
		what: "where aku saves the REPLICATION_DDL_ENABLE value to restore after a TRUNCATE, so that value is lost: " +
			"check the property on this pod's server (SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'REPLICATION_DDL_ENABLE') " +
			"and set it to what it must be (normally 0: ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 0), then"}
}

// lockPath is the run lock file next to the marker.
func (m Marker) lockPath() string { return m.Path + ".lock" }

// ddlJournalContent is what the journal holds for each value aku saves:
// REPLICATION_DDL_ENABLE is 0 or 1 (Altibase General Reference,
// "REPLICATION_DDL_ENABLE"), and nothing else is ever written or accepted.
var ddlJournalContent = map[int64]string{0: "0\n", 1: "1\n"}

// readDDLJournal returns the saved REPLICATION_DDL_ENABLE value, if any.
func (m Marker) readDDLJournal() (value int64, ok bool, err error) {
	j := m.journal()
	f, err := openNoFollow(j.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, j.refused("reading the saved REPLICATION_DDL_ENABLE", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, false, fmt.Errorf("reading %s: %w", j.path, err)
	}
	if err := j.check(fi); err != nil {
		return 0, false, err
	}
	// One byte more than the longest content tells "too long" apart
	// without reading a planted file of any size.
	b, err := io.ReadAll(io.LimitReader(f, 3))
	if err != nil {
		return 0, false, fmt.Errorf("reading %s: %w", j.path, err)
	}
	for v, content := range ddlJournalContent {
		if string(b) == content {
			return v, true, nil
		}
	}
	return 0, false, j.untrusted("does not hold what aku writes there (0 or 1, and a newline)", false)
}

// writeDDLJournal saves v, the REPLICATION_DDL_ENABLE value to restore.
func (m Marker) writeDDLJournal(v int64) error {
	content, ok := ddlJournalContent[v]
	if !ok {
		return fmt.Errorf("saving REPLICATION_DDL_ENABLE = %d in %s: the property is 0 or 1, aku cannot restore %d", v, m.ddlJournalPath(), v)
	}
	return m.journal().write(content)
}

func (m Marker) removeDDLJournal() error {
	return m.journal().remove("removing the saved REPLICATION_DDL_ENABLE")
}

// ownFile is one of the files aku keeps next to the marker.
type ownFile struct {
	path string
	mode fs.FileMode // the mode aku gives it
	// what it is, for the message that refuses it; it ends where the
	// command that removes it follows.
	what string
}

// write replaces the file with a regular file of aku's user holding
// content, with f's mode: a temporary file in the same directory (created
// exclusively, so nothing planted is followed) is synced, given the mode,
// and renamed over the path.
func (f ownFile) write(content string) error {
	dir := filepath.Dir(f.path)
	t, err := os.CreateTemp(dir, "."+filepath.Base(f.path)+".*")
	if err != nil {
		return placeError("writing", f.path, err)
	}
	tmp := t.Name()
	_, werr := t.WriteString(content)
	if werr == nil {
		werr = t.Sync()
	}
	if werr == nil {
		werr = t.Chmod(f.mode) // exact, whatever the umask
	}
	if cerr := t.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, f.path)
	}
	if werr != nil {
		os.Remove(tmp)
		return placeError("writing", f.path, werr)
	}
	// Sync the directory so the rename survives a node crash.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// remove deletes the file after checking that it is aku's; a missing file
// is not an error.
func (f ownFile) remove(doing string) error {
	fi, err := os.Lstat(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return placeError(doing, f.path, err)
	}
	if err := f.check(fi); err != nil {
		return err
	}
	if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return placeError(doing, f.path, err)
	}
	return nil
}

// check returns an ErrUntrustedFile error when fi, the file at f's path,
// is not what aku creates there: a regular file of aku's user with f's mode.
func (f ownFile) check(fi fs.FileInfo) error {
	if problem := fileProblem(fi, f.mode); problem != "" {
		return f.untrusted(problem, fi.IsDir())
	}
	return nil
}

// refused turns an error of openNoFollow into the error to return: a
// symbolic link, or a file aku cannot open because it is not aku's (a
// socket: ENXIO; another user's file: EACCES), is untrusted; a problem of
// the directory is ErrMarkerDir.
func (f ownFile) refused(doing string, err error) error {
	if errors.Is(err, syscall.ELOOP) {
		return f.untrusted("is a symbolic link", false)
	}
	if fi, lerr := os.Lstat(f.path); lerr == nil {
		if cerr := f.check(fi); cerr != nil {
			return cerr
		}
	}
	return placeError(doing, f.path, err)
}

// untrusted is the error for a file at f's path that aku did not write as
// it is. It names the path and the problem, never the contents, and gives
// the command that clears it.
func (f ownFile) untrusted(problem string, isDir bool) error {
	rm := "rm -f -- " + shellQuote(f.path)
	if isDir {
		rm = "rm -r -- " + shellQuote(f.path)
	}
	return fmt.Errorf("%w: %s %s: it is %s %s and run aku again", ErrUntrustedFile, f.path, problem, f.what, rm)
}

// fileProblem says what makes fi other than a regular file of aku's user
// with mode; "" when nothing does.
func fileProblem(fi fs.FileInfo, mode fs.FileMode) string {
	switch t := fi.Mode().Type(); {
	case t&fs.ModeSymlink != 0:
		return "is a symbolic link"
	case t&fs.ModeDir != 0:
		return "is a directory"
	case t&fs.ModeNamedPipe != 0:
		return "is a named pipe"
	case t&fs.ModeSocket != 0:
		return "is a socket"
	case t&fs.ModeDevice != 0:
		return "is a device"
	case t != 0:
		return "is not a regular file"
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Sprintf("is owned by uid %d, not by aku's user (uid %d)", st.Uid, os.Geteuid())
	}
	if perm := fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky); perm != mode {
		return fmt.Sprintf("has mode %04o, not the %04o aku gives it", unixPerm(fi.Mode()), unixPerm(mode))
	}
	return ""
}

// unixPerm is mode in the octal notation of chmod, special bits included.
func unixPerm(mode fs.FileMode) uint32 {
	p := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// openNoFollow opens path without following a symbolic link (ELOOP) and
// without blocking on a named pipe; the caller checks what it opened.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, perm)
}

// placeError wraps err, met while doing something with path, as
// ErrMarkerDir when the directory is at fault (missing, not writable, full),
// saying what to fix; otherwise as is.
func placeError(doing, path string, err error) error {
	dir := filepath.Dir(path)
	var what string
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		what = fmt.Sprintf("the directory %s does not exist: create it, writable by aku's user", dir)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		what = fmt.Sprintf("the directory %s is not writable by aku's user (uid %d): make it writable, e.g. an emptyDir volume mounted there", dir, os.Geteuid())
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		what = fmt.Sprintf("no space left in %s: free some", dir)
	default:
		return fmt.Errorf("%s %s: %w", doing, path, err)
	}
	var errno syscall.Errno
	errors.As(err, &errno) // the three classes above are all errnos
	return fmt.Errorf("%w: %s %s: %s (%v)", ErrMarkerDir, doing, path, what, errno)
}

// shellQuote quotes s for a POSIX shell, for commands in messages.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
