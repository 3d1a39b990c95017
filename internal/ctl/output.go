package ctl

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"
	"sigs.k8s.io/yaml"
)

// The output formats of -o.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

func checkFormat(f string) error {
	switch f {
	case formatTable, formatJSON, formatYAML:
		return nil
	}
	return usageErrorf("-o %q: want table, json or yaml", f)
}

// printData writes v as JSON or YAML (the API's own property names, since
// YAML is made from the JSON), or calls table for the human form.
func printData(w io.Writer, format string, v any, table func(*tabwriter.Writer)) error {
	switch format {
	case formatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case formatYAML:
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		y, err := yaml.JSONToYAML(raw)
		if err != nil {
			return err
		}
		_, err = w.Write(y)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// row writes one tab-separated table row.
func row(tw io.Writer, cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = cell(c)
	}
	fmt.Fprintln(tw, strings.Join(parts, "\t"))
}

// cell renders a value for a table: nil pointers and empty strings as "-".
func cell(v any) string {
	switch x := v.(type) {
	case *string:
		if x == nil || *x == "" {
			return "-"
		}
		return clean(*x)
	case string:
		if x == "" {
			return "-"
		}
		return clean(x)
	case *uuid.UUID:
		if x == nil {
			return "-"
		}
		return x.String()
	case fmt.Stringer:
		if x == nil {
			return "-"
		}
		return x.String()
	}
	return fmt.Sprint(v)
}

// clean keeps a value on its table cell: tabs and line breaks in data
// would shift the columns or forge rows.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r < 0x20 {
			return ' '
		}
		return r
	}, s)
}
