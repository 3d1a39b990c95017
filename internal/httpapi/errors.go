package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// retryAfterSeconds is what a 503 asks clients to wait: long enough for a
// database failover to make progress, short enough not to stall a UI.
const retryAfterSeconds = 2

// statusOf is the one mapping of domain error codes to HTTP statuses.
func statusOf(code licensing.Code) int {
	switch code {
	case licensing.Invalid:
		return http.StatusBadRequest
	case licensing.Unauthorized:
		return http.StatusUnauthorized
	case licensing.Forbidden:
		return http.StatusForbidden
	case licensing.NotFound:
		return http.StatusNotFound
	case licensing.Conflict:
		return http.StatusConflict
	case licensing.TooLarge:
		return http.StatusRequestEntityTooLarge
	case licensing.Unsupported:
		return http.StatusUnsupportedMediaType
	case licensing.Timeout:
		return http.StatusRequestTimeout
	case licensing.Unavailable:
		return http.StatusServiceUnavailable
	case licensing.BadGateway:
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}

// typeOf names the error in the body's `type`.
func typeOf(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "ValidationError"
	case http.StatusMethodNotAllowed:
		return "MethodNotAllowed"
	case http.StatusInternalServerError:
		return "InternalServerError"
	default:
		return strings.ReplaceAll(http.StatusText(status), " ", "")
	}
}

// domainError turns anything a handler, middleware or Echo itself returns
// into a licensing.Error plus the HTTP status to answer with. Internal
// causes stay in the Error for logging; the body is built from the public
// fields only.
func domainError(err error) (*licensing.Error, int) {
	var de *licensing.Error
	if errors.As(err, &de) {
		return de, statusOf(de.Code)
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return licensing.Errorf(licensing.TooLarge, "The request body is larger than %d bytes.", tooBig.Limit), http.StatusRequestEntityTooLarge
	}
	if ve := validationError(err); ve != nil {
		return ve, http.StatusBadRequest
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		switch he.Code {
		case http.StatusNotFound:
			msg = "No such resource."
		case http.StatusMethodNotAllowed:
			msg = "The method is not allowed on this resource; see the Allow header."
		}
		if he.Code >= 500 {
			return licensing.Wrap(licensing.Internal, err, "An internal error occurred."), he.Code
		}
		return &licensing.Error{Code: licensing.Invalid, Message: msg, Cause: err}, he.Code
	}
	return licensing.Wrap(licensing.Internal, err, "An internal error occurred."), http.StatusInternalServerError
}

// validationError turns kin-openapi request validation errors into one
// Invalid error naming every failing property, or returns nil when err is
// not a validation error.
func validationError(err error) *licensing.Error {
	var me openapi3.MultiError
	var re *openapi3filter.RequestError
	if !errors.As(err, &me) && !errors.As(err, &re) {
		return nil
	}
	out := licensing.Errorf(licensing.Invalid, "One or more properties are invalid; nothing was changed.")
	out.Cause = err
	collectRequestErrors(err, out)
	return out
}

// collectRequestErrors walks the validator's error tree by its concrete
// types (errors.As would look through a RequestError into its nested
// schema errors and lose which part of the request they belong to).
func collectRequestErrors(err error, out *licensing.Error) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			collectRequestErrors(inner, out)
		}
	case *openapi3filter.RequestError:
		switch {
		case e.Parameter != nil:
			out.Add(e.Parameter.Name, "%s", parameterReason(e))
		case e.RequestBody != nil:
			if !collectSchemaErrors(e.Err, out) {
				// Only the validator's own reasons (e.g. "value is required
				// but missing") are shown; the text of an underlying error
				// stays in the log.
				if e.Reason != "" {
					out.Add("body", "The request body is invalid: %s.", e.Reason)
				} else {
					out.Add("body", "The request body is invalid.")
				}
			}
		default:
			out.Add("", "The request is invalid.")
		}
	default:
		out.Add("", "The request is invalid.")
	}
}

func parameterReason(re *openapi3filter.RequestError) string {
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return fmt.Sprintf("The value %s.", strings.TrimPrefix(se.Reason, "value "))
	}
	if re.Reason != "" {
		return upperFirst(re.Reason) + "."
	}
	var pe *openapi3filter.ParseError
	if errors.As(re.Err, &pe) && pe.Reason != "" {
		return upperFirst(pe.Reason) + "."
	}
	return "The value is invalid."
}

// collectSchemaErrors adds one property error per schema error found in
// err, named by the JSON pointer into the body; it reports whether it found
// any.
func collectSchemaErrors(err error, out *licensing.Error) bool {
	switch e := err.(type) {
	case openapi3.MultiError:
		found := false
		for _, inner := range e {
			found = collectSchemaErrors(inner, out) || found
		}
		return found
	case *openapi3.SchemaError:
		if nested, ok := e.Origin.(openapi3.MultiError); ok {
			return collectSchemaErrors(nested, out)
		}
		if closed := e.Schema != nil && e.Schema.AdditionalProperties.Has != nil && !*e.Schema.AdditionalProperties.Has; closed {
			// Name the unknown property itself, not the object holding it.
			if obj, ok := e.Value.(map[string]any); ok {
				found := false
				for name := range obj {
					if _, known := e.Schema.Properties[name]; !known {
						out.Add(propertyPath(append(e.JSONPointer(), name)), "There is no property %q here; property names are matched exactly.", name)
						found = true
					}
				}
				if found {
					return true
				}
			}
		}
		out.Add(propertyPath(e.JSONPointer()), "%s", upperFirst(e.Reason)+".")
		return true
	}
	return false
}

// propertyPath formats a JSON pointer the way the published error body
// names properties: customerUserLicenses[2].skuId.
func propertyPath(pointer []string) string {
	var b strings.Builder
	for _, p := range pointer {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// maxErrorProperties bounds the property errors one body lists: a client
// that sends thousands of bad items learns of the first ones, and the
// answer stays small.
const maxErrorProperties = 100

// errorBody is the published error body for err.
func errorBody(de *licensing.Error, status int, correlationID string) gen.ErrorResponse {
	body := gen.ErrorResponse{StatusCode: int32(status)}
	typ, desc := typeOf(status), de.Message
	props := de.Properties
	if len(props) > maxErrorProperties {
		desc += fmt.Sprintf(" (The first %d of %d failing properties are listed.)", maxErrorProperties, len(props))
		props = props[:maxErrorProperties]
	}
	body.Type, body.Description = &typ, &desc
	if correlationID != "" {
		body.CorrelationId = &correlationID
	}
	errs := make([]gen.PropertyError, 0, len(props))
	for _, p := range props {
		name, msgs := p.Property, append([]string(nil), p.Messages...)
		errs = append(errs, gen.PropertyError{PropertyName: &name, Description: &msgs})
	}
	body.Errors = &errs
	return body
}
