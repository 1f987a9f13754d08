package docs

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// notYetRewritten are the paths (a directory ends with '/') whose citations
// are still to be rewritten while other branches edit them: the tests skip
// them until those branches are merged and the paths rewritten. Empty: every
// file is checked.
var notYetRewritten = []string{}

// The section sign is written as an escape, and the notes' paths in two
// parts, so that this file does not cite anything itself.
const (
	sectionSign = "\u00a7"
	notesDir    = "spec/"
)

// numbered are the forms of a citation by section number, most specific
// first, each with what to cite instead. The developers' notes (the spec
// and the Altibase research notes) are not in the repository.
var numbered = []struct{ text, advice string }{
	{"spec " + sectionSign, `cites the developers' spec, which users cannot read: cite docs/behaviour.md or docs/configuration.md by section title, e.g. (docs/behaviour.md, "Fresh slave start")`},
	{"altibase.md " + sectionSign, `cites the developers' Altibase notes, which users cannot read: cite the public source, e.g. (Altibase Replication Manual, "ALTER REPLICATION") or (ERR-41041, Altibase CloudNative FAQ)`},
	{notesDir + "altibase.md", `names the developers' Altibase notes, which users cannot read: cite the public source`},
	{notesDir + "aku.md", `names the developers' spec, which users cannot read: cite docs/behaviour.md or docs/configuration.md`},
	{sectionSign, `cites a numbered section: cite a section by its title, in a document users can read`},
}

// TestNoNumberedCitations fails for every line that cites a section by
// number: such numbers belong to the developers' notes.
func TestNoNumberedCitations(t *testing.T) {
	for _, f := range repoFiles(t) {
		for i, line := range strings.Split(f.text, "\n") {
			for _, n := range numbered {
				if strings.Contains(line, n.text) {
					t.Errorf("%s:%d: %q %s", f.path, i+1, n.text, n.advice)
					break
				}
			}
		}
	}
}

// guideCitation is a citation of the developers' guides (testing,
// architecture, house style), which are not in the repository either: a
// path into their directory, a guide named by its subject, or a numbered
// gotcha of the one on testing. It is matched on unwrapped text, so a
// name wrapped over two comment lines is found too. Its source is written so
// that it does not match itself.
var guideCitation = regexp.MustCompile(`\bguides[/]|\b(?:testing|architecture|house[- ]style)[ ]guide\b|\bgotcha[ ][0-9]`)

// TestNoGuideCitations fails for every citation of the developers' guides.
func TestNoGuideCitations(t *testing.T) {
	for _, f := range repoFiles(t) {
		text, lineOf := unwrap(f.text)
		for _, m := range guideCitation.FindAllStringIndex(text, -1) {
			t.Errorf("%s:%d: %q cites the developers' guides, which users cannot read: cite the project's docs by section title, e.g. (docs/odbc.md, \"Connects ignore contexts\")", f.path, lineOf(m[0]), text[m[0]:m[1]])
		}
	}
}

// titleCitation is `docs/NAME.md, "Title"` as comments, messages and YAML
// cite a section, possibly wrapped over comment lines and with escaped
// quotes inside a Go string; more titles may follow (`, "Other"` or
// ` and "Other"`).
var (
	titleCitation = regexp.MustCompile(`docs/([a-z0-9_-]+)\.md,\s+\\?"([^"\\]+)\\?"`)
	moreTitles    = regexp.MustCompile(`^(?:,| and)\s+\\?"([^"\\]+)\\?"`)
	markdownLink  = regexp.MustCompile(`\]\(([^()\s]*#[^()\s]*)\)`)
	commentMarker = regexp.MustCompile(`^\s*(?://|#)?\s*`)
)

