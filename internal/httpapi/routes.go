package httpapi

import (
	"net/url"
	"regexp"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// routeTable finds a request's operation in the spec from the route Echo
// matched, so that every request is routed once: kin-openapi's own router
// (gorilla/mux, regular expressions per route) was 6 % of a GET, for an
// answer Echo had already given. Both come from the same spec: gen
// registers every operation's path with its {parameters} written
// :parameters, which is the key here.
type routeTable map[string]*routers.Route

var specParam = regexp.MustCompile(`\{([^}/]+)\}`)

func newRouteTable(doc *openapi3.T) routeTable {
	t := routeTable{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			t[method+" "+specParam.ReplaceAllString(path, ":$1")] = &routers.Route{
				Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return t
}

// find returns the operation of the route Echo matched and its path
// parameters, unescaped as the generated handlers bind them (so that what
// is validated is what runs); nil when Echo matched no operation of the
// spec (its 404 or 405 follows).
func (t routeTable) find(c echo.Context) (*routers.Route, map[string]string) {
	route := t[c.Request().Method+" "+c.Path()]
	if route == nil {
		return nil, nil
	}
	names, values := c.ParamNames(), c.ParamValues()
	params := make(map[string]string, len(names))
	for i, name := range names {
		if i >= len(values) {
			break
		}
		v, err := url.PathUnescape(values[i])
		if err != nil {
			v = values[i] // left to validation, which names the parameter
		}
		params[name] = v
	}
	return route, params
}
