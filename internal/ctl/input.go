package ctl

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The columns of a bulk change file, in no particular order.
var columns = []string{"customerId", "user", "providerInstanceId", "sku", "action"}

// InputRow is one row of a bulk change file as written. Problem is set
// when the row is malformed (the row is then impossible).
type InputRow struct {
	// N numbers the rows from 1: the first data line after the CSV
	// header, or the first element of the JSON array.
	N                  int    `json:"-"`
	CustomerID         string `json:"customerId"`
	User               string `json:"user"`
	ProviderInstanceID string `json:"providerInstanceId"`
	SKU                string `json:"sku"`
	Action             string `json:"action"`
	Problem            string `json:"-"`
}

// readRows reads a CSV or JSON bulk file. format is "csv", "json" or ""
// (told from the first character). An error means the file as a whole is
// unusable (a usage error); a bad row only marks that row.
func readRows(r io.Reader, format string) ([]InputRow, error) {
	br := bufio.NewReader(r)
	if format == "" {
		format = "csv"
		for {
			b, err := br.ReadByte()
			if err != nil {
				break
			}
			if b == ' ' || b == '\t' || b == '\r' || b == '\n' {
				continue
			}
			if b == '[' {
				format = "json"
			}
			br.UnreadByte()
			break
		}
	}
	switch format {
	case "csv":
		return readCSV(br)
	case "json":
		return readJSON(br)
	}
	return nil, fmt.Errorf("--format %q: want csv or json", format)
}

func readCSV(r io.Reader) ([]InputRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a short row is that row's problem, not the file's
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty: want a header row " + strings.Join(columns, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("reading the CSV header: %v", err)
	}
	at := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // a BOM, as spreadsheets write
		for _, c := range columns {
			if strings.EqualFold(h, c) {
				if _, dup := at[c]; dup {
					return nil, fmt.Errorf("the header names column %s twice", c)
				}
				at[c] = i
			}
		}
	}
	var missing []string
	for _, c := range columns {
		if _, ok := at[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the header lacks %s: want the columns %s (any order; others are ignored)",
			strings.Join(missing, ", "), strings.Join(columns, ","))
	}
	var rows []InputRow
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				// The CSV itself is broken (a stray quote): nothing after
				// it can be trusted.
				return nil, fmt.Errorf("the CSV is malformed at line %d: %v", pe.Line, pe.Err)
			}
			return nil, err
		}
		get := func(c string) (string, bool) {
			i := at[c]
			if i >= len(rec) {
				return "", false
			}
			return strings.TrimSpace(rec[i]), true
		}
		row := InputRow{N: n}
		var short []string
		for _, c := range columns {
			v, ok := get(c)
			if !ok {
				short = append(short, c)
			}
			switch c {
			case "customerId":
				row.CustomerID = v
			case "user":
				row.User = v
			case "providerInstanceId":
				row.ProviderInstanceID = v
			case "sku":
				row.SKU = v
			case "action":
				row.Action = v
			}
		}
		if len(short) > 0 {
			row.Problem = fmt.Sprintf("the row has %d fields and lacks %s", len(rec), strings.Join(short, ", "))
		}
		rows = append(rows, row)
	}
}

func readJSON(r io.Reader) ([]InputRow, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("the JSON is not an array of objects: %v", err)
	}
	rows := make([]InputRow, 0, len(items))
	for i, item := range items {
		row := InputRow{N: i + 1}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(item, &obj); err != nil || obj == nil {
			row.Problem = "the element is not an object"
			rows = append(rows, row)
			continue
		}
		var problems []string
		for _, c := range columns {
			v, ok := obj[c]
			if !ok {
				problems = append(problems, "lacks "+c)
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				problems = append(problems, c+" is not a string")
				continue
			}
			s = strings.TrimSpace(s)
			switch c {
			case "customerId":
				row.CustomerID = s
			case "user":
				row.User = s
			case "providerInstanceId":
				row.ProviderInstanceID = s
			case "sku":
				row.SKU = s
			case "action":
				row.Action = s
			}
		}
		if len(problems) > 0 {
			row.Problem = "the element " + strings.Join(problems, ", ")
		}
		rows = append(rows, row)
	}
	return rows, nil
}
