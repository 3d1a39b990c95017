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

const (
	graphPI  = "5f0c7b8e-1c1a-4a8e-9a55-0d7c1e7f2a20"
	appID    = "7e3c1f0a-2b4d-4c6e-8f10-123456789abc"
	entraA   = "0b5e2c1d-3f4a-4b6c-8d7e-9f0a1b2c3d4e"
	entraB   = "0b5e2c1d-3f4a-4b6c-8d7e-9f0a1b2c3d4f"
	otherSKU = "c42b9cae-ea4f-4ab7-9717-81576235ccac"
)

// validGraphSnapshot has a local instance (0), a graph instance (1), a
// customer linked to the graph instance (0) and a local customer (1).
func validGraphSnapshot() Snapshot {
	return Snapshot{Tenants: []SnapshotTenant{{
		Domain: "portal.contoso.test",
		ProviderInstances: []SnapshotProviderInstance{
			{ID: tenantPI, Name: "Contoso CSP", Provider: "microsoft"},
			{ID: graphPI, Name: "Contoso Graph", Provider: "microsoft", Directory: DirectoryGraph,
				Graph: &SnapshotGraph{ClientID: appID, ClientSecretEnv: "CONTOSO_GRAPH_SECRET"}},
		},
		Customers: []SnapshotCustomer{
			{ID: customerA, Name: "Fabrikam", ProviderCustomers: []SnapshotProviderCustomer{{ProviderInstanceID: graphPI, MicrosoftTenantID: entraA}}},
			{ID: customerB, Name: "Northwind", Users: []SnapshotUser{{ID: userA, DisplayName: "Ada"}},
				Licenses: []SnapshotLicense{{ProviderInstanceID: tenantPI, SKUID: skuE3, Name: "E3", TotalLicenses: 1, AssignedUserIDs: []string{userA}}}},
		},
	}}}
}