// TestCitedSectionsExist fails for every citation of a section of docs/
// that has no such section: `docs/NAME.md, "Title"` needs a heading Title
// (or Title followed by a parenthesis) in docs/NAME.md, and a Markdown
// link to NAME.md#anchor a heading with that anchor.
func TestCitedSectionsExist(t *testing.T) {
	root := repoRoot(t)
	docs := map[string]*document{}
	doc := func(rel string) *document {
		if d, ok := docs[rel]; ok {
			return d
		}
		d := readDocument(filepath.Join(root, filepath.FromSlash(rel)))
		docs[rel] = d
		return d
	}
	for _, f := range repoFiles(t) {
		text, lineOf := unwrap(f.text)
		for _, m := range titleCitation.FindAllStringSubmatchIndex(text, -1) {
			rel := "docs/" + text[m[2]:m[3]] + ".md"
			titles := []string{text[m[4]:m[5]]}
			for rest := text[m[1]:]; ; {
				more := moreTitles.FindStringSubmatchIndex(rest)
				if more == nil {
					break
				}
				titles = append(titles, rest[more[2]:more[3]])
				rest = rest[more[1]:]
			}
			d := doc(rel)
			for _, title := range titles {
				switch {
				case d == nil:
					t.Errorf("%s:%d: cites %s, which does not exist", f.path, lineOf(m[0]), rel)
				case !d.titles[title]:
					t.Errorf("%s:%d: cites %s, %q: it has no section of that title", f.path, lineOf(m[0]), rel, title)
				}
			}
		}
		if !strings.HasSuffix(f.path, ".md") {
			continue
		}
		for i, line := range strings.Split(f.text, "\n") {
			for _, m := range markdownLink.FindAllStringSubmatch(line, -1) {
				target, anchor, _ := strings.Cut(m[1], "#")
				if strings.Contains(target, "://") || (target != "" && !strings.HasSuffix(target, ".md")) {
					continue
				}
				rel := f.path
				if target != "" {
					rel = path.Join(path.Dir(f.path), target)
				}
				switch d := doc(rel); {
				case d == nil:
					t.Errorf("%s:%d: links to %s, which does not exist", f.path, i+1, rel)
				case !d.anchors[anchor]:
					t.Errorf("%s:%d: links to %s#%s: it has no section with that anchor", f.path, i+1, rel, anchor)
				}
			}
		}
	}
}

// unwrap joins the lines of text with spaces, without their indentation
// and comment markers, so that a citation wrapped over comment lines reads
// as one; lineOf maps an offset in the result to its line number.
func unwrap(text string) (joined string, lineOf func(int) int) {
	var b strings.Builder
	var starts []int
	for _, line := range strings.Split(text, "\n") {
		starts = append(starts, b.Len())
		b.WriteString(commentMarker.ReplaceAllString(line, ""))
		b.WriteByte(' ')
	}
	return b.String(), func(off int) int {
		n := 0
		for n < len(starts) && starts[n] <= off {
			n++
		}
		return n
	}
}

// document is what a Markdown file offers to cite: its section titles
// (each also without the parenthesis that ends it: "Partitions" for
// "Partitions (aku's sample)") and their anchors.
type document struct {
	titles  map[string]bool
	anchors map[string]bool
}

// readDocument reads the headings of a Markdown file outside its fenced
// code blocks; nil when the file does not exist.
func readDocument(file string) *document {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	d := &document{titles: map[string]bool{}, anchors: map[string]bool{"": true}}
	fenced := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		hashes := len(line) - len(strings.TrimLeft(line, "#"))
		if fenced || hashes == 0 || hashes > 6 || !strings.HasPrefix(line[hashes:], " ") {
			continue
		}
		title := strings.ReplaceAll(strings.TrimSpace(line[hashes:]), "`", "")
		d.titles[title] = true
		if i := strings.Index(title, " ("); i > 0 && strings.HasSuffix(title, ")") {
			d.titles[title[:i]] = true
		}
		anchor := slug(title)
		for n := 1; d.anchors[anchor]; n++ {
			anchor = slug(title) + "-" + strconv.Itoa(n)
		}
		d.anchors[anchor] = true
	}
	return d
}

// slug is the anchor GitHub gives a heading: lower case, letters, digits,
// '_', '-' and spaces kept, spaces turned into '-'.
func slug(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// repoFile is one text file of the repository, its path relative to the
// root with '/' separators.
type repoFile struct{ path, text string }

// repoFiles reads every text file under the repository's root, except .git,
// the build's output directories, fuzzing corpora, binary files and the
// paths of notYetRewritten.
func repoFiles(t *testing.T) []repoFile {
	t.Helper()
	root := repoRoot(t)
	var files []repoFile
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			switch {
			case rel == ".git", rel == "bin", rel == "dist", strings.HasSuffix(rel, "testdata/fuzz"):
				return filepath.SkipDir
			case skipped(rel + "/"):
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || skipped(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.IndexByte(data, 0) >= 0 {
			return nil
		}
		files = append(files, repoFile{rel, string(data)})
		return nil
	})
	if err != nil {
		t.Fatalf("reading the repository: %v", err)
	}
	if len(files) == 0 {
		t.Fatalf("no files under %s", root)
	}
	return files
}

func skipped(rel string) bool {
	for _, p := range notYetRewritten {
		if rel == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p)) {
			return true
		}
	}
	return false
}

// repoRoot is the directory of go.mod, the parent of this package's.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the repository root %s has no go.mod: %v", root, err)
	}
	return root
}
