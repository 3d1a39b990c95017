package httpapi

import (
	"time"

	"github.com/labstack/echo/v4"
)

// Observer is told of every request: internal/metrics implements it.
type Observer interface {
	RequestStarted()
	// RequestDone gets the route template (c.Path(), never the caller's
	// path) and the status sent.
	RequestDone(route, method string, status int, d time.Duration)
}

// observe is the outermost middleware, so that the status it reports is
// the one the error handler sent.
func observe(o Observer) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			o.RequestStarted()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			o.RequestDone(c.Path(), c.Request().Method, c.Response().Status, time.Since(start))
			return nil
		}
	}
}
