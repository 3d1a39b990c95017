package demo

import "testing"

func TestSnapshot_isValidAndHoldsTheAdvertisedIDs(t *testing.T) {
	s, err := Snapshot()
	if err != nil {
		t.Fatalf("the demo data set is invalid: %v", err)
	}
	if s.Tenants[0].Domain != Tenant || s.Tenants[0].Customers[0].ID != FabrikamID ||
		s.Tenants[0].Customers[0].Users[0].ID != AdaID || s.Tenants[0].ProviderInstances[0].ID != MicrosoftInstanceID {
		t.Fatal("the ids advertised by the constants are not where they should be")
	}
}
