package main

import (
	"strings"
	"testing"
)

var sample = []change{
	{Text: "endpoint added", Level: 1, Operation: "GET", Path: "/v1/Providers/Instances"},
	{Text: "added the non-success response with the status `408`", Level: 1, Operation: "PATCH", Path: "/v1/Customers/{customerId}/users/{customerUserId}/licenses"},
	{Text: "removed the   success\nresponse", Level: 3, Operation: "GET", Path: "/healthz"},
}

func TestRenderIsSortedAndMarked(t *testing.T) {
	got := renderChanges(sample, "1.0.0")
	want := beginMarker + "\nAgainst the released 1.0.0 (`api/released/openapi.yaml`):\n\n" +
		"- **breaking** `GET /healthz`: removed the success response\n" +
		"- `GET /v1/Providers/Instances`: endpoint added\n" +
		"- `PATCH /v1/Customers/{customerId}/users/{customerUserId}/licenses`: added the non-success response with the status `408`\n" +
		endMarker
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	reversed := []change{sample[2], sample[1], sample[0]}
	if renderChanges(reversed, "1.0.0") != got {
		t.Fatal("the order of oasdiff's output changed the text")
	}
	if !strings.Contains(renderChanges(nil, "1.0.0"), "No change to operations") {
		t.Fatal("an empty list must say so")
	}
}

func TestUpsert(t *testing.T) {
	block := renderChanges(sample[:1], "1.0.0")
	released := "## 1.0.0\n\nThe first release.\n"
	cases := []struct {
		name, doc, want string
	}{
		{"empty file gets the header and the section", "", header + "\n## 1.1.0\n\n" + block + "\n\n"},
		{"new version goes above the newest", header + "\n" + released, header + "\n## 1.1.0\n\n" + block + "\n\n" + released},
		{"old block is replaced, prose kept",
			header + "\n## 1.1.0\n\nProse above.\n\n" + renderChanges(sample, "1.0.0") + "\n\nProse below.\n\n" + released,
			header + "\n## 1.1.0\n\nProse above.\n\n" + block + "\n\nProse below.\n\n" + released},
		{"a section without a block gets one after its prose",
			header + "\n## 1.1.0 (unreleased)\n\nProse.\n\n" + released,
			header + "\n## 1.1.0 (unreleased)\n\nProse.\n\n" + block + "\n\n" + released},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := upsert(c.doc, "1.1.0", "1.0.0", block)
			if got != c.want {
				t.Fatalf("got\n%q\nwant\n%q", got, c.want)
			}
			if again := upsert(got, "1.1.0", "1.0.0", block); again != got {
				t.Fatalf("writing twice changed the file:\n%q", again)
			}
		})
	}
}

func TestFindSectionMatchesTheWholeVersion(t *testing.T) {
	doc := header + "\n## 1.10.0\n\nten\n\n## 1.1.0\n\none\n"
	s, ok := findSection(doc, "1.1.0")
	if !ok || !strings.Contains(s, "one") || strings.Contains(s, "ten") {
		t.Fatalf("found %q, %v", s, ok)
	}
	if _, ok := findSection(doc, "1.2.0"); ok {
		t.Fatal("found a section that is not there")
	}
}

func TestVerify(t *testing.T) {
	block := renderChanges(sample, "1.0.0")
	good := upsert("", "1.1.0", "1.0.0", block)
	cases := []struct {
		name, doc, version string
		changes            int
		wantErr            string
	}{
		{"unchanged spec at the released version needs nothing", "", "1.0.0", 0, ""},
		{"changed spec at the released version must be bumped", good, "1.0.0", 3, "info.version is still the released 1.0.0"},
		{"changed spec without an entry", header, "1.1.0", 3, "has no entry for the spec's version 1.1.0"},
		{"entry with a stale list", upsert("", "1.1.0", "1.0.0", renderChanges(sample[:1], "1.0.0")), "1.1.0", 3, "does not list the changes"},
		{"entry without a list", header + "\n## 1.1.0\n\nHand-written.\n", "1.1.0", 3, "does not list the changes"},
		{"up-to-date entry", good, "1.1.0", 3, ""},
		{"a new version with no API change still needs its entry", header, "1.0.1", 0, "has no entry"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := verify(c.doc, "CHANGELOG.md", c.version, "1.0.0", block, c.changes)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}
