package podlife

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Marker is the completion marker the startup probe watches (spec §2):
// written at the very end of a successful start, removed by end and clean.
type Marker struct {
	Path string
}

// Exists reports whether the marker file is there.
func (m Marker) Exists() (bool, error) {
	_, err := os.Stat(m.Path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("checking the marker %s: %w", m.Path, err)
	}
}

// Write creates the marker atomically: the content goes to a temporary file
// in the same directory, which is synced and renamed over the marker, so
// the probe never sees a half-written file.
func (m Marker) Write(content string) error {
	return writeAtomic(m.Path, content)
}

// Remove deletes the marker; a missing marker is not an error (end and
// clean are idempotent).
func (m Marker) Remove() error {
	if err := os.Remove(m.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the marker %s: %w", m.Path, err)
	}
	return nil
}

// ddlJournalPath is the file, next to the marker, that holds the value
// REPLICATION_DDL_ENABLE had before a fresh slave start set it to 1 for the
// TRUNCATE. It exists only between the toggle and the restore, so a run
// killed in between leaves it behind and the next run restores the saved
// value instead of the 1 it observes (spec §6.2 step 5).
func (m Marker) ddlJournalPath() string { return m.Path + ".ddl_enable" }

// lockPath is the run lock file next to the marker.
func (m Marker) lockPath() string { return m.Path + ".lock" }

// readDDLJournal returns the saved REPLICATION_DDL_ENABLE value, if any.
func (m Marker) readDDLJournal() (value int64, ok bool, err error) {
	b, err := os.ReadFile(m.ddlJournalPath())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading %s: %w", m.ddlJournalPath(), err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("reading %s: %q is not a REPLICATION_DDL_ENABLE value", m.ddlJournalPath(), strings.TrimSpace(string(b)))
	}
	return v, true, nil
}

func (m Marker) writeDDLJournal(v int64) error {
	return writeAtomic(m.ddlJournalPath(), strconv.FormatInt(v, 10)+"\n")
}

func (m Marker) removeDDLJournal() error {
	if err := os.Remove(m.ddlJournalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", m.ddlJournalPath(), err)
	}
	return nil
}

func writeAtomic(path, content string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.WriteString(content)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	// Sync the directory so the rename survives a node crash.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
