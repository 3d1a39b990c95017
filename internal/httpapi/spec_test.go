package httpapi

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSpec_isValidAndDocumented holds api/openapi.yaml (as embedded in gen/)
// to the standard the contract promises: valid OpenAPI with examples that
// match their schemas, every operation named and described, every schema
// property described.
func TestSpec_isValidAndDocumented(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("doc.Validate: %v", err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" || op.Description == "" {
				t.Errorf("%s %s: operationId, summary and description are required", method, path)
			}
		}
	}
	seen := map[*openapi3.Schema]bool{}
	var walk func(name string, s *openapi3.SchemaRef)
	walk = func(name string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		seen[s.Value] = true
		for prop, ps := range s.Value.Properties {
			if ps.Value.Description == "" && (ps.Ref == "" || doc.Components.Schemas[refName(ps.Ref)].Value.Description == "") {
				t.Errorf("%s.%s has no description", name, prop)
			}
			walk(name+"."+prop, ps)
		}
		if s.Value.Items != nil {
			walk(name+"[]", s.Value.Items)
		}
	}
	for name, s := range doc.Components.Schemas {
		if s.Value.Description == "" {
			t.Errorf("schema %s has no description", name)
		}
		walk(name, s)
	}
}

func refName(ref string) string {
	const prefix = "#/components/schemas/"
	if len(ref) > len(prefix) {
		return ref[len(prefix):]
	}
	return ref
}

// TestSpec_embeddedMatchesTheFile guards against a gen/ built from another
// spec than api/openapi.yaml (make check-generate catches it too, but only
// where make runs).
func TestSpec_embeddedMatchesTheFile(t *testing.T) {
	file, err := openapi3.NewLoader().LoadFromFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := file.Paths.MarshalJSON()
	b, _ := embedded.Paths.MarshalJSON()
	if string(a) != string(b) {
		t.Fatal("the spec embedded in gen/ differs from api/openapi.yaml: run make generate")
	}
}
