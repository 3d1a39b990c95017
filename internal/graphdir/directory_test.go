package graphdir_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/directorytest"
	"github.com/cloudcockpit-oss/userlicenses/internal/graph"
	"github.com/cloudcockpit-oss/userlicenses/internal/graph/graphfake"
	"github.com/cloudcockpit-oss/userlicenses/internal/graphdir"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/sqlite"
)

var partNumbers = map[string]string{"Microsoft 365 E3": "SPE_E3", "Exchange Online (Plan 1)": "EXCHANGESTANDARD"}

// graphWorld holds the world in a fake Graph tenant, linked to the
// customer in a SQLite mirror, synced once.
func graphWorld(t *testing.T, w directorytest.World) (licensing.Directory, func(uuid.UUID) licensing.UserRef) {
	msTenant, clientID := uuid.New(), uuid.NewString()
	ten := graphfake.Tenant{ID: msTenant, ClientID: clientID, ClientSecret: "s3cret"}
	for _, s := range w.SKUs {
		ten.SKUs = append(ten.SKUs, graphfake.SKU{ID: s.ID, PartNumber: partNumbers[s.Name], Enabled: s.Usable, Suspended: s.Suspended})
	}
	for user, skus := range w.Users {
		ten.Users = append(ten.Users, graphfake.User{ID: user, DisplayName: "User " + user.String()[30:], UserPrincipalName: user.String()[30:] + "@dt.test",
			UsageLocation: "US", SKUs: skus})
	}
	fake := graphfake.Start(ten)
	t.Cleanup(fake.Close)
	store, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "mirror.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	snap := licensing.Snapshot{Tenants: []licensing.SnapshotTenant{{Domain: directorytest.Tenant,
		ProviderInstances: []licensing.SnapshotProviderInstance{{ID: directorytest.InstanceID.String(), Name: "Graph", Provider: "microsoft",
			Directory: licensing.DirectoryGraph, Graph: &licensing.SnapshotGraph{ClientID: clientID, ClientSecretEnv: "UNUSED"}}},
		Customers: []licensing.SnapshotCustomer{{ID: directorytest.CustomerID.String(), Name: "Directory Test Customer",
			ProviderCustomers: []licensing.SnapshotProviderCustomer{{ProviderInstanceID: directorytest.InstanceID.String(), MicrosoftTenantID: msTenant.String()}}}}}}}
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := store.Import(context.Background(), snap); err != nil {
		t.Fatal(err)
	}
	dir := graphdir.New(graphdir.Config{
		Graph:   graph.New(graph.Config{URL: fake.GraphURL(), LoginURL: fake.LoginURL()}),
		Mirror:  store,
		Timeout: 10 * time.Second,
		Secret:  func(licensing.GraphApp) (string, error) { return "s3cret", nil },
	})
	if res, err := dir.Sync(context.Background()); err != nil || res.Err() != nil {
		t.Fatalf("sync: %v %v", err, res.Err())
	}
	return dir, directorytest.Ref
}

// The Graph directory passes the same contract suite as the local store.
func TestGraphDirectory(t *testing.T) {
	directorytest.Run(t, graphWorld)
}
