package httpapi

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// limitInFlight answers 503 with Retry-After at once when MaxInFlight
// requests are being served already: past that point queueing only adds
// latency and memory, and a client told to come back can go to another
// replica. Liveness (/healthz) is exempt, so that an orchestrator does not
// restart a busy replica.
func (s *Server) limitInFlight(next echo.HandlerFunc) echo.HandlerFunc {
	if s.inFlight == nil {
		return next
	}
	return func(c echo.Context) error {
		if c.Request().URL.Path == "/healthz" {
			return next(c)
		}
		select {
		case s.inFlight <- struct{}{}:
			defer func() { <-s.inFlight }()
			return next(c)
		default:
			return licensing.Errorf(licensing.Unavailable,
				"The server is busy (%d requests in flight); nothing was changed. Retry after the Retry-After interval.", cap(s.inFlight))
		}
	}
}

// deadline bounds the time a request may spend, database included: a
// query slower than RequestTimeout is interrupted and answered 503, so that
// no request holds a connection or a lock indefinitely.
func (s *Server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	if s.requestTimeout <= 0 {
		return next
	}
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.requestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}
