package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

const keyBody = "userlicenses.body"

// maxJSONDepth bounds how deeply a body may nest: the deepest valid body
// (an item of the license list) is three levels down.
const maxJSONDepth = 16

// readBody reads the request body once and checks that it is exactly one
// JSON value in which no object has a property twice, either exactly or in
// spellings that encoding/json would merge (it matches names
// case-insensitively and keeps the last). The validator and the handler
// then both read these very bytes, and with additionalProperties: false in
// the spec what is validated is what runs.
func readBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, bodyReadError(err)
	}
	// An empty body is the validator's to refuse (the body is required).
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := checkJSON(raw); err != nil {
			return nil, err
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	c.Set(keyBody, raw)
	return raw, nil
}

// requestBody returns the bytes readBody checked.
func requestBody(c echo.Context) []byte {
	raw, _ := c.Get(keyBody).([]byte)
	return raw
}

// bodyReadError classifies a failure to read the body without passing its
// text on (it names addresses, e.g. "read tcp 127.0.0.1:…: i/o timeout").
func bodyReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return licensing.Wrap(licensing.Timeout, err, "The request body did not arrive in time; nothing was changed.")
	}
	return licensing.Wrap(licensing.Invalid, err, "The request body could not be read; nothing was changed.").
		Add("body", "The body ended early or could not be read.")
}

// invalidBody is the refusal of a body that is not one well-formed value.
func invalidBody(format string, args ...any) *licensing.Error {
	return licensing.Errorf(licensing.Invalid, "The request body is not valid JSON; nothing was changed.").Add("body", format, args...)
}

// checkJSON walks raw token by token. Its errors name the property where
// the problem is, e.g. customerUserLicenses[0].ISSELECTED.
func checkJSON(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers are not converted, only skipped
	type frame struct {
		object bool
		path   string
		keys   map[string]string // folded name → name as sent
		key    string            // the property whose value comes next
		index  int
		want   bool // in an object: a key comes next
	}
	var stack []*frame
	// child names the value about to be read inside the top frame.
	child := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.object {
			return joinPath(f.path, f.key)
		}
		return f.path + "[" + strconv.Itoa(f.index) + "]"
	}
	// done advances the top frame past one value.
	done := func() {
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.object {
			f.want = true
		} else {
			f.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) == 0 && dec.InputOffset() > 0 {
				return nil
			}
			return invalidBody("The body ends before its value does.")
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return invalidBody("Malformed JSON at byte %d.", se.Offset)
			}
			return invalidBody("Malformed JSON at byte %d.", dec.InputOffset())
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.want {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				done()
				if len(stack) == 0 {
					return trailing(dec)
				}
				continue
			}
			name, _ := tok.(string)
			folded := foldName(name)
			if first, dup := top.keys[folded]; dup {
				path := joinPath(top.path, name)
				if first == name {
					return licensing.Errorf(licensing.Invalid, "A property is given twice; nothing was changed.").
						Add(path, "The property %q is given twice; give it once.", name)
				}
				return licensing.Errorf(licensing.Invalid, "A property is given twice; nothing was changed.").
					Add(path, "%q and %q differ only in case; property names are matched exactly, give %q once.", first, name, first)
			}
			top.keys[folded], top.key, top.want = name, name, false
			continue
		}
		switch d, _ := tok.(json.Delim); d {
		case '{', '[':
			if len(stack) >= maxJSONDepth {
				return invalidBody("The body nests deeper than %d levels.", maxJSONDepth)
			}
			f := &frame{object: d == '{', path: child(), want: d == '{'}
			if f.object {
				f.keys = map[string]string{}
			}
			stack = append(stack, f)
		case ']':
			stack = stack[:len(stack)-1]
			done()
			if len(stack) == 0 {
				return trailing(dec)
			}
		default: // a scalar
			done()
			if len(stack) == 0 {
				return trailing(dec)
			}
		}
	}
}

// trailing refuses anything but white space after the body's value.
func trailing(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return invalidBody("Only one JSON value may be sent; more follows at byte %d.", dec.InputOffset())
	}
	return nil
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// foldName folds a property name the way encoding/json matches names to
// fields (ASCII upper case; other runes through ToUpper(ToLower(r)), which
// maps U+017F ſ to S and U+212A K to K), so that every pair of names it
// would merge is caught.
func foldName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(name[i:])
		b.WriteRune(unicode.ToUpper(unicode.ToLower(r)))
		i += n
	}
	return b.String()
}

// repeatedParameters refuses a single-valued query parameter or header
// given more than once, naming each: which value would count is not
// something a client should have to guess (the validator and the handler
// could even pick different ones).
func repeatedParameters(route *routers.Route, req *http.Request) error {
	var out *licensing.Error
	query := req.URL.Query()
	for _, ref := range route.Operation.Parameters {
		p := ref.Value
		if p == nil || (p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type.Is("array")) {
			continue
		}
		n := 0
		switch p.In {
		case "query":
			n = len(query[p.Name])
		case "header":
			n = len(req.Header.Values(p.Name))
		}
		if n > 1 {
			if out == nil {
				out = licensing.Errorf(licensing.Invalid, "One or more properties are invalid; nothing was changed.")
			}
			out.Add(p.Name, "The parameter is given %d times; give it once.", n)
		}
	}
	if out != nil {
		return out
	}
	return nil
}
