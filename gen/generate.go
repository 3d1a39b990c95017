// Package gen holds the code oapi-codegen writes from api/openapi.yaml:
// models, the Echo server interface, the client and the embedded spec.
// Nothing here but this file is written by hand; run `make generate`.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config ../oapi-codegen.yaml ../api/openapi.yaml
