package directorytest

import (
	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Ids of the world's tenant, customer and provider instance.
var (
	Tenant     = "directorytest.example"
	CustomerID = uuid.MustParse("5d000000-0000-4000-8000-00000000c001")
	InstanceID = uuid.MustParse("5d000000-0000-4000-8000-00000000a001")
)

// Ref is the UserRef of a world's user.
func Ref(user uuid.UUID) licensing.UserRef {
	return licensing.UserRef{Tenant: Tenant, CustomerID: CustomerID, UserID: user, ProviderInstanceID: InstanceID}
}

// LocalSnapshot is w as a seed for a local directory.
func LocalSnapshot(w World) licensing.Snapshot {
	c := licensing.SnapshotCustomer{ID: CustomerID.String(), Name: "Directory Test Customer"}
	for user := range w.Users {
		c.Users = append(c.Users, licensing.SnapshotUser{ID: user.String(), DisplayName: "User " + user.String()[30:], UserPrincipalName: user.String()[30:] + "@dt.test"})
	}
	for _, s := range w.SKUs {
		l := licensing.SnapshotLicense{ProviderInstanceID: InstanceID.String(), SKUID: s.ID.String(), Name: s.Name,
			TotalLicenses: s.Usable + s.Suspended, SuspendedLicenses: s.Suspended, AssignedUserIDs: []string{}}
		for user, skus := range w.Users {
			for _, h := range skus {
				if h == s.ID {
					l.AssignedUserIDs = append(l.AssignedUserIDs, user.String())
				}
			}
		}
		c.Licenses = append(c.Licenses, l)
	}
	return licensing.Snapshot{Tenants: []licensing.SnapshotTenant{{Domain: Tenant,
		ProviderInstances: []licensing.SnapshotProviderInstance{{ID: InstanceID.String(), Name: "Local", Provider: "microsoft"}},
		Customers:         []licensing.SnapshotCustomer{c}}}}
}
