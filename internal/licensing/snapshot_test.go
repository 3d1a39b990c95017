package licensing

import (
	"reflect"
	"testing"
)

const (
	tenantPI  = "5f0c7b8e-1c1a-4a8e-9a55-0d7c1e7f2a10"
	customerA = "9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c21"
	customerB = "9c1b7f0e-52a3-4f36-8d6a-3e0f9b8a7c22"
	userA     = "1a2b3c4d-0000-4000-8000-000000000001"
	userB     = "1a2b3c4d-0000-4000-8000-000000000002"
	skuE3     = "05e9a617-0261-4cee-bb44-138d3ef5d965"
)

func validSnapshot() Snapshot {
	return Snapshot{Tenants: []SnapshotTenant{{
		Domain:            "portal.contoso.test",
		ProviderInstances: []SnapshotProviderInstance{{ID: tenantPI, Name: "Contoso CSP", Provider: "microsoft"}},
		Customers: []SnapshotCustomer{{
			ID: customerA, Name: "Fabrikam",
			Users: []SnapshotUser{{ID: userA, DisplayName: "Ada"}, {ID: userB, DisplayName: "Bob"}},
			Licenses: []SnapshotLicense{{
				ProviderInstanceID: tenantPI, SKUID: skuE3, Name: "E3",
				TotalLicenses: 3, SuspendedLicenses: 1, AssignedUserIDs: []string{userA, userB},
			}},
		}},
	}}}
}

func TestSnapshotValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s *Snapshot)
		props []string
	}{
		{"a valid snapshot passes", func(*Snapshot) {}, nil},
		{"a malformed uuid is named", func(s *Snapshot) { s.Tenants[0].Customers[0].Users[1].ID = "bob" },
			[]string{"tenants[0].customers[0].users[1].id", "tenants[0].customers[0].licenses[0].assignedUserIds[1]"}},
		{"an unknown provider instance is named", func(s *Snapshot) {
			s.Tenants[0].Customers[0].Licenses[0].ProviderInstanceID = customerB
		}, []string{"tenants[0].customers[0].licenses[0].providerInstanceId"}},
		{"more assignments than usable seats are named", func(s *Snapshot) {
			s.Tenants[0].Customers[0].Licenses[0].SuspendedLicenses = 2
		}, []string{"tenants[0].customers[0].licenses[0].assignedUserIds"}},
		{"an assignment to a user of no such customer is named", func(s *Snapshot) {
			s.Tenants[0].Customers[0].Licenses[0].AssignedUserIDs[0] = customerB
		}, []string{"tenants[0].customers[0].licenses[0].assignedUserIds[0]"}},
		{"a duplicate customer id is named at its second place", func(s *Snapshot) {
			c := s.Tenants[0].Customers[0]
			c.Users, c.Licenses = nil, nil
			s.Tenants[0].Customers = append(s.Tenants[0].Customers, c)
		}, []string{"tenants[0].customers[1].id"}},
		{"a SKU listed twice per provider instance is named", func(s *Snapshot) {
			l := s.Tenants[0].Customers[0].Licenses[0]
			l.AssignedUserIDs = nil
			s.Tenants[0].Customers[0].Licenses = append(s.Tenants[0].Customers[0].Licenses, l)
		}, []string{"tenants[0].customers[0].licenses[1].skuId"}},
		{"the same SKU for two customers is fine", func(s *Snapshot) {
			s.Tenants[0].Customers = append(s.Tenants[0].Customers, SnapshotCustomer{
				ID: customerB, Name: "Northwind",
				Licenses: []SnapshotLicense{{ProviderInstanceID: tenantPI, SKUID: skuE3, TotalLicenses: 1}},
			})
		}, nil},
		{"a duplicate domain is named, case-insensitively", func(s *Snapshot) {
			s.Tenants = append(s.Tenants, SnapshotTenant{Domain: "PORTAL.contoso.test"})
		}, []string{"tenants[1].domain"}},
		{"a negative count is named", func(s *Snapshot) {
			s.Tenants[0].Customers[0].Licenses[0].TotalLicenses = -1
		}, []string{"tenants[0].customers[0].licenses[0].totalLicenses", "tenants[0].customers[0].licenses[0].assignedUserIds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSnapshot()
			tt.edit(&s)
			err := s.Validate()
			if tt.props == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != Invalid {
				t.Fatalf("want an Invalid *Error, got %v", err)
			}
			if got := propertyNames(e); !reflect.DeepEqual(got, tt.props) {
				t.Fatalf("failing places = %v, want %v", got, tt.props)
			}
		})
	}
}
