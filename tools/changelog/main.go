// Command changelog keeps CHANGELOG.md, the contract's changelog, true to
// the spec: one "## VERSION" section per version of api/openapi.yaml, whose
// list of changes is what oasdiff's changelog reports between the released
// contract (api/released/openapi.yaml) and the spec.
//
//	go run ./tools/changelog -write   write (or rewrite) the section of the spec's version
//	go run ./tools/changelog -check   fail when the spec differs from the released contract
//	                                  and the section is missing or out of date
//
// Only the list between the two oasdiff markers is generated; prose
// written above or below it in the section is kept. oasdiff runs pinned
// through the Go module proxy, as in tools/contract (override with OASDIFF).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

const defaultOasdiff = "go run github.com/oasdiff/oasdiff@v1.37.0"

func main() {
	write := flag.Bool("write", false, "write the section of the spec's version")
	check := flag.Bool("check", false, "fail when the changelog does not describe the spec")
	spec := flag.String("spec", "api/openapi.yaml", "the spec")
	released := flag.String("released", "api/released/openapi.yaml", "the last released contract")
	file := flag.String("changelog", "CHANGELOG.md", "the changelog")
	flag.Parse()
	if *write == *check {
		fmt.Fprintln(os.Stderr, "changelog: give exactly one of -write and -check")
		os.Exit(2)
	}
	if err := run(*write, *spec, *released, *file, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "changelog: FAILED — "+err.Error())
		os.Exit(1)
	}
}

func run(write bool, specPath, releasedPath, file string, out io.Writer) error {
	version, err := specVersion(specPath)
	if err != nil {
		return err
	}
	releasedVersion, err := specVersion(releasedPath)
	if err != nil {
		return err
	}
	changes, err := oasdiffChangelog(releasedPath, specPath)
	if err != nil {
		return err
	}
	current, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		current = nil
	} else if err != nil {
		return err
	}
	block := renderChanges(changes, releasedVersion)
	if write {
		next := upsert(string(current), version, releasedVersion, block)
		if err := os.WriteFile(file, []byte(next), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "changelog: wrote the %s section of %s (%d change(s) against the released %s)\n", version, file, len(changes), releasedVersion)
		return nil
	}
	if err := verify(string(current), file, version, releasedVersion, block, len(changes)); err != nil {
		return err
	}
	fmt.Fprintf(out, "changelog: OK — %s describes %s %s\n", file, specPath, version)
	return nil
}

// verify is the gate: a spec that differs from the released contract must
// carry a new version, and the changelog must have that version's section
// with exactly the changes oasdiff reports.
func verify(changelog, file, version, releasedVersion, block string, changes int) error {
	if changes == 0 && version == releasedVersion {
		return nil
	}
	if version == releasedVersion {
		return fmt.Errorf("api/openapi.yaml differs from the released contract (%d change(s)) but info.version is still the released %s.\n"+
			"  Raise info.version (the minor for additive changes, e.g. 1.0.0 → 1.1.0), then run 'make changelog' and commit CHANGELOG.md.", changes, version)
	}
	section, ok := findSection(changelog, version)
	if !ok {
		return fmt.Errorf("%s has no entry for the spec's version %s (%d change(s) against the released %s).\n"+
			"  Run 'make changelog' and commit %s with the spec.", file, version, changes, releasedVersion, file)
	}
	if generated(section) != block {
		return fmt.Errorf("the %s entry of %s does not list the changes oasdiff reports against the released %s.\n"+
			"  Run 'make changelog' (it rewrites only the list between the oasdiff markers) and commit %s.", version, file, releasedVersion, file)
	}
	return nil
}

func specVersion(path string) (string, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if doc.Info == nil || doc.Info.Version == "" {
		return "", fmt.Errorf("%s has no info.version", path)
	}
	return doc.Info.Version, nil
}

// change is one item of oasdiff's JSON changelog.
type change struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Level     int    `json:"level"` // 1 info, 2 warning, 3 error (breaking)
	Operation string `json:"operation"`
	Path      string `json:"path"`
	Section   string `json:"section"`
}

func oasdiffChangelog(base, revision string) ([]change, error) {
	cmdline := strings.Fields(os.Getenv("OASDIFF"))
	if len(cmdline) == 0 {
		cmdline = strings.Fields(defaultOasdiff)
	}
	args := append(cmdline[1:], "changelog", base, revision, "--format", "json", "--allow-external-refs=false",
		"--severity-levels", "tools/contract/oasdiff-levels.txt")
	cmd := exec.Command(cmdline[0], args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("oasdiff changelog %s %s failed: %v\n%s", base, revision, err, strings.TrimSpace(stderr.String()))
	}
	var changes []change
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &changes); err != nil && stdout.Len() > 0 {
		return nil, fmt.Errorf("reading oasdiff's changelog: %w", err)
	}
	return changes, nil
}
