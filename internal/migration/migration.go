// Package migration reads a store's embedded schema steps: files named
// NNNN_what.sql, applied once each, in version order. How a step is applied
// and recorded is each store's business; naming and ordering are shared so
// that both stores follow one rule.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Step is one schema change.
type Step struct {
	// Version is the file name's leading number.
	Version int
	// Name is the file name, e.g. 0001_schema.sql.
	Name string
	SQL  string
}

// ID is the version as the file name writes it (zero-padded to four
// digits), for stores that record versions as text.
func (s Step) ID() string { return fmt.Sprintf("%04d", s.Version) }

// Load returns the *.sql files of dir in fsys as steps in version order,
// refusing a file whose name does not start with its version and two files
// that share one.
func Load(fsys fs.FS, dir string) ([]Step, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	out := make([]Step, 0, len(names))
	for _, p := range names {
		name := path.Base(p)
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s is not named NNNN_what.sql", name)
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		out = append(out, Step{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a version", out[i-1].Name, out[i].Name)
		}
	}
	return out, nil
}
