package licensing

import (
	"context"

	"github.com/google/uuid"
)

// CustomerQuery selects one page of a tenant's customers, sorted by name
// (case-insensitively in ASCII, then by name as written, then by id).
type CustomerQuery struct {
	// Scope is the caller's: a reseller sees only its own customers.
	Scope Scope
	Page  Page
	// Search, when set, is a substring the name must contain,
	// case-insensitively in ASCII.
	Search string
	// Descending reverses the order.
	Descending bool
	// ResellerID, when set, narrows the list to that reseller's customers
	// (within the scope).
	ResellerID *uuid.UUID
}

// CustomerPage is one page of customers and how many match in all.
type CustomerPage struct {
	Items []Customer
	Total int
}

// ProviderInstancePage is one page of provider instances and how many
// the tenant has in all.
type ProviderInstancePage struct {
	Items []ProviderInstance
	Total int
}

// FoldASCII is the case folding of the customer search and of the sort
// orders of customers and provider instances: ASCII letters only, so that
// both stores give one answer (SQLite's lower() folds nothing else).
func FoldASCII(s string) string { return asciiLower(s) }

// Customers returns one page of the customers the principal may see.
func (s *Service) Customers(ctx context.Context, p Principal, q CustomerQuery) (CustomerPage, error) {
	q.Scope = p.Scope()
	return s.Store.Customers(ctx, q)
}

// CustomerByID returns one customer the principal may see; a customer
// outside the scope, or not of the reseller asked for, is NotFound.
func (s *Service) CustomerByID(ctx context.Context, p Principal, id uuid.UUID, reseller *uuid.UUID) (Customer, error) {
	return s.visibleCustomer(ctx, p, id, reseller)
}

// ProviderInstances returns one page of the tenant's provider instances,
// sorted by provider, then name, then id.
func (s *Service) ProviderInstances(ctx context.Context, p Principal, page Page) (ProviderInstancePage, error) {
	return s.Store.ProviderInstances(ctx, p.Scope().Tenant, page)
}
