package licensing

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an Error. The HTTP layer maps each code to one status in
// exactly one place; the domain never speaks HTTP.
type Code string

// The error codes of the domain.
const (
	Invalid      Code = "Invalid"
	NotFound     Code = "NotFound"
	Conflict     Code = "Conflict"
	Unauthorized Code = "Unauthorized"
	Forbidden    Code = "Forbidden"
	TooLarge     Code = "TooLarge"
	Unsupported  Code = "Unsupported"
	// Timeout: the request did not arrive in time (a body slower than the
	// server's read timeout).
	Timeout     Code = "Timeout"
	Unavailable Code = "Unavailable"
	// BadGateway: a remote directory (Microsoft Graph) refused us for a
	// reason an operator must fix (consent, permissions, the app's secret).
	BadGateway Code = "BadGateway"
	Internal   Code = "Internal"
)

// PropertyError lists what is wrong with one property of a request, named
// the way the published error body names it (e.g. customerUserLicenses[2].skuId).
type PropertyError struct {
	Property string
	Messages []string
}

// Error is the one error type of the domain: a code, a message for humans,
// the failing properties and, for logs only, the underlying cause.
type Error struct {
	Code       Code
	Message    string
	Properties []PropertyError
	Cause      error
	// RetryAfter, when positive, is the wait an Unavailable answer asks
	// for (a remote directory's own Retry-After); zero means the default.
	RetryAfter time.Duration
	// index finds a property's entry in Properties, so that Add stays O(1)
	// however many properties fail (a linear search made a 15,000-item
	// request cost O(n²) while a write lock was held).
	index map[string]int
}

// Errorf returns an Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error implements error; the cause is included because this string goes
// to logs, while the HTTP body is built from the fields.
func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	for _, p := range e.Properties {
		s += fmt.Sprintf("; %s: %v", p.Property, p.Messages)
	}
	if e.Cause != nil {
		s += " (" + e.Cause.Error() + ")"
	}
	return s
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// Add records a message for a property, keeping one entry per property so
// that every failing property is listed once with all its messages.
func (e *Error) Add(property, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if e.index == nil || len(e.index) != len(e.Properties) {
		// Built as a literal, or Properties changed by hand: index afresh.
		e.index = make(map[string]int, len(e.Properties)+1)
		for i, p := range e.Properties {
			if _, dup := e.index[p.Property]; !dup {
				e.index[p.Property] = i
			}
		}
	}
	if i, ok := e.index[property]; ok {
		e.Properties[i].Messages = append(e.Properties[i].Messages, msg)
		return e
	}
	e.index[property] = len(e.Properties)
	e.Properties = append(e.Properties, PropertyError{Property: property, Messages: []string{msg}})
	return e
}

// Wrap returns an Error with the code and message whose cause is err.
func Wrap(code Code, err error, format string, args ...any) *Error {
	e := Errorf(code, format, args...)
	e.Cause = err
	return e
}

// ErrorCode returns the code of the first Error in err's chain, Internal
// for any other non-nil error and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// asError finds the first *Error in err's chain.
func asError(err error, target **Error) bool { return errors.As(err, target) }
