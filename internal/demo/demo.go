// Package demo holds the built-in demo data set that `licensesd demo`
// serves: two portals, a Microsoft and an AWS provider instance, direct and
// reseller customers, and SKUs with free, full and suspended seats.
package demo

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

//go:embed demo.json
var data []byte

// The ids a demo user needs to try the API by hand.
const (
	Tenant                 = "portal.contoso.test"
	MicrosoftInstanceID    = "5f0c7b8e-1c1a-4a8e-9a55-0d7c1e7f2a10"
	AWSInstanceID          = "5f0c7b8e-1c1a-4a8e-9a55-0d7c1e7f2a11"
	FabrikamID             = "9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21"
	AdaID                  = "1a2b3c4d-0000-4000-8000-000000000001"
	E3SKU                  = "05e9a617-0261-4cee-bb44-138d3ef5d965"
	ExchangeOnlinePlan1SKU = "4b9405b0-7788-4568-add1-99614e613b69"
	AdatumResellerID       = "b0b0b0b0-0000-4000-8000-000000000001"
)

// Snapshot returns the demo data set, validated.
func Snapshot() (licensing.Snapshot, error) {
	var s licensing.Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("decoding the demo data set: %w", err)
	}
	return s, s.Validate()
}
