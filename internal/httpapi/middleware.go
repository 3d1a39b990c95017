package httpapi

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Keys of the values the middleware stores in the Echo context.
const (
	keyCorrelationID = "userlicenses.correlationID"
	keyPrincipal     = "userlicenses.principal"
)

const headerCorrelationID = "X-Correlation-Id"

// correlation gives every request a correlation id: the caller's when it is
// a uuid, a fresh one otherwise (a malformed header is then reported by
// validation as a 400 naming X-Correlation-Id, under the fresh id). The id
// is set on the response before anything else can answer.
func (s *Server) correlation(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := uuid.Parse(c.Request().Header.Get(headerCorrelationID))
		if err != nil || len(c.Request().Header.Get(headerCorrelationID)) != 36 {
			id = s.newID()
		}
		c.Set(keyCorrelationID, id)
		c.Response().Header().Set(headerCorrelationID, id.String())
		return next(c)
	}
}

func correlationID(c echo.Context) uuid.UUID {
	id, _ := c.Get(keyCorrelationID).(uuid.UUID)
	return id
}

func principal(c echo.Context) (licensing.Principal, bool) {
	p, ok := c.Get(keyPrincipal).(licensing.Principal)
	return p, ok
}

// logRequests writes one JSON line per request, after the error handler
// has answered, so that the logged status is the one sent.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := s.now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		attrs := []slog.Attr{
			slog.String("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.Int("status", c.Response().Status),
			slog.Float64("duration_ms", float64(s.now().Sub(start).Microseconds())/1000),
			slog.String("correlation_id", correlationID(c).String()),
		}
		if p, ok := principal(c); ok {
			attrs = append(attrs, slog.String("actor", p.Subject), slog.String("tenant", p.Tenant))
		}
		// The customer a request concerns, so that an operator can follow
		// one customer's traffic (only a well-formed id: the path is the
		// caller's text).
		if id, err := uuid.Parse(c.Param("customerId")); err == nil {
			attrs = append(attrs, slog.String("customer_id", id.String()))
		}
		if err != nil {
			if de, status := domainError(err); status >= 500 {
				attrs = append(attrs, slog.String("error", de.Error()))
			}
		}
		s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}

// recoverPanics turns a panic into a 500 that reveals nothing; the stack
// goes to the log under the correlation id.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = licensing.Wrap(licensing.Internal, fmt.Errorf("panic: %v\n%s", r, debug.Stack()), "An internal error occurred.")
			}
		}()
		return next(c)
	}
}

// limitBody refuses bodies over the limit: at once when the length is
// declared, while reading otherwise (http.MaxBytesError, mapped to 413).
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.bodyLimit {
			return &http.MaxBytesError{Limit: s.bodyLimit}
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, s.bodyLimit)
		return next(c)
	}
}

// guard resolves the operation, authenticates the caller, validates the
// request against the spec and authorizes the caller, in that order: a bad
// token is a 401 whatever else is wrong, a request that breaks the contract
// is a 400 (a missing X-Tenant included), and only a valid request is
// checked against the token's tenant and roles (403). Unknown routes and
// methods fall through to Echo, which answers 404 or 405.
func (s *Server) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		route, pathParams := s.routes.find(c)
		if route == nil {
			return next(c)
		}
		secured := requiresBearer(route)
		var p licensing.Principal
		if secured {
			token, err := auth.BearerToken(req.Header.Get(echo.HeaderAuthorization))
			if err == nil {
				p, err = s.verifier.Verify(req.Context(), token)
			}
			if err != nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer`)
				return err
			}
			c.Set(keyPrincipal, p)
		}
		if route.Operation.RequestBody != nil {
			if req.ContentLength != 0 {
				if err := requireJSON(req); err != nil {
					return err
				}
			}
			if _, err := readBody(c); err != nil {
				return err
			}
		}
		if err := repeatedParameters(route, req); err != nil {
			return err
		}
		input := &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams,
			Route:      route,
			Options: &openapi3filter.Options{
				MultiError:              true,
				AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
				SchemaValidationOptions: s.schemaOptions,
			},
		}
		if err := openapi3filter.ValidateRequest(req.Context(), input); err != nil {
			return err
		}
		if secured {
			if err := auth.Authorize(p, req.Header.Get("X-Tenant")); err != nil {
				return err
			}
		}
		return next(c)
	}
}

func requiresBearer(route *routers.Route) bool {
	reqs := route.Spec.Security
	if route.Operation.Security != nil {
		reqs = *route.Operation.Security
	}
	for _, r := range reqs {
		if _, ok := r["bearerAuth"]; ok {
			return true
		}
	}
	return false
}

// requireJSON answers 415 for a body that is not JSON: the contract
// accepts application/json only.
func requireJSON(req *http.Request) error {
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || !strings.EqualFold(mt, echo.MIMEApplicationJSON) {
		return licensing.Errorf(licensing.Unsupported, "The request body must be application/json.").
			Add("Content-Type", "%q is not supported; send application/json.", req.Header.Get(echo.HeaderContentType))
	}
	return nil
}

// handleError is Echo's error handler: every error, Echo's own included,
// is answered with the published error body.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	de, status := domainError(err)
	if status == http.StatusServiceUnavailable {
		wait := retryAfterSeconds
		if de != nil && de.RetryAfter > 0 {
			wait = int((de.RetryAfter + time.Second - 1) / time.Second)
		}
		c.Response().Header().Set("Retry-After", fmt.Sprint(wait))
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer`)
	}
	body := errorBody(de, status, correlationID(c).String())
	if err := c.JSON(status, body); err != nil {
		s.log.Error("writing an error response", slog.String("error", err.Error()),
			slog.String("correlation_id", correlationID(c).String()))
	}
}

func (s *Server) now() time.Time { return s.clock() }
