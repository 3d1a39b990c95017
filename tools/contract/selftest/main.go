// Command selftest proves that the contract gates can fail. It applies known
// edits to copies of api/openapi.yaml, runs the gate's own script on each
// copy and checks the verdict: every breaking edit must fail the gate and be
// named by its rule id, every harmless edit must pass. A gate that cannot
// fail is a defect, and this is how CI notices one.
//
//	go run ./tools/contract/selftest -gate breaking   # tools/contract/check-breaking.sh
//	go run ./tools/contract/selftest -gate lint       # tools/contract/lint-spec.sh (needs Node)
//
// The copies are written as JSON by kin-openapi; the unchanged round trip is
// the first case of each gate, so a difference the round trip itself made
// would show up there and not be mistaken for a detected edit.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// edit is one change to the spec and the verdict the gate must reach on it.
type edit struct {
	name string
	// rules are the rule ids the gate must name; empty means the gate must pass.
	rules []string
	apply func(doc *openapi3.T)
}

func main() {
	gate := flag.String("gate", "breaking", "which gate to test: breaking or lint")
	spec := flag.String("spec", "api/openapi.yaml", "the spec to edit")
	released := flag.String("released", "api/released/openapi.yaml", "the released contract (breaking gate)")
	flag.Parse()

	var edits []edit
	var run func(copyPath string) (string, int, error)
	switch *gate {
	case "breaking":
		edits = breakingEdits()
		run = func(copyPath string) (string, int, error) {
			return script("tools/contract/check-breaking.sh", *released, copyPath)
		}
	case "lint":
		edits = lintEdits()
		run = func(copyPath string) (string, int, error) {
			return script("tools/contract/lint-spec.sh", copyPath)
		}
	default:
		fmt.Fprintf(os.Stderr, "selftest: unknown -gate %q (breaking or lint)\n", *gate)
		os.Exit(2)
	}

	dir, err := os.MkdirTemp("", "contract-selftest-")
	if err != nil {
		fatal(err)
	}
	if os.Getenv("SELFTEST_KEEP") == "" {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("keeping copies in", dir)
	}

	start := time.Now()
	// The edits are independent; run as many at once as there are CPUs.
	results := make([]string, len(edits))
	ok := make([]bool, len(edits))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, e := range edits {
		doc, err := openapi3.NewLoader().LoadFromFile(*spec)
		if err != nil {
			fatal(fmt.Errorf("load %s: %w", *spec, err))
		}
		e.apply(doc)
		body, err := doc.MarshalJSON()
		if err != nil {
			fatal(fmt.Errorf("%s: marshal: %w", e.name, err))
		}
		copyPath := filepath.Join(dir, fmt.Sprintf("edit%02d.json", i))
		if err := os.WriteFile(copyPath, body, 0o644); err != nil {
			fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out, code, err := run(copyPath)
			if err != nil {
				results[i] = fmt.Sprintf("FAIL  %s: %v", e.name, err)
				return
			}
			if problem := judge(e, out, code); problem != "" {
				results[i] = fmt.Sprintf("FAIL  %s: %s\n--- gate output ---\n%s\n-------------------", e.name, problem, out)
				return
			}
			verdict := "passes"
			if len(e.rules) > 0 {
				verdict = "fails with " + strings.Join(e.rules, ", ")
			}
			ok[i] = true
			results[i] = fmt.Sprintf("ok    %s: %s", e.name, verdict)
		}()
	}
	wg.Wait()
	failed := 0
	for i, r := range results {
		if ok[i] {
			fmt.Println(r)
		} else {
			failed++
			fmt.Fprintln(os.Stderr, r)
		}
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "%s-selftest: FAILED — the %s gate misjudged %d of %d edits (see above).\n"+
			"  A breaking edit that passes means the gate lets breaks through: check the gate's script,\n"+
			"  its tool version and its configuration (tools/contract/oasdiff-levels.txt, api/.spectral.yaml).\n",
			*gate, *gate, failed, len(edits))
		os.Exit(1)
	}
	fmt.Printf("%s-selftest: OK — %d edits judged right in %s.\n", *gate, len(edits), time.Since(start).Round(100*time.Millisecond))
}

