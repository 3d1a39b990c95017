// Package api holds the contract, api/openapi.yaml, as the bytes licensesd
// serves at /openapi.yaml: the file itself, comments and order kept, so
// that what a client downloads is exactly what the server was built from.
package api

import _ "embed"

// OpenAPIYAML is api/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte
