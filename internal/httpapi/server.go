// Package httpapi serves the licensing service over HTTP as the contract in
// api/openapi.yaml says: it implements the generated Echo server interface,
// validates every request against the spec and answers every error with
// the published error body.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// DefaultBodyLimit is the largest request body accepted: far above any
// real license list, small enough to bound memory per request.
const DefaultBodyLimit = 1 << 20

// Verifier checks a bearer token and returns who presents it.
type Verifier interface {
	Verify(ctx context.Context, token string) (licensing.Principal, error)
}

// Config is what the HTTP layer needs; everything is passed in.
type Config struct {
	Service  *licensing.Service
	Verifier Verifier
	// Ready reports whether the backing store can serve (for /readyz).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// BodyLimit defaults to DefaultBodyLimit.
	BodyLimit int64
	// MaxInFlight caps the requests served at once (beyond: 503 with
	// Retry-After); zero means no cap.
	MaxInFlight int
	// RequestTimeout bounds each request, database calls included (then
	// 503); zero means none.
	RequestTimeout time.Duration
	// Observer, when set, is told of every request (metrics).
	Observer Observer
	// Now and NewID default to time.Now and uuid.New; tests replace them.
	Now   func() time.Time
	NewID func() uuid.UUID
}

// Server implements gen.ServerInterface on the licensing service.
type Server struct {
	svc      *licensing.Service
	verifier Verifier
	ready    func(ctx context.Context) error
	log      *slog.Logger
	routes   routeTable
	// schemaOptions carry the spec's own format checkers (uuid) into
	// request validation, which does not pick them up from the document.
	schemaOptions []openapi3.SchemaValidationOption
	bodyLimit     int64
	inFlight      chan struct{}
	// requestTimeout is Config.RequestTimeout.
	requestTimeout time.Duration
	clock          func() time.Time
	newID          func() uuid.UUID
}

var _ gen.ServerInterface = (*Server)(nil)

// Spec returns the embedded contract with a uuid format checker that
// accepts every RFC 9562 version (kin-openapi's own regexp rejects v7), and
// without servers, so that routes match whatever address we listen on.
func Spec() (*openapi3.T, error) {
	doc, err := gen.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("loading the embedded spec: %w", err)
	}
	doc.Servers = nil
	doc.SetStringFormatValidator("uuid", openapi3.NewCallbackValidator(func(s string) error {
		if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
			return fmt.Errorf("%q is not a uuid", s)
		}
		return nil
	}))
	return doc, nil
}

// New returns an Echo instance serving the API.
func New(cfg Config) (*echo.Echo, error) {
	doc, err := Spec()
	if err != nil {
		return nil, err
	}
	s := &Server{
		svc: cfg.Service, verifier: cfg.Verifier, ready: cfg.Ready, log: cfg.Logger,
		routes: newRouteTable(doc), schemaOptions: doc.GetSchemaValidationOptions(), bodyLimit: cfg.BodyLimit, clock: cfg.Now, newID: cfg.NewID,
	}
	if s.bodyLimit <= 0 {
		s.bodyLimit = DefaultBodyLimit
	}
	if cfg.MaxInFlight > 0 {
		s.inFlight = make(chan struct{}, cfg.MaxInFlight)
	}
	s.requestTimeout = cfg.RequestTimeout
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.newID == nil {
		s.newID = uuid.New
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	if cfg.Observer != nil {
		e.Use(observe(cfg.Observer))
	}
	e.Use(s.correlation, s.logRequests, s.recoverPanics, s.limitInFlight, s.deadline, s.limitBody, s.guard)
	gen.RegisterHandlers(e, s)
	return e, nil
}
