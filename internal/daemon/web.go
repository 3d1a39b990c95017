package daemon

import (
	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/api"
	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/webui"
)

// mountWeb puts the license editor (/ui/), the API reference (/docs) and
// the spec (/openapi.yaml, /openapi.json) in front of the API. It wraps
// the server's handler rather than adding Echo routes, so the API's
// middleware, routing and error bodies stay exactly as they are for every
// other path.
func mountWeb(e *echo.Echo, cfg Config) error {
	specJSON, err := gen.GetSpecJSON()
	if err != nil {
		return err
	}
	web, err := webui.New(webui.Config{SpecYAML: api.OpenAPIYAML, SpecJSON: specJSON, Demo: cfg.Demo, Logger: cfg.Logger})
	if err != nil {
		return err
	}
	e.Server.Handler = web.Wrap(e)
	return nil
}
