package main

import (
	"fmt"
	"sort"
	"strings"
)

// The generated list sits between these markers; the rest of a section is
// prose that `make changelog` keeps.
const (
	beginMarker = "<!-- begin: written by `make changelog` from oasdiff; edit the prose around it, not this list -->"
	endMarker   = "<!-- end -->"
)

const header = `# Changelog of the contract

The changes of ` + "`api/openapi.yaml`" + `, newest first. Each section is one version of the spec
(` + "`info.version`" + `). Its list is written by ` + "`make changelog`" + ` from oasdiff's changelog against the
last released contract, ` + "`api/released/openapi.yaml`" + `; ` + "`make test`" + ` fails when the spec differs from
the released one and its version has no section, or the list is out of date.
`

// renderChanges is the generated block of a section: one line per change,
// sorted so that the same changes always give the same text.
func renderChanges(changes []change, releasedVersion string) string {
	lines := make([]string, 0, len(changes))
	for _, c := range changes {
		where := strings.TrimSpace(c.Operation + " " + c.Path)
		if where == "" {
			where = c.Section
		}
		mark := ""
		switch c.Level {
		case 3:
			mark = "**breaking** "
		case 2:
			mark = "**warning** "
		}
		lines = append(lines, fmt.Sprintf("- %s`%s`: %s", mark, where, oneLine(c.Text)))
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		lines = []string{"- No change to operations or schemas."}
	}
	return fmt.Sprintf("%s\nAgainst the released %s (`api/released/openapi.yaml`):\n\n%s\n%s", beginMarker, releasedVersion, strings.Join(lines, "\n"), endMarker)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// findSection returns the section "## VERSION" (heading included, up to
// the next "## " heading).
func findSection(doc, version string) (string, bool) {
	start, end := sectionBounds(doc, version)
	if start < 0 {
		return "", false
	}
	return doc[start:end], true
}

func sectionBounds(doc, version string) (int, int) {
	lines := strings.SplitAfter(doc, "\n")
	pos, start := 0, -1
	for _, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(t, "## ") {
			if start >= 0 {
				return start, pos
			}
			if rest := strings.TrimPrefix(t, "## "); rest == version || strings.HasPrefix(rest, version+" ") {
				start = pos
			}
		}
		pos += len(l)
	}
	if start >= 0 {
		return start, len(doc)
	}
	return -1, -1
}

// generated is the marked block of a section, or "" when it has none.
func generated(section string) string {
	i := strings.Index(section, beginMarker)
	if i < 0 {
		return ""
	}
	j := strings.Index(section[i:], endMarker)
	if j < 0 {
		return ""
	}
	return section[i : i+j+len(endMarker)]
}

// upsert puts block into the section of version: in place of its old
// block, after its prose when it has none, or in a new section above the
// newest one.
func upsert(doc, version, releasedVersion, block string) string {
	if strings.TrimSpace(doc) == "" {
		doc = header
	}
	if start, end := sectionBounds(doc, version); start >= 0 {
		section := doc[start:end]
		if old := generated(section); old != "" {
			section = strings.Replace(section, old, block, 1)
		} else {
			section = strings.TrimRight(section, "\n") + "\n\n" + block + "\n\n"
		}
		return doc[:start] + section + doc[end:]
	}
	fresh := fmt.Sprintf("## %s\n\n%s\n\n", version, block)
	if first, _ := firstSection(doc); first >= 0 {
		return doc[:first] + fresh + doc[first:]
	}
	return strings.TrimRight(doc, "\n") + "\n\n" + fresh
}

func firstSection(doc string) (int, bool) {
	pos := 0
	for _, l := range strings.SplitAfter(doc, "\n") {
		if strings.HasPrefix(l, "## ") {
			return pos, true
		}
		pos += len(l)
	}
	return -1, false
}
