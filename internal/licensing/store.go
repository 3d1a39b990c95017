package licensing

import (
	"context"
	"maps"

	"github.com/google/uuid"
)

// Catalog answers who and what exists in a tenant. Lookups of things that do
// not exist return an Error with code NotFound.
type Catalog interface {
	// ProviderInstance returns the tenant's provider instance.
	ProviderInstance(ctx context.Context, tenant string, id uuid.UUID) (ProviderInstance, error)
	// Customer returns the tenant's customer, whoever its reseller; the
	// service applies the caller's scope.
	Customer(ctx context.Context, tenant string, id uuid.UUID) (Customer, error)
	// User returns a user of the tenant's customer.
	User(ctx context.Context, tenant string, customerID, userID uuid.UUID) (User, error)
	// UserView reads, at one moment, what a read or an update of ref's
	// licenses needs (see UserView); NotFound when the tenant has no
	// customer ref.CustomerID.
	UserView(ctx context.Context, ref UserRef) (UserView, error)
	// Users returns one page of a customer's users.
	Users(ctx context.Context, tenant string, customerID uuid.UUID, q UserQuery) (UserPage, error)
	// Customers returns one page of the tenant's customers within q.Scope.
	Customers(ctx context.Context, q CustomerQuery) (CustomerPage, error)
	// ProviderInstances returns one page of the tenant's provider
	// instances, sorted by provider, then name (both folded with
	// FoldASCII, then as written), then id.
	ProviderInstances(ctx context.Context, tenant string, p Page) (ProviderInstancePage, error)
}

// UserView is what the store knows of one user's licenses under one
// provider instance, read in one snapshot: the customer, whether the user
// and the instance exist and, for a local instance, the customer's seats
// there. One store call answers a GET of a user's licenses and decides an
// update that would change nothing; profiling the GET showed five calls
// (customer, user, instance, licenses, held SKUs) costing 40 % of it.
type UserView struct {
	Customer  Customer
	UserFound bool
	// Instance is nil when the tenant has no such provider instance.
	Instance *ProviderInstance
	// Seats are what Licenses and HeldSKUs would return (empty unless
	// the instance is local and the user exists).
	Seats Seats
}

// Clone returns a copy of v sharing no memory with it, for a store that
// keeps views: what it hands out may be changed by the caller.
func (v UserView) Clone() UserView {
	c := v
	if v.Customer.ResellerID != nil {
		id := *v.Customer.ResellerID
		c.Customer.ResellerID = &id
	}
	if v.Instance != nil {
		pi := *v.Instance
		if pi.Graph != nil {
			g := *pi.Graph
			pi.Graph = &g
		}
		c.Instance = &pi
	}
	if v.Seats.Licenses != nil {
		c.Seats.Licenses = append(make([]License, 0, len(v.Seats.Licenses)), v.Seats.Licenses...)
	}
	if v.Seats.Held != nil {
		c.Seats.Held = maps.Clone(v.Seats.Held)
	}
	return c
}

// Directory is where seats and assignments live: the embedded store today,
// a provider's own directory (Microsoft Graph) later. The seat rules are not
// its business; it hands the current state to a decision and applies what
// the decision returns, atomically.
type Directory interface {
	// Licenses returns the customer's licenses under the provider instance,
	// sorted by name then SKU id, with Consumed counting the assignments.
	Licenses(ctx context.Context, tenant string, customerID, providerInstanceID uuid.UUID) ([]License, error)
	// HeldSKUs returns the SKUs the user holds under the provider instance.
	HeldSKUs(ctx context.Context, ref UserRef) (map[uuid.UUID]bool, error)
	// ApplyUserLicenses is the one write path of seats. It reads the seats
	// of ref's customer and user under a lock that keeps concurrent updates
	// of the same customer's seats from interleaving, calls decide with
	// them and, when decide returns no error, applies the changes and
	// records one audit record per change (attributed to actor) in the same
	// atomic commit. When decide fails, nothing is written and its error is
	// returned. A nil error means the changes are durable.
	ApplyUserLicenses(ctx context.Context, ref UserRef, actor Actor, decide func(Seats) ([]Change, error)) ([]Change, error)
}

// AuditLog keeps the audit records: those ApplyUserLicenses writes with
// the changes it commits, and those of refused updates.
type AuditLog interface {
	// AuditRecords returns one page of the records matching q, newest first.
	AuditRecords(ctx context.Context, q AuditQuery) (AuditPage, error)
	// RecordAudit writes the records in one commit: the Failed records of
	// an update that was refused and changed nothing. A zero ID or
	// CreatedAt is filled in by the store (a v7 uuid, the store's clock).
	RecordAudit(ctx context.Context, records []AuditRecord) error
}

// Store is a complete backend: everything the service needs, plus seeding
// and health. SQLite and PostgreSQL each provide one, and both pass the
// same test suite (internal/storetest).
type Store interface {
	Catalog
	Directory
	AuditLog
	Mirror
	// Import writes a validated snapshot in one transaction, idempotently:
	// importing the same snapshot twice changes nothing. The assignments of
	// each license listed become exactly its assignedUserIds.
	Import(ctx context.Context, s Snapshot) error
	// Ready reports whether the database is reachable and migrated.
	Ready(ctx context.Context) error
	// Close releases the database.
	Close() error
}