// judge returns what is wrong with the gate's verdict on e, or "".
func judge(e edit, out string, code int) string {
	if len(e.rules) == 0 {
		if code != 0 {
			return fmt.Sprintf("gate failed (exit %d) on a harmless edit", code)
		}
		return ""
	}
	if code != 1 {
		return fmt.Sprintf("gate exited %d, want 1 (a detected violation)", code)
	}
	var missing []string
	for _, r := range e.rules {
		if !strings.Contains(out, "["+r+"]") {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return "gate failed but did not name " + strings.Join(missing, ", ")
	}
	return ""
}

// script runs a gate script and returns its combined output and exit code.
func script(name string, args ...string) (string, int, error) {
	cmd := exec.Command("bash", append([]string{name}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return out.String(), exit.ExitCode(), nil
	}
	return out.String(), 0, err
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "selftest:", err)
	os.Exit(2)
}

// Helpers that find the parts of our spec the edits change. They panic when
// the spec no longer has that part: then the edit list must follow the spec.

func op(doc *openapi3.T, path, method string) *openapi3.Operation {
	item := doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		panic(fmt.Sprintf("selftest: the spec has no %s %s any more; update tools/contract/selftest", method, path))
	}
	return item.GetOperation(method)
}

func schema(doc *openapi3.T, name string) *openapi3.Schema {
	s := doc.Components.Schemas[name]
	if s == nil || s.Value == nil {
		panic(fmt.Sprintf("selftest: the spec has no schema %s any more; update tools/contract/selftest", name))
	}
	return s.Value
}

func param(doc *openapi3.T, name string) *openapi3.Parameter {
	p := doc.Components.Parameters[name]
	if p == nil || p.Value == nil {
		panic(fmt.Sprintf("selftest: the spec has no parameter %s any more; update tools/contract/selftest", name))
	}
	return p.Value
}

func queryParam(o *openapi3.Operation, name string) *openapi3.Parameter {
	for _, p := range o.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && p.Value.Name == name {
			return p.Value
		}
	}
	panic(fmt.Sprintf("selftest: operation %s has no query parameter %s any more; update tools/contract/selftest", o.OperationID, name))
}

const (
	userLicensesPath = "/v1/Customers/{customerId}/users/{customerUserId}/licenses"
	usersPath        = "/v1/Customers/{customerId}/users"
	licensesPath     = "/v1/Customers/{customerId}/licenses"
)