func TestSnapshotValidateGraph(t *testing.T) {
	pi := func(s *Snapshot, i int) *SnapshotProviderInstance { return &s.Tenants[0].ProviderInstances[i] }
	linked := func(s *Snapshot) *SnapshotCustomer { return &s.Tenants[0].Customers[0] }
	tests := []struct {
		name  string
		edit  func(s *Snapshot)
		props []string
	}{
		{"a valid graph snapshot passes", func(*Snapshot) {}, nil},
		{"a secret file and a default usage location pass", func(s *Snapshot) {
			pi(s, 1).Graph = &SnapshotGraph{ClientID: appID, ClientSecretFile: "/run/secrets/graph", DefaultUsageLocation: "US"}
		}, nil},
		{"an explicit local directory passes", func(s *Snapshot) { pi(s, 0).Directory = DirectoryLocal }, nil},
		{"a customer may link to two graph instances", func(s *Snapshot) {
			s.Tenants[0].ProviderInstances = append(s.Tenants[0].ProviderInstances, SnapshotProviderInstance{
				ID: customerB[:35] + "9", Name: "Second Graph", Provider: "microsoft", Directory: DirectoryGraph,
				Graph: &SnapshotGraph{ClientID: appID, ClientSecretEnv: "SECOND"}})
			linked(s).ProviderCustomers = append(linked(s).ProviderCustomers,
				SnapshotProviderCustomer{ProviderInstanceID: customerB[:35] + "9", MicrosoftTenantID: entraB})
		}, nil},
		{"an unknown directory kind is named", func(s *Snapshot) { pi(s, 0).Directory = "ldap" },
			[]string{"tenants[0].providerInstances[0].directory"}},
		{"directory kinds are case-sensitive", func(s *Snapshot) { pi(s, 1).Directory = "Graph" },
			[]string{"tenants[0].providerInstances[1].directory", "tenants[0].customers[0].providerCustomers[0].providerInstanceId"}},
		{"both secret references are named", func(s *Snapshot) { pi(s, 1).Graph.ClientSecretFile = "/run/secrets/graph" },
			[]string{"tenants[0].providerInstances[1].graph"}},
		{"neither secret reference is named", func(s *Snapshot) { pi(s, 1).Graph.ClientSecretEnv = "" },
			[]string{"tenants[0].providerInstances[1].graph"}},
		{"a graph instance without graph settings is named", func(s *Snapshot) { pi(s, 1).Graph = nil },
			[]string{"tenants[0].providerInstances[1].graph"}},
		{"graph settings on a local instance are named", func(s *Snapshot) {
			pi(s, 0).Graph = &SnapshotGraph{ClientID: appID, ClientSecretEnv: "X"}
		}, []string{"tenants[0].providerInstances[0].graph"}},
		{"a graph instance of another provider is named", func(s *Snapshot) { pi(s, 1).Provider = "aws" },
			[]string{"tenants[0].providerInstances[1].provider"}},
		{"a malformed client id is named", func(s *Snapshot) { pi(s, 1).Graph.ClientID = "contoso-app" },
			[]string{"tenants[0].providerInstances[1].graph.clientId"}},
		{"a secret variable that is no variable name is named", func(s *Snapshot) { pi(s, 1).Graph.ClientSecretEnv = "s3cr3t value!" },
			[]string{"tenants[0].providerInstances[1].graph.clientSecretEnv"}},
		{"a relative secret file is named", func(s *Snapshot) {
			pi(s, 1).Graph.ClientSecretEnv, pi(s, 1).Graph.ClientSecretFile = "", "secrets/graph"
		}, []string{"tenants[0].providerInstances[1].graph.clientSecretFile"}},
		{"a usage location that is no country code is named", func(s *Snapshot) { pi(s, 1).Graph.DefaultUsageLocation = "usa" },
			[]string{"tenants[0].providerInstances[1].graph.defaultUsageLocation"}},
		{"a link to a local instance is named", func(s *Snapshot) { linked(s).ProviderCustomers[0].ProviderInstanceID = tenantPI },
			[]string{"tenants[0].customers[0].providerCustomers[0].providerInstanceId"}},
		{"a link to an unknown instance is named", func(s *Snapshot) { linked(s).ProviderCustomers[0].ProviderInstanceID = customerB },
			[]string{"tenants[0].customers[0].providerCustomers[0].providerInstanceId"}},
		{"a malformed link instance id is named", func(s *Snapshot) { linked(s).ProviderCustomers[0].ProviderInstanceID = "graph" },
			[]string{"tenants[0].customers[0].providerCustomers[0].providerInstanceId"}},
		{"a malformed Microsoft tenant id is named", func(s *Snapshot) {
			linked(s).ProviderCustomers[0].MicrosoftTenantID = "contoso.onmicrosoft.com"
		}, []string{"tenants[0].customers[0].providerCustomers[0].microsoftTenantId"}},
		{"a duplicate link is named at its second place", func(s *Snapshot) {
			linked(s).ProviderCustomers = append(linked(s).ProviderCustomers, SnapshotProviderCustomer{ProviderInstanceID: graphPI, MicrosoftTenantID: entraB})
		}, []string{"tenants[0].customers[0].providerCustomers[1].providerInstanceId"}},
		{"a duplicate graph instance id is named", func(s *Snapshot) {
			s.Tenants[0].ProviderInstances = append(s.Tenants[0].ProviderInstances, *pi(s, 1))
		}, []string{"tenants[0].providerInstances[2].id"}},
		{"users listed under a linked customer are named", func(s *Snapshot) {
			linked(s).Users = []SnapshotUser{{ID: userB, DisplayName: "Bob"}}
		}, []string{"tenants[0].customers[0].users"}},
		{"licenses under a graph instance are named", func(s *Snapshot) {
			c := &s.Tenants[0].Customers[1]
			c.Licenses = append(c.Licenses, SnapshotLicense{ProviderInstanceID: graphPI, SKUID: otherSKU, Name: "E5", TotalLicenses: 1})
		}, []string{"tenants[0].customers[1].licenses[1].providerInstanceId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validGraphSnapshot()
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
				t.Fatalf("failing places = %v, want %v (%v)", got, tt.props, err)
			}
		})
	}
}
