package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzCheckJSON: checkJSON accepts a body only when encoding/json would read
// it as one valid value in which no object holds two names encoding/json
// merges (checked here by decoding every object independently and
// comparing folded names), and it never panics.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{
		`{"providerInstanceId":"9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21","customerUserLicenses":[{"skuId":"06ebc4ee-1bb5-47dd-8120-11324bc54e06","isSelected":true}]}`,
		`{"a":1,"A":2}`, `{"iſSelected":1,"isSelected":2}`, `{"K":1,"K":2}`, `{"a":{"b":[{"c":1,"C":2}]}}`,
		`[1,2,{"x":null}]`, `{"a":1}{"b":2}`, `{"a":1} x`, `"\ud800"`, `{"a\u0041":1,"aa":2}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if checkJSON(raw) != nil {
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("checkJSON accepted %q, which encoding/json refuses", raw)
		}
		// Numbers are read as json.Number, as checkJSON reads them: 1E700
		// is valid JSON that no float64 holds, and the spec's validator,
		// not this check, refuses it where a number does not belong.
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("checkJSON accepted %q: %v", raw, err)
		}
		if depth(raw) > maxJSONDepth {
			t.Fatalf("checkJSON accepted %q, nested deeper than %d", raw, maxJSONDepth)
		}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				seen := map[string]string{}
				for k, child := range x {
					if other, ok := seen[foldName(k)]; ok {
						t.Fatalf("checkJSON accepted %q with %q beside %q", raw, k, other)
					}
					seen[foldName(k)] = k
					walk(child)
				}
			case []any:
				for _, child := range x {
					walk(child)
				}
			}
		}
		walk(v)
		// Exact duplicates collapse in a map: count names token by token.
		if n, m := names(raw), countNames(v); n != m {
			t.Fatalf("checkJSON accepted %q: %d names sent, %d distinct", raw, n, m)
		}
	})
}

// depth is how deeply raw nests, read by encoding/json's tokenizer.
func depth(raw []byte) int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	d, most := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return most
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			d++
			most = max(most, d)
		case json.Delim('}'), json.Delim(']'):
			d--
		}
	}
}

// names counts the property names in raw.
func names(raw []byte) int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type frame struct{ object, wantKey bool }
	var stack []frame
	n := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey {
			if _, ok := tok.(string); ok {
				n++
				stack[top].wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
		}
		if top := len(stack) - 1; top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}

func countNames(v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		n += len(x)
		for _, c := range x {
			n += countNames(c)
		}
	case []any:
		for _, c := range x {
			n += countNames(c)
		}
	}
	return n
}