func breakingEdits() []edit {
	return []edit{
		{name: "unchanged copy", apply: func(*openapi3.T) {}},
		{name: "add an optional response property", apply: func(d *openapi3.T) {
			schema(d, "AuditLog").Properties["note"] = openapi3.NewSchemaRef("",
				openapi3.NewStringSchema().WithNullable())
		}},
		{name: "add an optional query parameter", apply: func(d *openapi3.T) {
			o := op(d, "/v1/AuditLogs", "GET")
			o.Parameters = append(o.Parameters, &openapi3.ParameterRef{Value: openapi3.NewQueryParameter("skuId").
				WithSchema(openapi3.NewUUIDSchema())})
		}},
		{name: "widen a limit (pageSize up to 5000)", apply: func(d *openapi3.T) {
			queryParam(op(d, usersPath, "GET"), "pageSize").Schema.Value.WithMax(5000)
		}},

		{name: "remove a path", rules: []string{"api-path-removed-without-deprecation"}, apply: func(d *openapi3.T) {
			d.Paths.Delete("/v1/AuditLogs")
		}},
		{name: "remove an operation", rules: []string{"api-removed-without-deprecation"}, apply: func(d *openapi3.T) {
			d.Paths.Value(userLicensesPath).Get = nil
		}},
		{name: "remove a required response property", rules: []string{"response-required-property-removed"}, apply: func(d *openapi3.T) {
			s := schema(d, "CustomerUsersPage")
			delete(s.Properties, "totalCount")
			s.Required = without(s.Required, "totalCount")
		}},
		{name: "remove an optional response property", rules: []string{"response-optional-property-removed"}, apply: func(d *openapi3.T) {
			delete(schema(d, "AuditLog").Properties, "skuName")
		}},
		{name: "make an optional parameter required", rules: []string{"request-parameter-became-required"}, apply: func(d *openapi3.T) {
			param(d, "ResellerIdQuery").Required = true
		}},
		{name: "narrow a limit (pageSize up to 1000)", rules: []string{"request-parameter-max-decreased"}, apply: func(d *openapi3.T) {
			queryParam(op(d, usersPath, "GET"), "pageSize").Schema.Value.WithMax(1000)
		}},
		{name: "change a property's type", rules: []string{"response-property-type-changed", "request-property-type-changed"}, apply: func(d *openapi3.T) {
			schema(d, "CustomerUserLicense").Properties["name"].Value.Type = &openapi3.Types{openapi3.TypeInteger}
		}},
		{name: "add a required request property", rules: []string{"new-required-request-property"}, apply: func(d *openapi3.T) {
			s := schema(d, "UpdateCustomerUserLicensesRequest")
			s.Properties["reason"] = openapi3.NewSchemaRef("", openapi3.NewStringSchema())
			s.Required = append(s.Required, "reason")
		}},
		{name: "remove an enum value of a parameter", rules: []string{"request-parameter-enum-value-removed"}, apply: func(d *openapi3.T) {
			queryParam(op(d, usersPath, "GET"), "sort").Schema.Value.Enum = []any{"DisplayName"}
		}},
		{name: "remove a query parameter", rules: []string{"request-parameter-removed"}, apply: func(d *openapi3.T) {
			o := op(d, licensesPath, "GET")
			var kept openapi3.Parameters
			for _, p := range o.Parameters {
				if p.Value.Name != "resellerId" {
					kept = append(kept, p)
				}
			}
			o.Parameters = kept
		}},
		{name: "remove a documented error status", rules: []string{"response-non-success-status-removed"}, apply: func(d *openapi3.T) {
			op(d, userLicensesPath, "PATCH").Responses.Delete("404")
		}},
	}
}

func lintEdits() []edit {
	return []edit{
		{name: "unchanged copy", apply: func(*openapi3.T) {}},
		// One copy with one edit per rule: linting costs seconds per run, and
		// each edit trips a different rule, so every rule must be named.
		{name: "one edit per rule", rules: []string{
			"operation-summary", "operation-id-pascal-case", "schema-property-description",
			"response-correlation-id-header", "error-response-body", "path-ids-are-uuids",
			"operation-description", "operation-tags", "oas3-valid-media-example",
			"oas3-parameter-description",
		}, apply: func(d *openapi3.T) {
			op(d, "/healthz", "GET").Summary = ""
			op(d, "/readyz", "GET").OperationID = "getReadiness"
			schema(d, "CustomerUser").Properties["displayName"].Value.Description = ""
			delete(op(d, "/healthz", "GET").Responses.Value("200").Value.Headers, "X-Correlation-Id")
			notFound := openapi3.NewResponse().WithDescription("Not Found.")
			notFound.Headers = openapi3.Headers{"X-Correlation-Id": &openapi3.HeaderRef{Ref: "#/components/headers/XCorrelationId"}}
			op(d, userLicensesPath, "PATCH").Responses.Set("404", &openapi3.ResponseRef{Value: notFound})
			param(d, "CustomerUserId").Schema.Value.Format = ""
			op(d, licensesPath, "GET").Description = ""
			op(d, usersPath, "GET").Tags = nil
			d.Components.Responses["NotFound"].Value.Content.Get("application/json").Example =
				map[string]any{"statusCode": "four hundred and four"}
			queryParam(op(d, "/v1/AuditLogs", "GET"), "Customer").Description = ""
		}},
	}
}

func without(list []string, name string) []string {
	var out []string
	for _, s := range list {
		if s != name {
			out = append(out, s)
		}
	}
	return out
}
