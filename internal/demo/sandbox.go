package demo

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/graph/graphfake"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Ids of the Graph sandbox (licensesd demo --graph-sandbox).
const (
	SandboxInstanceID = "7f3c2a10-0000-4000-8000-00000000a001"
	SandboxCustomerID = "7f3c2a10-0000-4000-8000-00000000c001"
	SandboxTenantID   = "7f3c2a10-0000-4000-8000-00000000e001"
	SandboxClientID   = "7f3c2a10-0000-4000-8000-00000000ab01"
	SandboxE3SKU      = "05e9a617-0261-4cee-bb44-138d3ef5d965"
	SandboxEO1SKU     = "4b9405b0-7788-4568-add1-99614e613b69"
	SandboxPBISKU     = "f8a1db68-be16-40ed-86d5-cb42ce701560"
	// SandboxUserID holds E3; SandboxNoLocationUserID has no usage location.
	SandboxUserID           = "7f3c2a10-0000-4000-8000-000000000101"
	SandboxNoLocationUserID = "7f3c2a10-0000-4000-8000-000000000199"
)

// Sandbox is an in-process fake Microsoft Graph with one customer tenant,
// so that a newcomer sees the Graph path without a Microsoft tenant.
type Sandbox struct {
	*graphfake.Server
	secret string
}

// StartSandbox starts the fake Graph and adds to s a graph provider
// instance and a customer linked to the fake tenant.
func StartSandbox(s *licensing.Snapshot) *Sandbox {
	secret := uuid.NewString()
	e3, eo1, pbi := uuid.MustParse(SandboxE3SKU), uuid.MustParse(SandboxEO1SKU), uuid.MustParse(SandboxPBISKU)
	t := graphfake.Tenant{ID: uuid.MustParse(SandboxTenantID), ClientID: SandboxClientID, ClientSecret: secret,
		SKUs: []graphfake.SKU{
			{ID: e3, PartNumber: "SPE_E3", Enabled: 10, Suspended: 1},
			{ID: eo1, PartNumber: "EXCHANGESTANDARD", Enabled: 2},
			{ID: pbi, PartNumber: "POWER_BI_PRO", Enabled: 5, Warning: 1},
		}}
	names := []string{"Megan Bowen", "Adele Vance", "Alex Wilber", "Diego Siciliani", "Grady Archie", "Isaiah Langer",
		"Johanna Lorenz", "Joni Sherman", "Lee Gu", "Lidia Holloway", "Lynne Robbins", "Miriam Graham", "Nestor Wilke",
		"Patti Fernandez", "Pradeep Gupta"}
	for i, n := range names {
		u := graphfake.User{ID: uuid.MustParse(fmt.Sprintf("7f3c2a10-0000-4000-8000-%012d", 101+i)), DisplayName: n,
			UserPrincipalName: fmt.Sprintf("%s@sandbox.onmicrosoft.test", strings.ToLower(strings.Fields(n)[0])), UsageLocation: "US"}
		switch i {
		case 0:
			u.SKUs = []uuid.UUID{e3}
		case 1, 2:
			u.SKUs = []uuid.UUID{eo1}
		}
		t.Users = append(t.Users, u)
	}
	t.Users = append(t.Users, graphfake.User{ID: uuid.MustParse(SandboxNoLocationUserID), DisplayName: "Nolan Location",
		UserPrincipalName: "nolan@sandbox.onmicrosoft.test"})
	box := &Sandbox{Server: graphfake.Start(t), secret: secret}
	ten := &s.Tenants[0]
	ten.ProviderInstances = append(ten.ProviderInstances, licensing.SnapshotProviderInstance{ID: SandboxInstanceID,
		Name: "Contoso Microsoft 365 (Graph sandbox)", Provider: "microsoft", Directory: licensing.DirectoryGraph,
		Graph: &licensing.SnapshotGraph{ClientID: SandboxClientID, ClientSecretEnv: "LICENSES_SANDBOX_GRAPH_SECRET"}})
	ten.Customers = append(ten.Customers, licensing.SnapshotCustomer{ID: SandboxCustomerID, Name: "Sandbox Ltd (Microsoft Graph)",
		ProviderCustomers: []licensing.SnapshotProviderCustomer{{ProviderInstanceID: SandboxInstanceID, MicrosoftTenantID: SandboxTenantID}}})
	return box
}

// Secret is the sandbox app's secret: the demo reads it from here, not
// from the environment variable the instance names.
func (b *Sandbox) Secret(licensing.GraphApp) (string, error) { return b.secret, nil }
